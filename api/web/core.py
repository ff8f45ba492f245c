"""What every page shares: the signed-in user, CSRF, language, templates and running a change.

Pages call the same services as the REST API, as the signed-in user, so the permission table and
every rule hold in the browser exactly as over REST. A change runs in its own unit of work: when
the service refuses it, nothing is kept, and the form comes back with the server's messages beside
the fields.
"""

from __future__ import annotations

import enum
import hmac
import re
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton
from babel.numbers import format_percent
from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.datastructures import FormData

from api.deps import get_access_log, get_database
from api.problems import STATUS
from qms import i18n
from qms.accounts import service as accounts
from qms.accounts import web as web_accounts
from qms.audits import inputs as review_inputs
from qms.config import get_settings
from qms.db import Database
from qms.errors import FieldError, InvalidTransition, QMSError, ValidationFailed
from qms.fields import MAX_INT, in_calendar
from qms.i18n import Code, Either, Text, timeline, validation
from qms.i18n.values import VALUES
from qms.permissions import Action, Actor, forbidden


def digits_at_most(limit: int) -> str:
    """Return a regular expression for the decimal numbers from 0 to `limit` (exactly)."""
    text = str(limit)
    shorter = [f"[0-9]{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    lower = [
        f"{text[:i]}[0-{int(digit) - 1}][0-9]{{{len(text) - i - 1}}}"
        for i, digit in enumerate(text)
        if digit != "0"
    ]
    return "|".join([*shorter, *lower, text])


class IdConvertor(Convertor[int]):
    """A record's id in a page's address: a number no bigger than an id can be, else no page.

    An address with a number past any id answers 404 (as a record that is not there) instead of
    reaching the database with a number its columns cannot hold.
    """

    regex = f"(?:{digits_at_most(MAX_INT)})"

    def convert(self, value: str) -> int:
        return int(value)

    def to_string(self, value: int) -> str:
        return str(value)


register_url_convertor("id", IdConvertor())

SESSION_COOKIE = "qms_session"
# Set on the redirect after a save, read (and cleared) by the page it lands on, which says so.
SAVED_COOKIE = "qms_saved"
SAVED = Text("Saved.")
PRE_CSRF_COOKIE = "qms_csrf"
LANGUAGE_COOKIE = "qms_lang"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"

templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
# The language of the page being rendered, for `_()` and `label()` in templates and their macros.
_rendering_language: ContextVar[str] = ContextVar("rendering_language", default="en")
templates.env.add_extension("jinja2.ext.i18n")
# Old-style gettext: a translation is a plain text the template escapes like any other, so a
# message that carries what someone typed can be translated safely.
templates.env.install_gettext_callables(  # type: ignore[attr-defined]
    gettext=lambda text: i18n.translate(text, _rendering_language.get()),
    ngettext=lambda one, several, n: i18n.plural(one, several, n, _rendering_language.get()),
    newstyle=False,
)
templates.env.globals["label"] = i18n.label
templates.env.globals["CSRF_FIELD"] = CSRF_FIELD
# Whether a field of the page being rendered has taken the focus (the first one in error does).
_focus_taken: ContextVar[list[bool] | None] = ContextVar("focus_taken", default=None)


def _autofocus() -> str:
    """Return ` autofocus` for the first field in error of the page, nothing for the others."""
    taken = _focus_taken.get()
    if taken is None or taken:
        return ""
    taken.append(True)
    return " autofocus"


templates.env.globals["autofocus"] = _autofocus


# What the pages show for no value: an en dash.
NOTHING = "\u2013"
ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
ISO_MOMENT = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?")


