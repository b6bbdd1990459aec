"""Catalog mailing: campaigns, batches, mail pieces, selection and rendering."""
