"""The pages fuzzed as a browser nobody here wrote: every form they offer, sent back wrong.

For each role a crawler signs in, follows the pages' links (a few records of each kind, over the
demo data), reads every form a page offers and sends it back many ways: as offered, with a value
of the wrong kind, too long, with control characters or markup, a date that does not exist, a
number past any column, a field missing, twice or unknown, an id of a record that is not there,
bytes that are not UTF-8. Whatever comes back:

- no answer is a 5xx;
- a refused change keeps nothing: no row more or less, no event but the reader's own;
- an accepted change leaves its event in the audit trail;
- a redirect stays on this site;
- markup sent in a form is shown as text, never as markup, on the answer and on every page
  read after it.

A few sends per form in CI; `pytest tests/test_web_fuzz.py --thorough` sends many more, from a
new seed each run (the seed is in every failure's message).
"""

from __future__ import annotations

import hashlib
import io
import random
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import pytest
from docx import Document
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import LargeBinary, func, select
from sqlalchemy.orm import Session

from api.routing import page_routes
from api.web.core import PagePermission, digits_at_most
from qms.accounts.models import User
from qms.audit.models import AuditEvent
from qms.audit.service import verify
from qms.audits.models import InternalAudit, ManagementReview
from qms.db import Database
from qms.demo import load
from qms.deviations.models import Deviation
from qms.documents.models import IssuedDocument
from qms.frameworks.catalogue import frameworks
from qms.models import Base
from qms.permissions import Action, Role, can
from qms.procedures.models import Procedure
from qms.programmes.models import Cohort, Programme
from tests.conftest import make_client
from tests.factories import ADMIN, make_token
from tests.test_authorization import declared_action
from tests.web import PageForm, read_page, sign_in, web_user

# The admin comes last: its forms manage the other users (passwords, deactivation).
ROLES = [Role.quality_lead, Role.coordinator, Role.auditor, Role.admin]
# Pages read once per kind of address are enough to find every form; a record's forms depend on
# its state, so a few records of each kind are read.
RECORDS_PER_KIND = 4
# Forms that end the reader's session or only choose a language are not changes to the records.
NOT_CHANGES = {"/sign-out", "/language", "/sign-in"}
SKIPPED = {"/sign-out"}
LANGS = ("en", "nb")

NASTY = [
    "",
    " ",
    "0",
    "-1",
    "1.5",
    "2147483648",
    "9223372036854775808",
    "9" * 40,
    "1e309",
    "NaN",
    "abc",
    "true",
    "null",
    "\x00",
    "a\x00b",
    "\x07\x1b[31m",
    "\u202etxt.exe",
    "<script>alert(1)</script>",
    "\"'><img src=x onerror=alert(1)>",
    "' OR 1=1 --",
    "2026-02-30",
    "0001-01-01",
    "9999-12-31",
    "28.11.2026",
    "x" * 20_000,
    "\U0001f642" * 300,
    "../../etc/passwd",
    "\r\n",
    "%00",
]
# What a file field gets: nothing, garbage, files that look like what is asked and are not.
FILES = [
    ("empty.csv", b""),
    ("garbage.csv", bytes(range(256)) * 8),
    ("header-only.csv", b"participant,instrument,question,answer,submitted_at\n"),
    (
        "semicolons.csv",
        "\ufeffparticipant;instrument;question;answer\nP-0001;FINAL;SAT;4,5\n".encode(),
    ),
    ("ragged.csv", b'participant,outcome,date\nP-0001,employed_full_time\n,,,,,,\n"unclosed\n'),
    ("long-field.csv", b"participant,instrument,question,answer\n" + b"x" * 300_000 + b",A,B,C\n"),
    ("not-a-zip.xlsx", b"PK\x03\x04 this is not a workbook"),
    ("deep.json", b"[" * 5000 + b"]" * 5000),
    ("deep.jsonl", b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"\n"),
    ("garbage.json", b"\xff\xfe" + bytes(range(256)) * 8),
    ("lines.jsonl", b'{"participant": "P-0001", "outcome": "employed_full_time"}\n{not json}\n'),
    ("answers.pdf", b"%PDF-1.7"),
    ("no-ending", b"participant\n"),
    ("latin1.csv", "participant,note\nP-0001,Bjørn Ærø\n".encode("latin-1")),
]
# The markup among them, as it would stand in a page that did not escape it.
MARKUP = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>")
IDS = ["0", "999999999", "2147483648", "9223372036854775807", "9223372036854775808", "9" * 30]


@pytest.fixture(scope="module")
def fuzz_seed(request: pytest.FixtureRequest) -> tuple[int, int]:
    """Return the seed and the sends per form: fixed in CI, new and many more when thorough."""
    if request.config.getoption("--thorough"):
        return random.SystemRandom().randrange(2**32), 40
    return 20261128, 5


