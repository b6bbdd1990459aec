"""Postal reference data: US ZIP codes and Chinese divisions with their postcodes, bundled and updatable."""
