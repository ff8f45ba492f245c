"""How many rows one page of a list holds, for the API, the pages and the command line."""

from __future__ import annotations

DEFAULT_LIMIT = 50
MAX_LIMIT = 200
