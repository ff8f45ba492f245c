"""Internal audits (ISO 9001 9.2) and management reviews (9.3)."""
