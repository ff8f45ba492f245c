"""Retention: how long each kind of record is kept, what is due for disposition, and the recorded
decisions that dispose of it (removed or pseudonymised; the audit trail itself is never touched)."""