# What a read or a sign-in touches, not a record: sessions and accounts (last seen), the trail,
# the access log (an auditor's reads) and failed attempts at a password (a sign-in's, or a
# signature's: a wrong password typed to sign is counted like a failed sign-in, on purpose).
SIGN_IN_AND_READS = frozenset(
    {"web_session", "user_account", "audit_event", "audit_chain_head", "auth_failure"}
    | {"access_entry", "access_batch", "access_log_head"}
)


def _state(session: Session) -> dict[str, str]:
    """Fingerprint every table's rows but the sessions, the accounts and the trail: what a read
    or a sign-in touches (last seen, failed sign-ins, read events) is left out.

    The rows are read as the driver gives them: what is compared is what is stored, and it is
    quick enough to take after every send. An issued document's bytes stand in by their SHA-256,
    kept beside them; `_documents_match_their_hashes` checks once at the end that they do."""
    connection = session.connection()
    quote = connection.dialect.identifier_preparer.quote
    state = {}
    for table in Base.metadata.sorted_tables:
        if table.name in SIGN_IN_AND_READS:
            continue
        columns = ", ".join(
            quote(column.name)
            for column in table.columns
            if not isinstance(column.type, LargeBinary)
        )
        order = ", ".join(quote(column.name) for column in table.primary_key.columns)
        rows = connection.exec_driver_sql(
            f"SELECT {columns} FROM {quote(table.name)} ORDER BY {order}"
        )
        digest = hashlib.sha256()
        for row in rows:
            for value in row:
                digest.update(repr(value).encode())
                digest.update(b"\x1f")
        state[table.name] = digest.hexdigest()
    return state


def _documents_match_their_hashes(session: Session) -> None:
    for number, content, sha256 in session.execute(
        select(IssuedDocument.id, IssuedDocument.content, IssuedDocument.sha256)
    ):
        assert hashlib.sha256(content).hexdigest() == sha256, number


def _changes(session: Session, after: int) -> list[str]:
    """Return the actions of the trail's events after seq `after`, but the readers' own."""
    return list(
        session.scalars(
            select(AuditEvent.action)
            .where(
                AuditEvent.seq > after, AuditEvent.action.not_in(("access.read", "login.failed"))
            )
            .order_by(AuditEvent.seq)
        )
    )


def _last_seq(session: Session) -> int:
    return session.scalar(select(func.max(AuditEvent.seq))) or 0


def _kind(address: str) -> str:
    """Name the kind of page an address shows: numbers and query values left out."""
    parts = urlsplit(address)
    keys = sorted({pair.split("=")[0] for pair in parts.query.split("&") if pair})
    return re.sub(r"\d+", "N", parts.path) + "?" + "&".join(keys)


def _unescaped(response: Any) -> list[str]:
    """Return the markup sent in earlier forms that an HTML answer shows as markup."""
    if not response.headers.get("content-type", "").startswith("text/html"):
        return []
    return [markup for markup in MARKUP if markup in response.text]


def crawl(client: Any) -> Iterator[tuple[str, PageForm]]:
    """Follow the pages' links from the overview; yield each page's forms as they are found."""
    seen: set[str] = set()
    per_kind: Counter[str] = Counter()
    queue = ["/"]
    while queue:
        address = queue.pop(0).split("#")[0]
        if address in seen or address.startswith(("/static/", "/sign-out")):
            continue
        seen.add(address)
        kind = _kind(address)
        per_kind[kind] += 1
        if per_kind[kind] > RECORDS_PER_KIND:
            continue
        r = client.get(address)
        assert r.status_code < 500, (address, r.status_code, r.text[:2000])
        if not r.headers.get("content-type", "").startswith("text/html"):
            continue
        assert _unescaped(r) == [], address
        links, forms = read_page(urlsplit(address).path, r.text)
        queue.extend(links)
        for form in forms:
            yield address, form


def _mutated(form: PageForm, rng: random.Random) -> tuple[str, list[tuple[str, str]], bytes | None]:
    """Return where to send the form, its fields after a few mutations, or a raw body instead."""
    action = form.action
    pairs = form.defaults()
    for control in form.fields.values():
        if control.kind in ("radio", "checkbox") and rng.random() < 0.7:
            pairs.append((control.name, rng.choice(control.options)))
    names = [name for name in form.fields if name != "csrf_token"]
    for _ in range(rng.randint(0, 3)):
        move = rng.random()
        if move < 0.45 and names:
            name = rng.choice(names)
            pairs = [(k, v) for k, v in pairs if k != name] + [(name, rng.choice(NASTY))]
        elif move < 0.6 and names:
            control = form.fields[rng.choice(names)]
            if control.options:
                value = rng.choice(control.options)
                pairs = [(k, v) for k, v in pairs if k != control.name] + [(control.name, value)]
        elif move < 0.7 and names:
            name = rng.choice(names)
            pairs = [(k, v) for k, v in pairs if k != name]
        elif move < 0.78 and names:
            pairs.append((rng.choice(names), rng.choice(NASTY)))
        elif move < 0.84:
            pairs.append((rng.choice(["id", "status", "role", "actor", "seq"]), rng.choice(NASTY)))
        elif move < 0.95 and re.search(r"/\d+", action):
            action = re.sub(r"/\d+", "/" + rng.choice(IDS), action, count=1)
        elif names:
            name = rng.choice(names)
            body = urlencode([p for p in pairs if p[0] != name]) + f"&{quote(name)}=%FF%FEx%C3"
            return action, pairs, body.encode()
    return action, pairs, None


