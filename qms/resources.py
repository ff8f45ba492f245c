"""Find the migrations and the procedure library, in a checkout or in an installed package."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _locate(packaged: str, checkout: str) -> Path:
    # A wheel carries the folder inside the package; an editable install or a checkout has it at
    # the top of the repository, beside the package.
    for candidate in (_PACKAGE / packaged, _PACKAGE.parent / checkout):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(
        f"cannot find the {checkout}/ folder next to or inside the qms package ({_PACKAGE})"
    )


def migrations_dir() -> Path:
    """Return the folder with the Alembic env.py and versions/."""
    return _locate("_migrations", "migrations")


def procedures_dir() -> Path:
    """Return the folder with the documented-procedure library."""
    return _locate("_procedures", "procedures")
