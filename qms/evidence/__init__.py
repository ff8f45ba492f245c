"""Evidence files: uploaded files attached to a record, kept by their SHA-256 in the database."""
