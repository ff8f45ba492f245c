"""Uploaded import files: spooled to disk within the limit, and a wide file's column mapping.

Shared by the REST API and the import page.
"""

from __future__ import annotations

import json
from pathlib import Path

from starlette.datastructures import UploadFile

from qms.config import get_settings
from qms.errors import FieldError, TooLarge, ValidationFailed
from qms.i18n import Text


def spool(upload: UploadFile, folder: Path) -> Path:
    """Copy an uploaded file to the folder, in chunks, refusing it past the import limit."""
    limit = get_settings().import_max_bytes
    target = folder / "upload"
    written = 0
    with target.open("wb") as handle:
        while chunk := upload.file.read(1 << 20):
            written += len(chunk)
            if written > limit:
                raise TooLarge(
                    Text(
                        "The file is larger than %(limit)s bytes: send a smaller one.", limit=limit
                    )
                )
            handle.write(chunk)
    return target


def mapping_of(raw: str | None) -> dict[str, str] | None:
    """Read a wide file's mapping (JSON: column header -> question code), or say what is wrong."""
    if raw is None:
        return None
    try:
        value = json.loads(raw)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationFailed(
            Text("The mapping cannot be read."),
            [
                FieldError(
                    "mapping",
                    Text(
                        "Give a JSON object of column header to question code, such as "
                        '{"Q1": "SAT"}.'
                    ),
                )
            ],
        )
    return value
