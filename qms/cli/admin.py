"""`qms init`, `serve`, `users`, `tokens`, `audit verify` and `demo`: running the service."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text as Styled
from sqlalchemy import select
from sqlalchemy.engine import make_url

from qms import i18n, migrate
from qms.access import service as access
from qms.accounts import service as accounts
from qms.accounts import web as web_accounts
from qms.audit import service as audit
from qms.cli.common import (
    FormatOption,
    ListFormat,
    database_url,
    describe,
    err,
    failed,
    operator,
    out,
    print_records,
    report,
    shown,
    shown_moment,
    shown_number,
    sqlite_file,
    t,
    unit_of_work,
)
from qms.cli.notify import add_user_commands
from qms.db import utcnow
from qms.errors import FieldError, QMSError, ValidationFailed
from qms.exports import TOKEN_COLUMNS, USER_COLUMNS
from qms.i18n import Text
from qms.programmes.models import Programme

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from qms.permissions import Role

users_app = typer.Typer(help="Users and their roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="Bearer tokens: create, list, revoke.", no_args_is_help=True)
audit_app = typer.Typer(help="The hash-chained audit trail.", no_args_is_help=True)
keys_app = typer.Typer(
    help="The audit trail's signing key: make it, show its public half.", no_args_is_help=True
)

HostOption = Annotated[str, typer.Option(help="Interface to listen on.")]
PortOption = Annotated[int, typer.Option(help="Port to listen on.")]


def init() -> None:
    """Create or upgrade the database to the newest schema (QMS_DATABASE_URL)."""
    url = database_url()
    path = sqlite_file(url)
    made = path is not None and not path.exists()
    migrate.upgrade(url)
    said = (
        t("created the database %(database)s at revision %(revision)s")
        if made
        else t("database %(database)s is at revision %(revision)s")
    )
    err.print(said % {"database": describe(url), "revision": migrate.head_revision()}, markup=False)
    _sign_trail(made=made)


def _sign_trail(*, made: bool) -> None:
    """Make the trail's signing key if there is none; for a database just made, put aside the
    checkpoints of one that was at the same place before (they vouch for its events)."""
    from qms.audit import checkpoints

    outside = checkpoints.checkpoint_file()
    if made and outside is not None and outside.exists():
        aside = outside.with_name(f"{outside.name}.{utcnow():%Y%m%dT%H%M%S}")
        outside.rename(aside)
        err.print(
            t("the checkpoints of the database that was here before are kept in %(file)s")
            % {"file": aside},
            markup=False,
        )
    key = checkpoints.key_file()
    if key is None:
        err.print(
            t(
                "the audit trail is not signed: set QMS_SIGNING_KEY_FILE to a file outside the "
                "database and run `qms keys create`"
            ),
            markup=False,
        )
    elif not key.exists():
        _print_public(checkpoints.create_key(key), key, made=True)


def _print_public(public: Ed25519PublicKey, path: Path, *, made: bool) -> None:
    from qms.audit import checkpoints

    said = (
        t("made the audit trail's signing key %(file)s; give its public half to the auditor:")
        if made
        else t("the public half of the audit trail's signing key %(file)s:")
    )
    err.print(said % {"file": path}, markup=False)
    out.print(f"QMS_PUBLIC_KEY={checkpoints.public_text(public)}", markup=False)


@keys_app.command("create")
def keys_create(
    file: Annotated[
        Path | None,
        typer.Option(help="Where to keep the key (default: QMS_SIGNING_KEY_FILE)."),
    ] = None,
) -> None:
    """Make the signing key of the audit trail's checkpoints; print its public half."""
    from qms.audit import checkpoints

    path = file or checkpoints.key_file()
    if path is None:
        report(
            ValidationFailed(
                Text("Say where to keep the key."),
                [FieldError("file", Text("Give --file, or set QMS_SIGNING_KEY_FILE."))],
            )
        )
        raise typer.Exit(2)
    if path.exists():
        report(
            ValidationFailed(
                Text("%(file)s exists already: a key is never overwritten.", file=str(path))
            )
        )
        raise typer.Exit(2)
    _print_public(checkpoints.create_key(path), path, made=True)