def _send(
    client: Any,
    form: PageForm,
    action: str,
    pairs: list[tuple[str, str]],
    raw: bytes | None,
    rng: random.Random,
) -> Any:
    if form.multipart:
        files = [
            (control.name, rng.choice(FILES))
            for control in form.fields.values()
            if control.kind == "file" and rng.random() < 0.9
        ]
        data: dict[str, list[str]] = {}
        for name, value in pairs:
            data.setdefault(name, []).append(value)
        return client.post(action, data=data, files=files, follow_redirects=False)
    if form.method == "get":
        if raw is not None:
            return client.get(action + "?" + raw.decode())
        return client.get(action, params=pairs)
    body = raw if raw is not None else urlencode(pairs).encode()
    return client.post(
        action,
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        follow_redirects=False,
    )


@pytest.fixture(scope="module")
def fuzzed(new_database) -> Database:
    """A database of the fuzz's own, with the demo data and a web user of each fuzzed role."""
    database: Database = new_database()
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        for role in ROLES:
            web_user(session, role, f"fuzz-{role.value}")
    return database


@pytest.mark.slow(
    reason="follows every link and sends every form back wrong several ways, each checked against "
    "the database and the audit trail: about 20-35 s per role"
)
@pytest.mark.parametrize("role", ROLES, ids=lambda role: role.value)
def test_every_form_sent_back_wrong(fuzzed: Database, fuzz_seed, role: Role) -> None:
    seed, sends = fuzz_seed
    rng = random.Random(f"{seed}-{role.value}")
    client = make_client(fuzzed)
    assert sign_in(client, f"fuzz-{role.value}").status_code == 303
    with fuzzed.unit_of_work(write=False) as session:
        me = session.scalars(select(User.id).where(User.name == f"fuzz-{role.value}")).one()
    # A new password of one's own ends one's own session: the rest of the crawl would be
    # answered by the sign-in page alone.
    skipped = SKIPPED | {f"/users/{me}/password"}
    forms = changes = refusals = shown = 0
    # What the records were after the last send: the pages read in between change nothing, so a
    # change found after the next send is that send's (or a read's, which is as wrong).
    with fuzzed.unit_of_work(write=False) as session:
        before = _state(session)
    for page, form in crawl(client):
        if urlsplit(form.action).path in skipped:
            continue
        forms += 1
        for send in range(sends):
            action, pairs, raw = _mutated(form, rng)
            if send == 0 and raw is None:
                # Each form's first send carries markup in its first text field: what a page
                # shows back of it must come back as text.
                typed = [n for n, c in form.fields.items() if c.kind in ("text", "textarea")]
                if typed:
                    pairs = [(k, v) for k, v in pairs if k != typed[0]] + [(typed[0], MARKUP[0])]
            path = urlsplit(action).path
            with fuzzed.unit_of_work(write=False) as session:
                seq = _last_seq(session)
            r = _send(client, form, action, pairs, raw, rng)
            said = (seed, role.value, page, form.method, action, pairs if raw is None else raw)
            assert r.status_code < 500, (*said, r.status_code, r.text[:3000])
            assert _unescaped(r) == [], said
            shown += "&lt;script&gt;alert(1)&lt;/script&gt;" in r.text
            if r.is_redirect:
                location = r.headers["location"]
                assert location.startswith("/"), (*said, location)
                assert not location.startswith("//"), (*said, location)
                # Where a browser goes next: the record as changed, with what was typed.
                then = client.get(location)
                assert then.status_code < 500, (*said, location, then.status_code, then.text[:3000])
                assert _unescaped(then) == [], (*said, location)
                shown += "&lt;script&gt;alert(1)&lt;/script&gt;" in then.text
            if form.method == "get" or path in NOT_CHANGES:
                continue
            with fuzzed.unit_of_work(write=False) as session:
                after, events = _state(session), _changes(session, seq)
            changed = sorted(name for name in after if after[name] != before[name])
            before = after
            if r.status_code >= 400:
                refusals += 1
                assert (changed, events) == ([], []), (*said, r.status_code, changed, events)
            elif changed:
                changes += 1
                assert events, (*said, r.status_code, "changed without an event:", changed)
    assert forms >= (3 if role is Role.auditor else 8), forms
    if role is not Role.auditor:
        # The fuzz reached the services: some sends were refused by their rules, some went in,
        # and markup sent came back shown as text.
        assert refusals > 0
        assert changes > 0, forms
        assert shown > 0
    with fuzzed.unit_of_work(write=False) as session:
        assert verify(session).ok
        _documents_match_their_hashes(session)