def show_day(value: date | datetime | None, long: bool = False) -> str:
    """A date as the page's language writes it (`{{ d.due_on|day }}`); a moment's date is its
    day in the organisation's time zone, not in UTC (22:05 UTC on 14 July is the 15th in Oslo)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(ZoneInfo(get_settings().timezone))
        value = value.date()
    return i18n.format_day(value, _rendering_language.get(), long=long)


def show_month(value: str | date | None) -> str:
    """A month ("2026-10", or a date in it) as the language names it (oktober 2026)."""
    if not value:
        return ""
    try:
        first = date.fromisoformat(f"{value}-01") if isinstance(value, str) else value
    except ValueError:
        return str(value)
    lang = _rendering_language.get()
    locale = i18n.LOCALES.get(lang, i18n.LOCALES[i18n.DEFAULT_LANGUAGE])
    return format_skeleton("yMMMM", first, locale=locale)


def show_moment(value: datetime | None) -> str:
    """A moment to the minute in the organisation's time zone, as the page's language writes it
    (`{{ e.at|moment }}`)."""
    return i18n.format_moment(value, _rendering_language.get())


def show_number(value: float | int | None, digits: int = 2) -> str:
    """A figure with the language's decimal sign, without trailing zeros (6, 2,5)."""
    return i18n.format_number(value, _rendering_language.get(), digits=digits)


def show_percent(ratio: float | None, digits: int = 0) -> str:
    """A ratio (0.917) as a per cent the language writes (nb 92 %, en 92%), to `digits`
    decimals (an indicator's 66,7 % must not read as its plan of 67 %)."""
    if ratio is None:
        return ""
    lang = _rendering_language.get()
    if not digits:
        return i18n.format_percent(ratio, lang)
    # The locale's own pattern (where the sign goes, with or without a space), given decimals.
    locale = Locale.parse(i18n.LOCALES.get(lang, i18n.LOCALES[i18n.DEFAULT_LANGUAGE]))
    pattern = locale.percent_formats[None].pattern.replace("0", "0." + "#" * digits, 1)
    return format_percent(Decimal(str(ratio)), format=pattern, locale=locale)


def show_label(value: object) -> str:
    """A stored value (a state, an event, a field) by its label (`{{ e.action|label }}`)."""
    return i18n.label(str(value), _rendering_language.get()) if value is not None else ""


# Fields whose values are stored codes (a severity, a method): the trail shows them by label.
CODED_FIELDS = frozenset(
    {"severity", "kind", "source", "status", "root_cause_method", "type", "outcome", "role",
     "mode", "direction", "computation", "meaning", "respondent", "conformity", "unit", "rule",
     "owner_role", "purpose", "shape", "channel", "complainant_category", "acknowledge_roles",
     "obtained_by", "decision", "treatment"}
)  # fmt: skip


# The fields of a rule check's event that hold findings' keys.
FINDING_FIELDS = frozenset({"opened", "cleared", "recurred", "key"})