@keys_app.command("public")
def keys_public() -> None:
    """Print the public half of the signing key, for the auditor."""
    from qms.audit import checkpoints

    key = checkpoints.signing_key()
    path = checkpoints.key_file()
    if key is None or path is None:
        report(ValidationFailed(Text("There is no signing key: run `qms keys create`.")))
        raise typer.Exit(2)
    _print_public(key.public_key(), path, made=False)


def serve(host: HostOption = "127.0.0.1", port: PortOption = 8000, workers: int = 1) -> None:
    """Serve the API with uvicorn."""
    import uvicorn

    with unit_of_work(write=False):
        pass
    err.print(
        t("serving on %(address)s — API docs at %(docs)s")
        % {"address": f"http://{host}:{port}", "docs": f"http://{host}:{port}/docs"}
    )
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise typer.BadParameter(
            t("must be one of: %(choices)s") % {"choices": ", ".join(r.value for r in Role)}
        ) from None


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[
        str, typer.Option(help="admin, quality_lead, coordinator, auditor or importer")
    ],
    expires_in: Annotated[
        int | None, typer.Option(help="The token expires after DAYS days.")
    ] = None,
    programme: Annotated[
        str | None, typer.Option(help="Limit the token to one programme (its code).")
    ] = None,
    display_name: Annotated[
        str | None,
        typer.Option(help='The name people read them by, e.g. "Kari Nordmann" (else the login).'),
    ] = None,
) -> None:
    """Create a user and print its first token (alone on stdout)."""
    chosen = _role(role)
    with unit_of_work() as session:
        actor = operator()
        accounts.create_user(
            session, actor=actor, name=name, role=chosen, display_name=display_name
        )
        issued = accounts.create_token(
            session,
            actor=actor,
            user_name=name,
            expires_in_days=expires_in,
            programme_code=programme,
        )
        secret = issued.secret
    err.print(
        t("created user %(name)s (%(role)s); its token is shown once:")
        % {"name": name, "role": shown(chosen.value)},
        markup=False,
    )
    print(secret)  # noqa: T201  (the token alone on stdout, for scripts)


@users_app.command("display-name")
def users_display_name(
    name: Annotated[str, typer.Argument(help="The user's login.")],
    display_name: Annotated[
        str, typer.Argument(help='The name people read them by; "" shows the login again.')
    ],
) -> None:
    """Change the name a user is shown by (their login and records stay as they are)."""
    with unit_of_work() as session:
        user = accounts.set_display_name(
            session, actor=operator(), user_name=name, display_name=display_name
        )
        shown_as = user.display_name
    if shown_as:
        message = t("%(name)s is shown as %(display_name)s") % {
            "name": name,
            "display_name": shown_as,
        }
    else:
        message = t("%(name)s is shown by their user name") % {"name": name}
    err.print(message, markup=False)


@users_app.command("password")
def users_password(
    name: str,
    stdin: Annotated[
        bool, typer.Option("--stdin", help="Read the password from standard input (scripts).")
    ] = False,
) -> None:
    """Set a user's password for the web front (asked twice, not shown); open sessions end."""
    if stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt(t("Password"), hide_input=True, confirmation_prompt=True)
    with unit_of_work() as session:
        web_accounts.set_password(session, actor=operator(), user_name=name, password=password)
    err.print(
        t("password of %(name)s set; they sign in at /sign-in") % {"name": name}, markup=False
    )


@users_app.command("deactivate")
def users_deactivate(
    name: str,
    reason: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
) -> None:
    """Deactivate a user: every token revoked, every browser session ended, no sign-in."""
    with unit_of_work() as session:
        accounts.set_active(session, actor=operator(), user_name=name, active=False, reason=reason)
    err.print(t("%(name)s is deactivated") % {"name": name}, markup=False)


