"""Churn: the BG/NBD purchase model, returned-mail evidence and the explained churn risk."""
