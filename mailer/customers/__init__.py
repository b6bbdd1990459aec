"""Customers: who we mail, their status and churn risk, and the customer file import."""
