"""Keep the catalogues current: extract the marked texts, then bring every language up to date.

    python -m qms.i18n.catalogues            # after changing texts: .pot and every .po updated
    python -m qms.i18n.catalogues --check    # exit 1 when the .pot is not what the code marks

Each also writes (or, with --check, compares) qms/i18n/cldr.py: the languages' short date
patterns as CLDR has them, kept so that a date is written without loading a whole locale.

A new language: `pybabel init -i qms/locale/messages.pot -d qms/locale -l da`, then translate its
.po; qms.i18n finds it there.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

from babel.messages.pofile import read_po

from qms.i18n import LANGUAGES, LOCALE_DIR

ROOT = LOCALE_DIR.parent.parent
# The functions whose first argument is a text for the catalogue.
PYBABEL = (sys.executable, "-m", "babel.messages.frontend", "--quiet")
KEYWORDS = ("_", "gettext", "ngettext:1,2", "t", "translate", "N_", "title_in", "Text")


def extract(target: Path) -> None:
    """Write the template of every marked text (no locations: the diff shows texts only)."""
    keywords = [f"--keyword={k}" for k in KEYWORDS]
    subprocess.run(
        [*PYBABEL, "extract", "--no-default-keywords",
         *keywords, "--mapping-file", str(ROOT / "babel.cfg"), "--no-location", "--sort-output",
         "--omit-header", "--output-file", str(target), "--width", "100",
         "."],
        check=True,
        cwd=ROOT,
    )  # fmt: skip


def msgids(path: Path) -> set[str]:
    """Return the texts of a catalogue or template."""
    with path.open("rb") as handle:
        return {str(m.id) for m in read_po(handle) if m.id}


CLDR_MODULE = Path(__file__).resolve().parent / "cldr.py"


def cldr_module() -> str:
    """The text of qms/i18n/cldr.py as CLDR (through the installed Babel) has the patterns."""
    from babel.dates import get_date_format

    from qms.i18n import _territory

    patterns = {n: get_date_format("short", _territory(n)).pattern for n in LANGUAGES}
    lines = "".join(f"    {json.dumps(n)}: {json.dumps(p)},\n" for n, p in patterns.items())
    return (
        '"""Each language\'s short date pattern as CLDR has it, written from Babel\'s data by\n'
        "`python -m qms.i18n.catalogues` (do not edit): a short date is written with it without "
        "loading\nthe language's whole locale data (about 25 ms, once a process; a list shows a "
        'date a row)."""\n\n'
        f"SHORT_DAY = {{\n{lines}}}\n"
    )


def main() -> int:
    pot = LOCALE_DIR / "messages.pot"
    if "--check" in sys.argv:
        if CLDR_MODULE.read_text(encoding="utf-8") != cldr_module():
            sys.stdout.write(f"not CLDR's short date patterns: {CLDR_MODULE.name}\n")
            return 1
        with tempfile.TemporaryDirectory() as folder:
            fresh = Path(folder) / "messages.pot"
            extract(fresh)
            added, gone = msgids(fresh) - msgids(pot), msgids(pot) - msgids(fresh)
        for text in sorted(added):
            sys.stdout.write(f"not in the catalogue: {text!r}\n")
        for text in sorted(gone):
            sys.stdout.write(f"no longer in the code: {text!r}\n")
        return 1 if added or gone else 0
    extract(pot)
    CLDR_MODULE.write_text(cldr_module(), encoding="utf-8")
    for language in LANGUAGES[1:]:
        if not (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").is_file():
            sys.stderr.write(f"{language}: no catalogue yet (pybabel init … -l {language})\n")
            continue
        subprocess.run(
            [*PYBABEL, "update", "--input-file", str(pot),
             "--output-dir", str(LOCALE_DIR), "--locale", language, "--no-fuzzy-matching",
             "--width", "100", "--ignore-obsolete"],
            check=True,
        )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
