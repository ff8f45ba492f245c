"""What a form or a request got wrong, said as a person would say it, in the reader's language.

Pydantic names each problem by a type (`missing`, `string_too_long`, `date_from_datetime_parsing`…)
with an English message for developers ("String should match pattern '^[^@\\s]+@…'"). A reader is
told instead what to do, with the limits the rule set: "Write at most 200 characters".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from babel.lists import format_list

from qms.i18n import LOCALES, N_, label, said, translate

# A pydantic error type → what to do about it (placeholders from the error's context).
MESSAGES: dict[str, str] = {
    "missing": N_("Fill in this field."),
    "string_too_short": N_("Write at least %(min_length)s characters."),
    "string_too_long": N_("Write at most %(max_length)s characters."),
    "string_type": N_("Enter text."),
    "string_pattern_mismatch": N_("Enter a value in the form this field asks for."),
    "int_parsing": N_("Enter a whole number."),
    "int_type": N_("Enter a whole number."),
    "int_from_float": N_("Enter a whole number."),
    "float_parsing": N_("Enter a number."),
    "float_type": N_("Enter a number."),
    "finite_number": N_("Enter a number."),
    "bool_parsing": N_("Choose yes or no."),
    "bool_type": N_("Choose yes or no."),
    "date_parsing": N_("Enter a date such as 2026-11-30."),
    "date_from_datetime_parsing": N_("Enter a date such as 2026-11-30."),
    "date_from_datetime_inexact": N_("Enter a date without a time."),
    "date_type": N_("Enter a date such as 2026-11-30."),
    "datetime_parsing": N_("Enter a date and time such as 2026-11-30T14:00."),
    "datetime_from_date_parsing": N_("Enter a date and time such as 2026-11-30T14:00."),
    "datetime_type": N_("Enter a date and time such as 2026-11-30T14:00."),
    "greater_than": N_("Enter more than %(gt)s."),
    "greater_than_equal": N_("Enter %(ge)s or more."),
    "less_than": N_("Enter less than %(lt)s."),
    "less_than_equal": N_("Enter %(le)s or less."),
    "too_short": N_("Give at least %(min_length)s."),
    "too_long": N_("Give at most %(max_length)s."),
    "enum": N_("Choose one of: %(expected)s."),
    "literal_error": N_("Choose one of: %(expected)s."),
    "extra_forbidden": N_("This field is not known here: leave it out."),
    "json_invalid": N_("The body is not valid JSON."),
    "list_type": N_("Give a list."),
    "dict_type": N_("Give an object of named fields."),
    "model_type": N_("Give an object of named fields."),
    "model_attributes_type": N_("Give an object of named fields."),
    "url_parsing": N_("Enter a web address such as https://example.org."),
    "uuid_parsing": N_("Enter an identifier in the form this field asks for."),
}
# Fields whose pattern is a known form: the message names it with an example.
PATTERNS: dict[str, str] = {
    "email": N_("Enter an e-mail address such as name@example.org."),
}


def _choices(expected: str, language: str, *, labels: bool) -> str:
    """Return pydantic's "'minor', 'major' or 'critical'" as the language lists them: the
    labels a form offers (mindre, større eller kritisk), or for a script each label with the code
    it sends (mindre ('minor'))."""
    codes = re.findall(r"'([^']*)'", expected)
    if not codes:
        return expected
    shown = [
        label(code, language) if labels else f"{label(code, language)} ('{code}')" for code in codes
    ]
    return format_list(shown, style="or", locale=LOCALES.get(language, "en_GB"))


def message(error: Mapping[str, Any], language: str, *, labels: bool = False) -> str:
    """Return what to do about one pydantic error, in the language (its own text if unknown);
    with `labels`, a choice is named by the words a form shows, not by its code."""
    kind = str(error.get("type", ""))
    if kind == "value_error":
        # A rule of the record's own ("the end must not be before the start"), said by the rule:
        # in the language where the rule gave a message of the catalogue.
        raised = (error.get("ctx") or {}).get("error")
        if isinstance(raised, ValueError) and raised.args and isinstance(raised.args[0], str):
            return said(raised.args[0], language)
        return str(error.get("msg", "")).removeprefix("Value error, ")
    loc = [str(part) for part in error.get("loc", ())]
    text = PATTERNS.get(loc[-1]) if loc and kind == "string_pattern_mismatch" else None
    text = text or MESSAGES.get(kind)
    if text is None:
        return str(error.get("msg", ""))
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    if kind in ("enum", "literal_error") and "expected" in context:
        context["expected"] = _choices(context["expected"], language, labels=labels)
    return translate(text, language) % context