def show_recorded(value: Any, field: str | None = None) -> Any:
    """A value as the audit trail keeps it (JSON: a date or moment in ISO 8601, a number), shown
    as the language writes it; a stored code of a coded field by its label; any other value (what
    someone typed) as it is."""
    if isinstance(value, bool):
        return value
    if field in CODED_FIELDS and isinstance(value, str) and value in VALUES:
        return show_label(value)
    if field in FINDING_FIELDS and isinstance(value, str) and ":" in value:
        # A rule finding's key (meeting_rule:PAIR-0005:2025-07): the rule by its label, then
        # what and when it was found for.
        rule, _, rest = value.partition(":")
        return f"{show_label(rule)} {rest.replace(':', ' · ')}"
    if isinstance(value, list):
        # A list kept as JSON (requirements, linked records) reads as its items, not as Python.
        return ", ".join(str(show_recorded(item, field)) for item in value) or NOTHING
    if isinstance(value, dict):
        # An item kept as JSON (a requirement not applicable: its clause and why) reads as its
        # values, in order, never as Python's braces and quotes.
        return " — ".join(
            str(show_recorded(item, key)) for key, item in value.items() if item not in (None, "")
        )
    if isinstance(value, float):
        # A whole number is left as it is: an id or a year must not read 12 345.
        return show_number(value)
    if isinstance(value, str) and ISO_DAY.fullmatch(value):
        try:
            return show_day(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and ISO_MOMENT.fullmatch(value):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value
        # The trail keeps moments in UTC; one kept without its offset is UTC too.
        return show_moment(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    if isinstance(value, str) and len(value) > SHOWN_TEXT:
        # A long text (a procedure version's whole Markdown) is not spread over the trail's
        # line: its length is said; the record's page shows it, and the event keeps it whole.
        return ngettext(
            "(a text of %(count)s character)",
            "(a text of %(count)s characters)",
            len(value),
            _rendering_language.get(),
        ) % {"count": show_number(len(value))}
    return value


# The longest text value a line of the audit trail shows as it is.
SHOWN_TEXT = 600
# The catalogue's plural texts, by the name the extraction knows them by.
ngettext = i18n.plural

templates.env.filters["label"] = show_label
templates.env.filters["said"] = lambda text: i18n.said(text, _rendering_language.get())
# A cell of the management-review inputs (compiled in English, frozen when held) in the language.
templates.env.filters["input"] = lambda cell: review_inputs.say(
    str(cell), _rendering_language.get()
)
templates.env.globals["headline"] = lambda event, numbers: timeline.headline(
    event, _rendering_language.get(), numbers
)
templates.env.globals["timeline_changes"] = timeline.changes
templates.env.filters["day"] = show_day
templates.env.filters["recorded"] = show_recorded
templates.env.filters["month"] = show_month
templates.env.filters["moment"] = show_moment
templates.env.filters["number"] = show_number
templates.env.filters["percent"] = show_percent

T = TypeVar("T")


# Why a form is refused whose CSRF token is missing or wrong.
FORM_EXPIRED = Text("The form has expired or did not come from this site: reload the page.")


class WebProblem(Exception):
    """A page that cannot be shown: answered as an HTML page with the status."""

    def __init__(self, status: int, detail: str, *, sign_in: bool = False) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.sign_in = sign_in


def language(request: Request) -> str:
    """Return the reader's language: their choice, else what the browser prefers, else English."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in i18n.LANGUAGES:
        return chosen
    return i18n.negotiate(request.headers.get("accept-language")) or i18n.DEFAULT_LANGUAGE


@dataclass
class Page:
    """Who is reading, in which language, and the token their forms carry."""

    request: Request
    actor: Actor
    csrf_token: str
    lang: str
    session_id: int

    def can(self, action: str) -> bool:
        """Say whether the reader's role allows the action (to show or hide its controls)."""
        return self.actor.can(Action(action))

    def t(self, text: str) -> str:
        """Translate a text of the interface."""
        return i18n.translate(text, self.lang)


def _signed_in(request: Request) -> Page:
    """Return the signed-in reader of a request, or raise (to the sign-in page)."""
    secret = request.cookies.get(SESSION_COOKIE)
    database = get_database(request)
    signed = None
    if secret:
        with database.unit_of_work(write=False) as session:
            signed = web_accounts.session_of(session, secret)
    if signed is None:
        raise WebProblem(401, Text("Sign in to continue."), sign_in=True)
    if accounts.use_is_audited(signed.actor) and request.method == "GET":
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        accounts.record_access(
            get_access_log(request),
            actor=signed.actor,
            request=f"GET {target}",
            client=request.client.host if request.client else None,
        )
    return Page(
        request=request,
        actor=signed.actor,
        csrf_token=signed.csrf_token,
        lang=language(request),
        session_id=signed.session_id,
    )


async def signed_in(request: Request) -> Page:
    """Return the signed-in reader (the session is read in the thread pool)."""
    return await run_in_threadpool(_signed_in, request)


class PagePermission:
    """A page's dependency: signed in, allowed the action, and on a change, the right CSRF token."""

    def __init__(self, action: Action) -> None:
        self.action = action

    async def __call__(self, request: Request) -> Page:
        page = await signed_in(request)
        if request.method not in ("GET", "HEAD"):
            await check_csrf(request, page.csrf_token)
        if not page.actor.can(self.action):
            raise WebProblem(403, forbidden(page.actor.role, self.action))
        return page


def page_for(action: Action) -> Any:
    """Declare what a page needs: `page: Annotated[Page, page_for(Action.deviation_read)]`."""
    return Depends(PagePermission(action))


async def check_csrf(request: Request, expected: str) -> None:
    """Refuse a change whose form (or htmx header) does not carry the session's CSRF token."""
    given = request.headers.get(CSRF_HEADER)
    if given is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        given = value if isinstance(value, str) else None
    if not given or not hmac.compare_digest(given.encode(), expected.encode()):
        raise WebProblem(403, FORM_EXPIRED)


def render(
    page: Page | None,
    request: Request,
    template: str,
    status: int = 200,
    refusal: Refusal | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a template with the page's reader, language and CSRF token; with a refusal, under
    its status and with its messages beside the fields (`errors`)."""
    lang = page.lang if page else language(request)
    if refusal is not None:
        status = refusal.status
        context.setdefault("errors", refusal.fields)
    context.setdefault("errors", {})
    saved = status == 200 and page is not None and SAVED_COOKIE in request.cookies
    token = _rendering_language.set(lang)
    focus = _focus_taken.set([])
    try:
        response = templates.TemplateResponse(
            request,
            template,
            {
                "page": page,
                "lang": lang,
                "languages": i18n.NAMES,
                "t": lambda text: i18n.translate(text, lang),
                "refusal": refusal,
                "saved": i18n.said(SAVED, lang) if saved else "",
                **context,
            },
            status_code=status,
        )
        if refusal is not None and refusal.problems:
            _link_problems(response)
        if refusal is not None and not _focus_taken.get():
            # No field of the form is in error (a stale version, a move refused as a whole, a
            # field the form lacks): the refusal, with its links to the fields, takes the focus.
            _focus_refusal(response)
    finally:
        _focus_taken.reset(focus)
        _rendering_language.reset(token)
    if SAVED_COOKIE in request.cookies and status == 200:
        response.delete_cookie(SAVED_COOKIE, path="/")
    return response


_PROBLEM_LINK = re.compile(rb'<a href="#f-[^"]*" data-field="([^"]*)">(<strong>.*?</strong>)</a>')


def _link_problems(response: HTMLResponse) -> None:
    """Point each problem in the refusal's list at its field as the page shows it (in error,
    under its form's prefix); a problem whose field the page lacks stays, as text."""
    body = bytes(response.body)

    def resolve(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        shown = re.search(
            rb'id="(f-[^"]*)" name="' + re.escape(name) + rb'"[^>]*aria-invalid="true"', body
        )
        if shown:
            target = shown.group(1)
        elif b'id="f-' + name + b'"' in body:
            target = b"f-" + name
        else:
            return match.group(2)
        return b'<a href="#' + target + b'">' + match.group(2) + b"</a>"

    linked = _PROBLEM_LINK.sub(resolve, body)
    if linked != body:
        response.body = linked
        response.headers["content-length"] = str(len(linked))


def _focus_refusal(response: HTMLResponse) -> None:
    body = bytes(response.body)
    marked = body.replace(b'id="refusal"', b'id="refusal" autofocus', 1)
    if marked != body:
        response.body = marked
        response.headers["content-length"] = str(len(marked))


def see_other(url: str, *, saved: bool = True) -> RedirectResponse:
    """Answer a successful change with a redirect to the page that shows it (POST/redirect/GET);
    that page says the change was saved (unless `saved` is false: signing in is no save)."""
    response = RedirectResponse(url, status_code=303)
    if saved:
        response.set_cookie(SAVED_COOKIE, "1", max_age=60, httponly=True, samesite="lax", path="/")
    return response


@dataclass
class Refusal:
    """Why a change was refused: the status, the message, and the message beside each field."""

    status: int
    detail: str
    fields: dict[str, str]
    allowed: list[str] = field(default_factory=list)
    # An import's problems, row by row (row, column, why), shown as a table.
    rows: list[FieldError] = field(default_factory=list)
    # Every field's problem as (the field's label, why), listed above the form: a refusal about a
    # field the form does not show is never lost.
    problems: list[tuple[str, str, str]] = field(default_factory=list)


def _problem(name: str, message: str, lang: str) -> tuple[str, str, str]:
    """A field's problem for the list above a form: its label, why, and the field it links to."""
    shown = i18n.field_label(name, lang)
    return (shown[:1].upper() + shown[1:], message, name.split("[")[0].split(".")[-1])


def _refusal(exc: Exception, lang: str = i18n.DEFAULT_LANGUAGE) -> Refusal:
    if isinstance(exc, ValidationError):
        fields: dict[str, str] = {}
        for error in exc.errors():
            loc = [str(p) for p in error.get("loc", ())]
            message = validation.message(error, lang, labels=True)
            fields.setdefault(".".join(loc) or "form", message)
            if loc:
                fields.setdefault(loc[0], message)
        problems = [
            _problem(name, message, lang) for name, message in fields.items() if "." not in name
        ]
        return Refusal(
            422, i18n.translate("check the fields marked below", lang), fields, problems=problems
        )
    assert isinstance(exc, QMSError)
    status = next((STATUS[c] for c in type(exc).__mro__ if c in STATUS), 400)
    fields = {}
    rows: list[FieldError] = []
    if isinstance(exc, ValidationFailed):
        rows = [
            FieldError(problem.field, i18n.said(problem.message, lang), problem.row)
            for problem in exc.errors
            if problem.row is not None
        ]
        for problem in exc.errors:
            if problem.row is not None:
                continue
            message = i18n.said(problem.message, lang)
            fields.setdefault(problem.field, message)
            # Shown beside the form field too: "requirements[1]" belongs to "requirements".
            fields.setdefault(problem.field.split("[")[0].split(".")[0], message)
    allowed = exc.allowed if isinstance(exc, InvalidTransition) else []
    problems = [
        _problem(problem.field, i18n.said(problem.message, lang), lang)
        for problem in getattr(exc, "errors", [])
        if problem.row is None
    ]
    return Refusal(status, i18n.said(exc.detail, lang), fields, allowed, rows, problems)


def attempt(request: Request, work: Callable[[Database], T]) -> T | Refusal:
    """Run work that opens its own units of work; on a refusal, say why."""
    try:
        return work(get_database(request))
    except (ValidationError, QMSError) as exc:
        return _refusal(exc, language(request))


def perform(request: Request, change: Callable[[Session], T]) -> T | Refusal:
    """Run a change in its own unit of work; on a refusal it is rolled back and said why."""

    def work(database: Database) -> T:
        with database.unit_of_work() as session:
            return change(session)

    return attempt(request, work)


def read(request: Request, query: Callable[[Session], T]) -> T:
    """Run a page's reads in one read-only unit of work; a refusal becomes an error page."""
    try:
        with get_database(request).unit_of_work(write=False) as session:
            return query(session)
    except QMSError as exc:
        refusal = _refusal(exc, language(request))
        raise WebProblem(refusal.status, refusal.detail) from exc


async def problem_page(
    request: Request, status: int, detail: str, *, sign_in: bool = False
) -> Response:
    """Answer a page that cannot be shown: to the sign-in page, or an error page with the status."""
    if sign_in:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        url = "/sign-in" + ("" if target == "/" else f"?next={quote(target)}")
        if request.headers.get("HX-Request"):
            return Response(status_code=401, headers={"HX-Redirect": url})
        return RedirectResponse(url, status_code=303)
    page = None
    try:
        page = await signed_in(request)
    except WebProblem:
        pass
    shown = i18n.said(detail, language(request))
    return render(page, request, "problem.html", status=status, status_code=status, detail=shown)


def form_values(form: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """Return the named form fields that were filled in, stripped; empty ones are left out."""
    values = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str) and value.strip():
            values[name] = value.strip()
    return values


def form_version(form: Mapping[str, Any]) -> int | None:
    """Return the record version a form was read at (its hidden `version` field), if it is one."""
    value = form.get("version")
    if isinstance(value, str) and value.isdigit() and len(value) < 10:
        return int(value)
    return None


def with_numbers(values: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """Return the form's values with the named ones as whole numbers (ids are strict in the
    schemas: JSON sends numbers, a form sends text). Text that is no number stays, to be refused
    by name."""
    result = dict(values)
    for name in names:
        value = result.get(name)
        if isinstance(value, str) and value.isdigit() and len(value) < 12:
            result[name] = int(value)
    return result


def split_list(text: str | None) -> list[str]:
    """Split a list typed into one field (by commas or lines) into its items."""
    if not text:
        return []
    return [
        item.strip() for chunk in text.splitlines() for item in chunk.split(",") if item.strip()
    ]


async def _form(request: Request) -> FormData:
    return await request.form()


# A change's form, read before the (synchronous) route runs in the thread pool.
Form = Annotated[FormData, Depends(_form)]


def choices(values: Iterable[Any], lang: str, blank: str | None = None) -> list[tuple[str, str]]:
    """Return a select's options for stored values, labelled in the reader's language."""
    options = [("", blank)] if blank is not None else []
    return options + [(str(v), i18n.label(str(v), lang)) for v in values]


E = TypeVar("E", bound=enum.Enum)


class Params:
    """A query string or form, read leniently: a value that does not parse is named, not fatal."""

    def __init__(self, params: Mapping[str, Any]) -> None:
        self.params = params
        self.errors: dict[str, str] = {}

    def text(self, name: str, max_length: int = 200) -> str | None:
        raw = self.params.get(name)
        value = raw.strip() if isinstance(raw, str) else ""
        if len(value) > max_length:
            self.errors[name] = Text("Enter at most %(count)s characters.", count=max_length)
            return None
        return value or None

    def choice(self, name: str, kind: type[E]) -> E | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            return kind(value)
        except ValueError:
            self.errors[name] = Text(
                "Choose one of: %(choices)s.", choices=Either(Code(m.value) for m in kind)
            )
            return None

    def number(self, name: str) -> int | None:
        value = self.text(name)
        if value is None:
            return None
        if not value.isdigit() or not 1 <= int(value) <= MAX_INT:
            self.errors[name] = Text("Enter a whole number, 1 or more.")
            return None
        return int(value)

    def day(self, name: str) -> date | None:
        value = self.text(name)
        if value is None:
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            self.errors[name] = Text("Enter a date such as 2026-06-30.")
            return None
        try:
            return in_calendar(day)
        except ValueError as error:
            self.errors[name] = str(error)
            return None

    def flag(self, name: str) -> bool | None:
        value = self.text(name)
        if value is None:
            return None
        if value not in ("true", "false"):
            self.errors[name] = Text("Choose yes or no.")
            return None
        return value == "true"

    def sort(self, name: str, columns: Iterable[str]) -> str | None:
        """A list's order: one of its columns, or with a minus sign before it the other way."""
        value = self.text(name)
        if value is None:
            return None
        if value.removeprefix("-") not in columns:
            self.errors[name] = Text(
                "Sort by one of: %(choices)s (a minus sign before it for the other way round).",
                choices=Either(Code(c) for c in columns),
            )
            return None
        return value

    def values(self) -> dict[str, str]:
        """The query as given, to fill the filter form again."""
        return {k: v for k, v in self.params.items() if isinstance(v, str) and k != "cursor"}
