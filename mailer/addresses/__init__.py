"""Addresses: normalization, validity and the history of every change."""
