"""Reminders by e-mail: who is told what, the daily digest, and the log that sends each once."""
