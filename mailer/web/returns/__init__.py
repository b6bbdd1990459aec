"""Returned mail on the web: the JSON API mailroom stations and integrations record returns with."""