@users_app.command("activate")
def users_activate(
    name: str,
    reason: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
) -> None:
    """Bring a deactivated user back (their old tokens stay revoked)."""
    with unit_of_work() as session:
        accounts.set_active(session, actor=operator(), user_name=name, active=True, reason=reason)
    err.print(t("%(name)s is active") % {"name": name}, markup=False)


add_user_commands(users_app)


@users_app.command("list")
def users_list(format: FormatOption = ListFormat.table) -> None:
    """List users: their login, the name they are shown by, their role."""
    with unit_of_work(write=False) as session:
        users = accounts.list_users(session, actor=operator())
        records = [
            {
                "name": user.name,
                "display_name": user.display_name,
                "role": user.role.value,
                "status": "active" if user.is_active else "deactivated",
                "email": user.email,
                "created_at": user.created_at.isoformat(),
            }
            for user in users
        ]
    if format is not ListFormat.table:
        print_records(format, USER_COLUMNS, records)
        return
    table = Table(t("User name"), t("Display name"), t("Role"), t("Status"), t("Created"))
    for user in users:
        table.add_row(
            Styled(user.name),
            Styled(user.display_name or ""),
            shown(user.role.value),
            shown("active" if user.is_active else "deactivated"),
            shown_moment(user.created_at),
        )
    out.print(table)


@tokens_app.command("create")
def tokens_create(
    user: str,
    expires_in: Annotated[int | None, typer.Option(help="Expire after DAYS days.")] = None,
    programme: Annotated[
        str | None, typer.Option(help="Limit to one programme (its code).")
    ] = None,
) -> None:
    """Issue a new token for a user and print it (alone on stdout)."""
    with unit_of_work() as session:
        issued = accounts.create_token(
            session,
            actor=operator(),
            user_name=user,
            expires_in_days=expires_in,
            programme_code=programme,
        )
        secret, token_id = issued.secret, issued.token.id
    err.print(
        t("token %(id)s for %(user)s; it is shown once:") % {"id": token_id, "user": user},
        markup=False,
    )
    print(secret)  # noqa: T201


@tokens_app.command("list")
def tokens_list(
    user: Annotated[str | None, typer.Option(help="Only this user's.")] = None,
    format: FormatOption = ListFormat.table,
) -> None:
    """List tokens (id, owner, prefix, scope, expiry, revocation); never their secrets."""
    with unit_of_work(write=False) as session:
        tokens = accounts.list_tokens(session, actor=operator(), user_name=user)
        # The programme a token is limited to, by its code as people know it.
        codes = dict(session.execute(select(Programme.id, Programme.code)).all())
        records = [
            {
                "id": token.id,
                # The login: what `--user` and the other commands take.
                "user": token.user.name,
                "prefix": token.prefix,
                "programme": codes.get(token.programme_id) if token.programme_id else None,
                "expires_at": token.expires_at.isoformat() if token.expires_at else None,
                "revoked_at": token.revoked_at.isoformat() if token.revoked_at else None,
            }
            for token in tokens
        ]
    if format is not ListFormat.table:
        print_records(format, TOKEN_COLUMNS, records)
        return
    table = Table(t("ID"), t("User"), t("Prefix"), t("Programme"), t("Expires"), t("Revoked"))
    for token, record in zip(tokens, records, strict=True):
        table.add_row(
            str(token.id),
            Styled(token.user.name),
            token.prefix + "…",
            str(record["programme"] or t("(all)")),
            shown_moment(token.expires_at) if token.expires_at else t("never"),
            shown_moment(token.revoked_at),
        )
    out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(
    token_id: Annotated[
        int | None, typer.Argument(help="The token's id (see `qms tokens list`).")
    ] = None,
    user: Annotated[str | None, typer.Option(help="Revoke every live token of this user.")] = None,
    reason: Annotated[str | None, typer.Option(help="Why, for the audit trail.")] = None,
) -> None:
    """Revoke a token by id, or every token of a user."""
    with unit_of_work() as session:
        if (token_id is None) == (user is None):
            raise ValidationFailed(
                i18n.Text("Name a token id or --user, not both and not neither."),
                [FieldError("token_id", i18n.Text("Give a token id or --user NAME."))],
            )
        if token_id is not None:
            accounts.revoke_token(session, actor=operator(), token_id=token_id, reason=reason)
            err.print(t("token %(id)s revoked") % {"id": token_id})
        else:
            assert user is not None
            n = accounts.revoke_all(session, actor=operator(), user_name=user, reason=reason)
            err.print(
                t("%(count)s token(s) of %(user)s revoked") % {"count": n, "user": user},
                markup=False,
            )


