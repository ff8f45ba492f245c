"""The pages' two languages: English (the texts themselves) and Norwegian bokmål.

A text of the interface is written in English in the templates and looked up here; record values
(states, severities, roles) are looked up by their stored value. A test checks that every text
the templates use has its bokmål translation.
"""

from __future__ import annotations

LANGUAGES = ("en", "nb")

# Record values as shown in English (where the stored value is not already readable).
VALUES_EN: dict[str, str] = {}

NB: dict[str, str] = {}


def translate(text: str, lang: str) -> str:
    """Return the text in the language (English texts are their own translation)."""
    if lang == "nb":
        return NB.get(text, text)
    return text


def label(value: str, lang: str) -> str:
    """Return a stored value (a state, a severity, a role) as a reader would say it."""
    english = VALUES_EN.get(value, value.replace("_", " "))
    return translate(english, lang)
