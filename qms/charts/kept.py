"""Pictures of charts kept on disk, so that one chart is drawn once for every process.

A picture is named by what it shows and how it is drawn: a SHA-256 of the chart's panels (the
title and caption are the document's text, not the picture's), the resolution, and the drawing
code's version (draw.py's own source with matplotlib's and Pillow's versions), so a change to any
of them draws anew and nothing drawn by other code is ever taken. The folder is
QMS_CHART_CACHE_DIR, else one beside a SQLite database file (`qms.db.charts`); an empty
QMS_CHART_CACHE_DIR keeps nothing. Reading takes no lock of any kind: a picture is written to a
file of its own and renamed into place whole, so a reader finds it complete or not at all. The
folder keeps the most recently used pictures, at most KEPT of them.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import tempfile
from pathlib import Path

from qms.charts import Chart

# The most pictures kept; past it, the least recently used are removed down to TRIMMED.
KEPT = 2_000
TRIMMED = 1_600
_PNG = b"\x89PNG\r\n\x1a\n"
_END = b"IEND\xaeB`\x82"


@functools.cache
def _version() -> str:
    """The drawing code's version: its source and the libraries that draw and encode (read from
    their installed metadata: a process that finds its pictures kept never imports them)."""
    from importlib.metadata import version

    from qms.charts import draw

    source = Path(draw.__file__).read_bytes()
    libraries = f"|{version('matplotlib')}|{version('pillow')}"
    return hashlib.sha256(source + libraries.encode()).hexdigest()


def key(chart: Chart, dpi: int) -> str:
    """The name of the chart's picture: what it draws (its panels, as they are arranged) at
    this resolution by this code."""
    drawn = repr((chart.panels, chart.columns, dpi, _version()))
    return hashlib.sha256(drawn.encode()).hexdigest()


def folder() -> Path | None:
    """Where pictures are kept, or None where they are not."""
    from sqlalchemy.engine import make_url

    from qms.config import get_settings

    settings = get_settings()
    if settings.chart_cache_dir is not None:
        return Path(settings.chart_cache_dir) if settings.chart_cache_dir else None
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    database = Path(url.database)
    return Path(f"{database}.charts") if database.is_file() else None


def read(name: str) -> bytes | None:
    """The picture kept under the name, or None (not kept, or not whole)."""
    where = folder()
    if where is None:
        return None
    path = where / f"{name}.png"
    try:
        content = path.read_bytes()
    except OSError:
        return None
    if not (content.startswith(_PNG) and content.endswith(_END)):
        return None
    # Used now: the last to be trimmed.
    with contextlib.suppress(OSError):
        os.utime(path)
    return content


def write(name: str, content: bytes) -> None:
    """Keep the picture under the name: written aside, then renamed into place; a folder that
    cannot be written keeps nothing (the picture is drawn again next time)."""
    where = folder()
    if where is None:
        return
    try:
        where.mkdir(parents=True, exist_ok=True)
        handle, aside = tempfile.mkstemp(dir=where, prefix=".", suffix=".part")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(content)
            os.replace(aside, where / f"{name}.png")
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(aside)
            raise
        _trim(where)
    except OSError:
        return


def _trim(where: Path) -> None:
    """Remove the least recently used pictures past KEPT."""
    pictures = list(where.glob("*.png"))
    if len(pictures) <= KEPT:
        return
    used = []
    for path in pictures:
        with contextlib.suppress(OSError):
            used.append((path.stat().st_mtime, path))
    used.sort()
    for _, path in used[: len(used) - TRIMMED]:
        with contextlib.suppress(OSError):
            path.unlink()