@audit_app.command("verify")
def audit_verify(
    public_key: Annotated[
        str | None,
        typer.Option(
            envvar="QMS_PUBLIC_KEY",
            help="The signing key's public half (base64), to check the checkpoints without "
            "the key itself.",
        ),
    ] = None,
    records: Annotated[
        bool,
        typer.Option(
            "--records",
            help="Also replay each record's events and hold the record as stored against the "
            "state they describe, naming each record changed behind the service's back.",
        ),
    ] = False,
) -> None:
    """Walk the audit chain and the access log and check their signatures; exit 0 if both are
    whole, 1 at the first broken event or batch."""
    with unit_of_work(write=False) as session:
        result = audit.verify(session, public_key=public_key)
        reads = access.verify(session, public_key=public_key)
    if result.ok:
        out.print(
            t("OK: %(count)s events, last hash %(hash)s")
            % {"count": shown_number(result.count), "hash": result.last_hash},
            soft_wrap=True,
        )
        if result.checkpoints is None:
            err.print(
                t("the signed checkpoints were not checked: there is no key to check them with"),
                markup=False,
            )
        else:
            err.print(
                t("%(count)s signed checkpoints hold, up to event %(seq)s")
                % {"count": shown_number(result.checkpoints), "seq": result.vouched_to},
                markup=False,
            )
        held = _access_log_verified(reads)
        if records:
            held = _records_verified() and held
        if not held:
            raise typer.Exit(1)
        return
    out.print(
        t("BROKEN at event %(seq)s: %(problem)s")
        % {"seq": result.first_broken_seq, "problem": result.problem},
        soft_wrap=True,
    )
    _access_log_verified(reads)
    if records:
        _records_verified()
    raise typer.Exit(1)


def _records_verified() -> bool:
    # Imported here: the replay reads every domain's tables, which plain verify never loads.
    from qms.cli.replay import records_verified

    return records_verified()


def _access_log_verified(result: access.AccessVerifyResult) -> bool:
    """Print what the access log's walk found; say whether it is whole."""
    if result.ok:
        out.print(
            t("access log OK: %(entries)s reads in %(batches)s batches, last hash %(hash)s")
            % {
                "entries": shown_number(result.entries),
                "batches": shown_number(result.batches),
                "hash": result.last_hash,
            },
            soft_wrap=True,
        )
        return True
    out.print(
        t("access log BROKEN at batch %(seq)s: %(problem)s")
        % {"seq": result.first_broken_batch, "problem": result.problem},
        soft_wrap=True,
    )
    return False


