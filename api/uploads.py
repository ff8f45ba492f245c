"""Uploaded import files: spooled to disk within the limit, and a wide file's column mapping.

Shared by the REST API and the import page.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from starlette.datastructures import UploadFile

from qms.config import get_settings
from qms.errors import FieldError, TooLarge, ValidationFailed
from qms.i18n import Text


def _imports_root() -> Path:
    root = Path(tempfile.gettempdir()) / "qms-imports"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


@contextmanager
def import_folder() -> Iterator[Path]:
    """A folder for one upload while it is imported, removed after it; named by the process,
    so that one left by a process that was killed is found and removed (`remove_leftovers`)."""
    folder = _imports_root() / f"{os.getpid()}-{secrets.token_hex(8)}"
    folder.mkdir(mode=0o700)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_leftovers() -> int:
    """Remove the upload folders of processes that are gone (killed during an import); return
    how many. Run as the service starts."""
    removed = 0
    for folder in _imports_root().iterdir():
        pid, _, _ = folder.name.partition("-")
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


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


# A file read for its columns waits here until the mapping is chosen (an hour at most).
PENDING_SECONDS = 3600
_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _pending_root() -> Path:
    root = Path(tempfile.gettempdir()) / "qms-pending-imports"
    root.mkdir(mode=0o700, exist_ok=True)
    return root


def keep_pending(upload: UploadFile, owner: int | None) -> tuple[str, Path]:
    """Keep an uploaded file until its mapping is chosen; return its token and its path."""
    root = _pending_root()
    for old in root.iterdir():
        if time.time() - _kept_at(old) > PENDING_SECONDS:
            shutil.rmtree(old, ignore_errors=True)
    token = secrets.token_urlsafe(24)
    folder = root / token
    folder.mkdir(mode=0o700)
    path = spool(upload, folder)
    (folder / "owner").write_text(f"{owner}\n{upload.filename or 'upload'}", encoding="utf-8")
    # The moment it was kept, by the service's clock (the file system's may be another).
    (folder / "kept-at").write_text(repr(time.time()), encoding="utf-8")
    return token, path


def _kept_at(folder: Path) -> float:
    try:
        return float((folder / "kept-at").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return folder.stat().st_mtime


def pending(token: str, owner: int | None) -> tuple[Path, str]:
    """Return a kept file's path and name, for its owner only; or say it is gone."""
    folder = _pending_root() / token
    if _TOKEN.fullmatch(token) and (folder / "owner").is_file():
        who, _, name = (folder / "owner").read_text(encoding="utf-8").partition("\n")
        if who == str(owner) and time.time() - _kept_at(folder) <= PENDING_SECONDS:
            return folder / "upload", name
    raise ValidationFailed(
        Text("The file read before is no longer kept."),
        [FieldError("file", Text("Choose the file again."))],
    )


def drop_pending(token: str) -> None:
    """Forget a kept file."""
    if _TOKEN.fullmatch(token):
        shutil.rmtree(_pending_root() / token, ignore_errors=True)
