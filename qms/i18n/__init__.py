"""The reader's language: gettext catalogues (Babel) for English, Norwegian bokmål and Swedish.

Every text a person reads is written in English in the code and the templates, marked for
extraction (`_()` in templates, `t()`/`translate()`/`N_()` in Python), and looked up in the
catalogue of the reader's language: qms/locale/<language>/LC_MESSAGES/messages.po, compiled to
.mo in the wheel. Dates, times and numbers are formatted by Babel for the reader's locale.

    pybabel extract -F babel.cfg -o qms/locale/messages.pot .
    pybabel update -i qms/locale/messages.pot -d qms/locale
    pybabel init -i qms/locale/messages.pot -d qms/locale -l da   # a fourth language
"""

from __future__ import annotations

import gettext
import io
import logging
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

# Babel and the settings are imported where a date, a number, a list or a .po file is first
# formatted or read: a command that prints none starts without them (see tests/test_cli_start.py).
if TYPE_CHECKING:
    from babel import Locale

    from qms.config import Settings

log = logging.getLogger("qms.i18n")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"
# English is the language of the texts themselves; the others are the catalogues found in
# qms/locale, so a language is added by `pybabel init … -l da` and translating its .po.
DEFAULT_LANGUAGE = "en"
LANGUAGES = (
    DEFAULT_LANGUAGE,
    *sorted({path.parent.parent.name for path in LOCALE_DIR.glob("*/LC_MESSAGES/messages.[pm]o")}),
)


@cache
def _territory(language: str) -> str:
    """The locale a language formats dates and numbers in: its most likely country by CLDR
    (nb → nb_NO, sv → sv_SE, da → da_DK); English as written in Europe (en_GB)."""
    if language == DEFAULT_LANGUAGE:
        return "en_GB"
    from babel.core import get_global

    likely = get_global("likely_subtags").get(language, language)
    parts = likely.split("_")
    return f"{parts[0]}_{parts[-1]}" if len(parts) > 1 else parts[0]


@cache
def _locales() -> dict[str, str]:
    return {language: _territory(language) for language in LANGUAGES}


@cache
def _names() -> dict[str, str]:
    # Each language named in itself, for the switch ("Norsk bokmål", "Svenska").
    from babel import Locale

    return {
        language: (Locale.parse(language).get_display_name(language) or language).capitalize()
        for language in LANGUAGES
    }


# LOCALES (a language's locale for dates and numbers) and NAMES (each language named in itself)
# are read from CLDR's data when first used, not on import: a command that shows neither (most of
# the command line's) does not load every language's data to start.
if TYPE_CHECKING:
    LOCALES: dict[str, str]
    NAMES: dict[str, str]
else:

    def __getattr__(name: str) -> dict[str, str]:
        if name == "LOCALES":
            return _locales()
        if name == "NAMES":
            return _names()
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def get_settings() -> Settings:
    """Return the settings (the organisation's time zone), read when first needed."""
    from qms.config import get_settings as read

    return read()


def N_(text: str) -> str:
    """Mark a text for the catalogue where it is defined; it is translated where it is shown."""
    return text


@cache
def translations(language: str) -> gettext.NullTranslations:
    """Return the catalogue of a language: its compiled .mo, else its .po compiled in memory."""
    if language not in LANGUAGES or language == DEFAULT_LANGUAGE:
        return gettext.NullTranslations()
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    source, compiled = folder / f"{DOMAIN}.po", folder / f"{DOMAIN}.mo"
    # The wheel carries both; a checkout carries the .po the translators edit, and a .mo compiled
    # there by hand is used only while it is not older than its .po.
    if compiled.is_file() and (
        not source.is_file() or compiled.stat().st_mtime >= source.stat().st_mtime
    ):
        with compiled.open("rb") as handle:
            return gettext.GNUTranslations(handle)
    if not source.is_file():
        log.error("no catalogue for %s in %s: its texts are shown in English", language, folder)
        return gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with source.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def translate(text: str, language: str) -> str:
    """Return the text in the language (an English text is its own translation)."""
    return translations(language).gettext(text) if text else text


def label(value: str, language: str) -> str:
    """Return a stored value (a state, a severity, a role) as a reader says it, never its code."""
    # Imported here: the table of labels marks its words with N_ from this module.
    from qms.i18n.values import ACTIONS, VALUES

    words = VALUES.get(value) or ACTIONS.get(value) or value.replace("_", " ")
    return translate(words, language)


def field_label(name: str, language: str) -> str:
    """Return a field named in a refusal ("closure_summary", "requirements[1]") by its label, or
    as given where it is a column of someone's file or an option of the command line."""
    from qms.i18n.values import VALUES

    base = name.split("[")[0].split(".")[-1]
    return label(base, language) if base in VALUES else name


def plural(singular: str, several: str, n: int, language: str) -> str:
    """Return the singular or plural text for n, in the language."""
    return translations(language).ngettext(singular, several, n)


