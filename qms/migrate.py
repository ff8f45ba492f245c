"""Run the Alembic migrations from code (what `qms init` and the tests use).

Alembic is imported only to migrate: which revision is the newest, and which one a database is
at, are read without it, so that a command that only checks the schema starts fast."""

from __future__ import annotations

import ast
import re
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from qms.engine import normalise_url
from qms.resources import migrations_dir

if TYPE_CHECKING:
    from alembic.config import Config

VERSION_TABLE = "alembic_version"

# `revision: str = '0013'` and `down_revision: str | None = '0012'` (or a tuple, at a merge),
# as Alembic's script template writes them.
_DECLARED = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(url: str) -> Config:
    """Return an Alembic config for the database at the URL, wherever the package is installed."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.set_main_option("sqlalchemy.url", normalise_url(url).replace("%", "%%"))
    config.attributes["configure_logging"] = False
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database up to the revision."""
    from alembic import command

    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str = "base") -> None:
    """Migrate the database down to the revision."""
    from alembic import command

    command.downgrade(alembic_config(url), revision)


def _declared_head() -> str | None:
    """Return the one revision no other names as its parent, read from the scripts' text."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (migrations_dir() / "versions").glob("*.py"):
        # The identifiers stand near the top, as the template writes them; a script whose head
        # does not hold both is read whole.
        with path.open(encoding="utf-8") as script:
            head = script.read(4096)
            declared = dict(_DECLARED.findall(head))
            if not {"revision", "down_revision"} <= declared.keys():
                declared = dict(_DECLARED.findall(head + script.read()))
        if "revision" not in declared:
            continue
        revisions.add(ast.literal_eval(declared["revision"]))
        down = ast.literal_eval(declared.get("down_revision", "None"))
        parents.update([down] if isinstance(down, str) else down or ())
    heads = revisions - parents
    if len(heads) != 1:
        raise ValueError(f"{len(heads)} heads")
    return heads.pop()


def head_revision() -> str | None:
    """Return the newest revision the migrations define."""
    try:
        return _declared_head()
    except (ValueError, SyntaxError, TypeError):
        # Not as the template writes it, or several heads: let Alembic read (or refuse) them.
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """Return the revision the database is at."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
        if len(versions) <= 1:
            return versions[0][0] if versions else None
        from alembic.runtime.migration import MigrationContext

        # Several heads stamped: Alembic says so in its own words.
        return MigrationContext.configure(connection).get_current_revision()