@pytest.mark.slow(reason="issues every document kind, the audit pack too, over the fuzzed records")
def test_every_document_issues_over_what_the_fuzz_left(fuzzed: Database) -> None:
    """The records now hold what the forms let in (markup, the longest texts, emoji, right-to-left
    marks, the dates at the calendar's ends): every kind of document still issues over them and
    opens. Run alone, it issues them over the demo data."""
    with fuzzed.unit_of_work() as session:
        auditor = {"Authorization": f"Bearer {make_token(session, Role.auditor)}"}
        ids = {
            model.__tablename__: session.scalars(select(model.id).order_by(model.id)).all()
            for model in (Deviation, Procedure, Cohort, Programme, InternalAudit, ManagementReview)
        }
    whole = ["deviation-register", "master-list", "capa-status"]
    whole.append("management-review-input?period_start=1900-01-01&period_end=2999-12-31")
    whole += [f"evidence-map/{name}" for name in frameworks()]
    addresses = [f"{a}{'&' if '?' in a else '?'}language={lang}" for a in whole for lang in LANGS]
    for table, path in (
        ("deviation", "deviation-report/{}"),
        ("procedure", "procedure/{}"),
        ("cohort", "follow-up-report/{}"),
        ("programme", "quality-report/{}"),
        ("programme", "audit-pack?programme_id={}"),
        ("internal_audit", "audit-report/{}"),
        ("management_review", "management-review/{}"),
    ):
        addresses += [path.format(record) for record in ids[table]]
    client = make_client(fuzzed)
    for address in addresses:
        r = client.get(f"/api/v1/documents/{address}", headers=auditor)
        assert r.status_code == 200, (address, r.status_code, r.text[:1000])
        if "audit-pack" in address:
            assert zipfile.ZipFile(io.BytesIO(r.content)).testzip() is None
        else:
            assert Document(io.BytesIO(r.content)).paragraphs, address


@given(limit=st.integers(0, 2**40), number=st.integers(0, 2**41))
def test_an_address_id_matches_exactly_the_numbers_up_to_the_limit(limit, number) -> None:
    pattern = re.compile(f"(?:{digits_at_most(limit)})")
    assert bool(pattern.fullmatch(str(number))) == (number <= limit)


def test_an_id_past_any_record_is_not_found(client, session) -> None:
    sign_in(client, web_user(session, Role.auditor))
    for path in ("/deviations/2147483648", "/actions/99999999999999999999", "/imports/2147483647"):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("text/html")
    # The REST API keeps its problem documents for an address it does not serve.
    r = client.get("/api/v1/deviations/2147483648/nothing")
    assert r.status_code == 404
    assert r.headers["content-type"] == "application/problem+json"


# The pages' own authorization matrix, generated from their routes like the REST API's.
OPEN_PAGES = {"/sign-in", "/sign-out", "/language"}


def _page_permission(route: Any) -> Action | None:
    return declared_action(route, PagePermission)


def test_every_page_declares_what_it_needs(client) -> None:
    missing = [
        route.path
        for route in page_routes(client.app)
        if route.path not in OPEN_PAGES and _page_permission(route) is None
    ]
    assert missing == []
    # A page that changes records never asks only for a read permission.
    reads = [
        route.path
        for route in page_routes(client.app)
        if "POST" in (route.methods or ())
        and (action := _page_permission(route)) is not None
        and action.is_read
    ]
    assert reads == []


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.importer], ids=str)
def test_each_page_and_change_answers_each_role_as_the_table_says(client, session, role) -> None:
    sign_in(client, web_user(session, role))
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/").text).group(1)
    checked = 0
    for route in page_routes(client.app):
        action = _page_permission(route)
        if action is None:
            continue
        # An id no record has: an allowed role gets past the permission to a 404 (or a refusal
        # of the empty form), one without the permission is stopped at 403.
        path = re.sub(r"\{[^}]+\}", "999999", route.path)
        for method in sorted(route.methods or ()):
            if method == "GET":
                r = client.get(path)
            else:
                r = client.post(path, data={"csrf_token": token}, follow_redirects=False)
            said = (role.value, method, route.path, action.value, r.status_code)
            if can(role, action):
                assert r.status_code != 403, said
                assert r.status_code < 500, said
            else:
                assert r.status_code == 403, said
            checked += 1
    assert checked >= 50