def negotiate(accept_language: str | None) -> str | None:
    """Return the language a browser's Accept-Language prefers among ours, if any: by its
    weights (q=0.9), the first named first among equals, never one weighted q=0."""
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate((accept_language or "").split(",")):
        code, *parameters = (piece.strip() for piece in part.split(";"))
        weight = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 0.0
        if code and weight > 0:
            code = code.replace("-", "_")
            # Norwegian without a written standard, or nynorsk, reads bokmål before English.
            if code.lower().split("_")[0] in ("no", "nn"):
                code = "nb"
            weighted.append((-weight, position, code))
    preferred = [code for _, _, code in sorted(weighted)]
    from babel import negotiate_locale

    chosen = negotiate_locale(preferred, list(LANGUAGES), sep="_")
    return chosen.split("_")[0] if chosen else None


@cache
def _locale(language: str) -> Locale:
    """The language's locale; only its own data is read (CLDR's likely countries not for
    English, nor every language's data for one)."""
    from babel import Locale

    return Locale.parse(_territory(language if language in LANGUAGES else DEFAULT_LANGUAGE))


def format_day(value: date | None, language: str, *, long: bool = False) -> str:
    """Return a date as the language writes it (nb 30.11.2026, sv 2026-11-30, en 30/11/2026)."""
    if value is None:
        return ""
    from babel import dates as babel_dates

    from qms.i18n.cldr import SHORT_DAY

    if not long and language in SHORT_DAY:
        # The language's pattern kept from CLDR: its figures need none of the locale's data.
        return babel_dates.format_date(value, SHORT_DAY[language], locale=_territory(language))
    return babel_dates.format_date(value, "long" if long else "short", locale=_locale(language))


def format_moment(value: datetime | None, language: str, *, timezone: str | None = None) -> str:
    """Return a date and time to the minute, in the time zone given, else the organisation's
    (QMS_TIMEZONE)."""
    if value is None:
        return ""
    from babel import dates as babel_dates

    zone = ZoneInfo(timezone or get_settings().timezone)
    return babel_dates.format_datetime(value, "short", tzinfo=zone, locale=_locale(language))


def format_number(value: float | int | None, language: str, *, digits: int = 2) -> str:
    """Return a number with the language's decimal sign, to at most `digits` decimals."""
    if value is None:
        return ""
    from babel import numbers as babel_numbers

    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return babel_numbers.format_decimal(value, format=pattern, locale=_locale(language))


def format_percent(ratio: float | None, language: str) -> str:
    """Return a ratio (0.917) as a per cent the language writes (nb 92 %, en 92%)."""
    if ratio is None:
        return ""
    from babel import numbers as babel_numbers

    return babel_numbers.format_percent(ratio, locale=_locale(language))


class Code(str):
    """A stored code (a field, a state, a kind) as a message's parameter: said by its label
    (closure_summary → "closure summary", action_required → "action required"), never as is."""


class Either(tuple[object, ...]):
    """Choices as a message's parameter, joined as the language says "a, b or c"."""


class Text(str):
    """A message a person reads: an English sentence from the catalogue with its parameters.

    It is an English string wherever it goes (logs, tests, a problem's default), and is said again
    in the reader's language where it is shown (`said`): the sentence from the catalogue, each
    parameter formatted for the language — a date or time as the language writes it, a stored
    value (an enum member) or a `Code` by its label, a list joined as the language joins one."""

    msgid: str
    params: dict[str, object]

    def __new__(cls, msgid: str, **params: object) -> Text:
        self = super().__new__(cls, _fill(msgid, params, DEFAULT_LANGUAGE))
        self.msgid = msgid
        self.params = params
        return self

    def __reduce__(self) -> tuple[object, ...]:
        return (_rebuild, (self.msgid, self.params))

    def in_language(self, language: str) -> str:
        """Return the message in the language."""
        return _fill(translate(self.msgid, language), self.params, language)


def _rebuild(msgid: str, params: dict[str, object]) -> Text:
    return Text(msgid, **params)


def said(text: str, language: str) -> str:
    """Return a message in the language: a `Text` with its parameters, else a catalogue text."""
    if isinstance(text, Text):
        return text.in_language(language)
    return translate(text, language)


def _shown(value: object, language: str) -> str:
    # Imported here: enum is only needed to recognise stored values.
    from enum import Enum

    if isinstance(value, Text):
        return value.in_language(language)
    if isinstance(value, Code):
        return label(str(value), language)
    if isinstance(value, Enum):
        return label(str(value.value), language)
    if isinstance(value, datetime):
        return format_moment(value, language)
    if isinstance(value, date):
        return format_day(value, language)
    if isinstance(value, bool):
        word = N_("yes") if value else N_("no")
        return translate(word, language)
    if isinstance(value, float):
        return format_number(value, language)
    if isinstance(value, Either):
        from babel import lists as babel_lists

        choices = [_shown(item, language) for item in value]
        return babel_lists.format_list(choices, style="or", locale=_locale(language))
    if isinstance(value, list | tuple | set | frozenset):
        from babel import lists as babel_lists

        items = [_shown(item, language) for item in value]
        return babel_lists.format_list(items, locale=_locale(language)) if items else ""
    return str(value)


def _fill(template: str, params: dict[str, object], language: str) -> str:
    if not params:
        return template
    return template % {name: _shown(value, language) for name, value in params.items()}
