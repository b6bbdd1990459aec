"""Returned mail: the reason catalog, scanning and postal-file intake, and their effects."""
