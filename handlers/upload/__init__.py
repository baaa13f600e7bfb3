"""``--upload``: PUT and the listing's forms (uploads.py), their multipart parser (multipart.py), and
the refusal of a write sent for another origin's page (crossorigin.py)."""
