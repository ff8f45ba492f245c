"""Competence and awareness (ISO 9001 7.2, 7.3): what each role needs, who was trained, who read."""
