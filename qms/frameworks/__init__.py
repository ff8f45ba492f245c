"""Requirement frameworks the system ships (ISO 9001:2015, EMCC ISMCP, MENTOR's Elements) and the
evidence map that shows, requirement by requirement, what covers it and where the gaps are."""
