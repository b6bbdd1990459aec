"""Backups of the whole database and restores from them."""