def demo(
    host: HostOption = "127.0.0.1",
    port: PortOption = 8000,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Build the data only.")] = False,
    reset: Annotated[
        bool, typer.Option("--reset", help="Delete the SQLite demo database file first.")
    ] = False,
) -> None:
    """Build the demo data set (two programmes), print tokens, and serve."""
    from qms import demo as demo_data

    url = database_url()
    parsed = make_url(url)
    if reset:
        if parsed.get_backend_name() != "sqlite" or not parsed.database:
            raise typer.BadParameter(t("--reset only deletes a SQLite database file"))
        for suffix in ("", "-wal", "-shm"):
            Path(parsed.database + suffix).unlink(missing_ok=True)
    path = sqlite_file(url)
    made = path is not None and not path.exists()
    migrate.upgrade(url)
    _sign_trail(made=made)
    with unit_of_work() as session:
        actor = operator()
        if demo_data.is_loaded(session):
            err.print(t("the demo data is there already; issuing fresh tokens"))
        elif not demo_data.is_empty(session):
            failed(
                t(
                    "%(database)s holds other data; the demo loads into an empty database only "
                    "(set QMS_DATABASE_URL, or use --reset on a SQLite file)"
                )
                % {"database": describe(url)}
            )
            raise typer.Exit(2)
        else:
            demo_data.load(session, operator=actor)
        tokens = demo_data.issue_tokens(session, operator=actor)
    err.print(t("demo data in %(database)s") % {"database": describe(url)}, markup=False)
    print(f"QMS_QUALITY_LEAD_TOKEN={tokens.quality_lead}")  # noqa: T201
    print(f"QMS_AUDITOR_TOKEN={tokens.auditor}")  # noqa: T201
    print(f"QMS_COORDINATOR_TOKEN={tokens.coordinator}")  # noqa: T201
    print(f"QMS_IMPORTER_TOKEN={tokens.importer}")  # noqa: T201
    print(f"QMS_DEMO_PASSWORD={tokens.password}")  # noqa: T201
    err.print(
        t(
            "web front: %(address)s — sign in as demo-quality-lead, demo-coordinator or "
            "demo-auditor with QMS_DEMO_PASSWORD"
        )
        % {"address": f"http://{host}:{port}/"}
    )
    sys.stdout.flush()
    if not no_serve:
        serve(host=host, port=port)


@audit_app.command("export")
def audit_export(
    target: Annotated[Path, typer.Argument(help="The JSON Lines file to write.")],
) -> None:
    """Write the audit trail as JSON Lines, one event a line, in chain order."""
    with unit_of_work(write=False) as session, target.open("w", encoding="utf-8") as handle:
        count = audit.export_jsonl(session, handle)
    err.print(
        t("%(count)s events written to %(file)s") % {"count": count, "file": target}, markup=False
    )


def backup(target: Annotated[Path, typer.Argument(help="The backup file to write.")]) -> None:
    """Back up the database (SQLite: online backup; PostgreSQL: pg_dump)."""
    from qms import backup as backups

    with unit_of_work(write=False):
        pass
    try:
        backups.backup(database_url(), target)
    except QMSError as exc:
        report(exc)
        raise typer.Exit(2) from exc
    err.print(
        t("backed up %(database)s to %(file)s")
        % {"database": describe(database_url()), "file": target},
        markup=False,
    )


def restore(source: Annotated[Path, typer.Argument(help="The backup file to restore.")]) -> None:
    """Restore a backup into an empty database, then verify the audit chain."""
    from qms import backup as backups

    url = database_url()
    try:
        result = backups.restore(url, source)
    except QMSError as exc:
        report(exc)
        raise typer.Exit(2) from exc
    if not result.ok:
        out.print(
            t("BROKEN at event %(seq)s: %(problem)s")
            % {"seq": result.first_broken_seq, "problem": result.problem},
            soft_wrap=True,
        )
        err.print(
            t("nothing restored: %(database)s is left empty") % {"database": describe(url)},
            markup=False,
        )
        raise typer.Exit(1)
    err.print(
        t("restored %(file)s into %(database)s") % {"file": source, "database": describe(url)},
        markup=False,
    )
    out.print(
        t("OK: %(count)s events, last hash %(hash)s")
        % {"count": shown_number(result.count), "hash": result.last_hash},
        soft_wrap=True,
    )
