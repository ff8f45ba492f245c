"""Alembic environment: the models' metadata is the target; SQLite migrates in batch mode."""

from __future__ import annotations

import logging.config
from typing import Any, Literal

from alembic import context
from sqlalchemy.engine import Connection

import qms.models  # noqa: F401  (registers every table on Base.metadata)
from qms.db import Base, UTCDateTime, make_engine, writer

config = context.config
if config.config_file_name is not None and config.attributes.get("configure_logging", True):
    logging.config.fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = Base.metadata


def _render_item(type_: str, obj: Any, _context: Any) -> str | Literal[False]:
    # Migrations speak plain SQLAlchemy: a UTC datetime is a timezone-aware DateTime column.
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        render_item=_render_item,
        # SQLite runs DDL in transactions too (the engine issues its own BEGIN), so a failed
        # migration leaves nothing half-done on either database.
        transactional_ddl=True,
    )


def run_migrations_offline() -> None:
    """Emit the migration SQL without a database."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url") or None,
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Migrate the database at hand (a connection given by the caller, or the configured URL)."""
    given = config.attributes.get("connection")
    if given is not None:
        _configure(given)
        with context.begin_transaction():
            context.run_migrations()
        return
    # Foreign keys stay off while SQLite tables are rebuilt in batch mode.
    engine = make_engine(config.get_main_option("sqlalchemy.url") or None, foreign_keys=False)
    try:
        with writer(engine).connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
