"""A `qms` command starts fast: it imports only what it uses (bench/bench_cli_start.py times it)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from qms.cli import COMMANDS, app

HEAVY = ("alembic", "docx", "openpyxl", "qms.demo", "qms.documents.service", "uvicorn")

runner = CliRunner()


def _imported_after(code: str, env: dict[str, str] | None = None) -> list[str]:
    """Run the code in a new interpreter; return which heavy modules it imported."""
    probe = (
        f"{code}\nimport json, sys\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QMS_LANGUAGE": "en", **(env or {})},
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_command_imports_nothing_heavy() -> None:
    assert _imported_after("import qms.cli") == []


def test_help_imports_no_command() -> None:
    code = (
        "from typer.testing import CliRunner\n"
        "from qms.cli import app\n"
        "assert CliRunner().invoke(app, ['--help']).exit_code == 0\n"
        "import sys\n"
        "assert not [m for m in sys.modules if m.startswith('qms.cli.') and m != 'qms.cli.lazy'], "
        "[m for m in sys.modules if m.startswith('qms.cli.')]\n"
    )
    assert _imported_after(code) == []


def test_listing_deviations_imports_no_migration_tool_nor_document(fresh_db) -> None:
    url = fresh_db.engine.url.render_as_string(hide_password=False)
    code = (
        "from typer.testing import CliRunner\n"
        "from qms.cli import app\n"
        "r = CliRunner().invoke(app, ['deviations', 'list'])\n"
        "assert r.exit_code == 0, r.stderr\n"
    )
    assert _imported_after(code, {"QMS_DATABASE_URL": url}) == []


@pytest.mark.parametrize(
    "options", [[], ["--severity", "major", "--overdue", "--text", "pair", "--limit", "3"]]
)
def test_listing_deviations_reads_without_the_orm(fresh_db, options: list[str]) -> None:
    """The list is read with SQLAlchemy Core: no model mapped, no service, no settings class."""
    url = fresh_db.engine.url.render_as_string(hide_password=False)
    light = (
        "sqlalchemy.orm",
        "qms.models",
        "qms.deviations.models",
        "qms.deviations.service",
        "qms.accounts.service",
        "pydantic_settings",
        "babel.messages",
    )
    code = (
        "from typer.testing import CliRunner\n"
        "from qms.cli import app\n"
        f"r = CliRunner().invoke(app, ['deviations', 'list', *{options!r}])\n"
        "assert r.exit_code == 0, r.stderr\n"
        "import sys\n"
        f"loaded = [m for m in {light!r} if m in sys.modules]\n"
        "assert not loaded, loaded\n"
    )
    assert _imported_after(code, {"QMS_DATABASE_URL": url}) == []


def test_listing_users_imports_neither_the_demo_nor_the_backup(fresh_db) -> None:
    url = fresh_db.engine.url.render_as_string(hide_password=False)
    code = (
        "from typer.testing import CliRunner\n"
        "from qms.cli import app\n"
        "r = CliRunner().invoke(app, ['users', 'list'])\n"
        "assert r.exit_code == 0, r.stderr\n"
        "import sys\n"
        "assert 'qms.backup' not in sys.modules\n"
    )
    assert _imported_after(code, {"QMS_DATABASE_URL": url}) == []


@pytest.mark.parametrize(
    "command",
    [
        ["procedures", "list"],
        ["actions", "list"],
        ["tokens", "list"],
        ["audit", "verify"],
        ["frameworks", "list"],
        ["retention", "report"],
    ],
)
def test_each_command_runs_in_a_process_of_its_own(fresh_db, command: list[str]) -> None:
    """Run alone, a command's module finds every model it queries (none imported by another)."""
    url = fresh_db.engine.url.render_as_string(hide_password=False)
    done = subprocess.run(
        [sys.executable, "-c", "from qms.cli import app; app()", *command],
        capture_output=True,
        text=True,
        env={**os.environ, "QMS_LANGUAGE": "en", "QMS_DATABASE_URL": url, "COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr[-2000:]


def test_every_command_is_listed_with_its_own_help() -> None:
    """The help `qms --help` shows without importing a command is the command's own."""
    # The lazy group, read through click's Group interface (its `load` is its own).
    group: Any = typer.main.get_command(app)
    ctx = group.make_context("qms", ["--help"], resilient_parsing=True)
    for name in COMMANDS:
        listed = group.get_command(ctx, name)
        real = group.load(name)
        assert listed is not None
        assert listed.get_short_help_str(200) == real.get_short_help_str(200), name
    assert set(COMMANDS) >= {"deviations", "actions", "demo", "docs", "init", "users"}


def test_a_command_runs_after_lazy_loading() -> None:
    result = runner.invoke(app, ["deviations", "--help"])
    assert result.exit_code == 0
    assert "move" in result.stdout
    assert "No such command" in runner.invoke(app, ["deviation"]).stderr


def test_the_revisions_read_without_alembic_are_alembics(fresh_db) -> None:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    from qms import migrate

    script = ScriptDirectory.from_config(migrate.alembic_config("sqlite://"))
    assert migrate.head_revision() == script.get_current_head()
    with fresh_db.engine.connect() as connection:
        stamped = MigrationContext.configure(connection).get_current_revision()
    assert migrate.current_revision(fresh_db.engine) == stamped == script.get_current_head()


def test_listing_as_a_user_reads_as_that_user(fresh_db, monkeypatch) -> None:
    """The fast list still reads as the user named by `--as` (an unknown one refused by name),
    and --programme narrows it by the programme's code."""
    from qms.accounts import service as accounts
    from qms.config import get_settings
    from qms.permissions import Role
    from tests.factories import ADMIN, make_deviation, make_programme

    with fresh_db.unit_of_work() as session:
        mine, other = make_programme(session), make_programme(session)
        make_deviation(session, programme_id=mine.id, title="In mine")
        make_deviation(session, programme_id=other.id, title="In the other")
        accounts.create_user(session, actor=ADMIN, name="lead-one", role=Role.quality_lead)
    url = fresh_db.engine.url.render_as_string(hide_password=False)
    monkeypatch.setenv("QMS_DATABASE_URL", url)
    get_settings.cache_clear()
    both = runner.invoke(app, ["deviations", "list", "--format", "json", "--as", "lead-one"])
    assert both.exit_code == 0, both.stderr
    assert {d["title"] for d in json.loads(both.stdout)["items"]} == {"In mine", "In the other"}
    mine_only = runner.invoke(
        app, ["deviations", "list", "--format", "json", "--programme", mine.code]
    )
    assert [d["title"] for d in json.loads(mine_only.stdout)["items"]] == ["In mine"]
    unknown = runner.invoke(app, ["deviations", "list", "--as", "nobody"])
    assert unknown.exit_code == 2
    assert "nobody" in unknown.stderr
    get_settings.cache_clear()
