"""The pages' languages: the catalogues of qms.i18n, and the labels of stored values.

A text of the interface is written in English in the templates (`_("…")`) and the page modules
(`page.t("…")`), and looked up in the reader's catalogue; a stored value (a state, a severity, a
role) is shown by its label (qms/i18n/values.py), never as its code.
"""

from __future__ import annotations

from qms.i18n import DEFAULT_LANGUAGE, LANGUAGES, NAMES, negotiate, plural, translate
from qms.i18n import label as label_in

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "NAMES", "label", "negotiate", "plural", "translate"]


def label(value: str, lang: str) -> str:
    """Return a stored value (a state, a severity, a role) as a reader would say it."""
    return label_in(value, lang)
