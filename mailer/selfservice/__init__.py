"""Customers updating or confirming their own address through the link printed on the envelope."""
