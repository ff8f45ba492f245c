"""`qms audit verify --records`: each record as stored held against its audit-trail events."""

from __future__ import annotations

from qms import i18n, replay
from qms.cli.common import err, language, out, shown_number, t, unit_of_work


def records_verified() -> bool:
    """Replay every record's events, print each record that is not as they describe it (as it
    is found), then a summary; say whether every record holds."""
    lang = language()

    def found(finding: replay.Finding) -> None:
        out.print(finding.message(lang), soft_wrap=True, markup=False, highlight=False)

    with unit_of_work(write=False) as session:
        result = replay.check(session, keep=0, on_finding=found)
    if result.ok:
        out.print(
            t("records OK: %(records)s records hold to their %(events)s events")
            % {
                "records": shown_number(result.records),
                "events": shown_number(result.events),
            },
            markup=False,
        )
    else:
        said = i18n.translations(lang).ngettext(
            "records CHANGED: %(findings)s finding in %(records)s records",
            "records CHANGED: %(findings)s findings in %(records)s records",
            result.findings,
        )
        out.print(
            said
            % {
                "findings": shown_number(result.findings),
                "records": shown_number(result.records),
            },
            markup=False,
        )
    if result.not_covered_total:
        err.print(
            t(
                "%(count)s stored values are described by no event (written before events "
                "held the whole record) and were not compared"
            )
            % {"count": shown_number(result.not_covered_total)},
            markup=False,
        )
    return result.ok
