"""Orders: the purchase history behind recency, frequency, value and churn."""
