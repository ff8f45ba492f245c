"""Charts of the records: what a chart shows, held apart from how it is drawn.

A chart is data (its title, the period and the as-of time it covers, panels of bars or lines,
each value also written as the reader reads it), so the same chart is drawn as SVG for a page
and as PNG for a Word document, read back as a table beside the picture, and hashed with the
rest of a document's data. Drawing (qms.charts.draw) imports matplotlib, and only when a chart
is drawn: the command line and the service start without it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Literal

# Whether charts are drawn into documents and pages; off, each chart is left out and its figures
# stay in their tables (a benchmark measures the documents with and without).
_DRAWN: ContextVar[bool] = ContextVar("charts_drawn", default=True)


@contextmanager
def drawn(enabled: bool) -> Iterator[None]:
    """Draw the charts of every document and page made inside, or none of them."""
    token = _DRAWN.set(enabled)
    try:
        yield
    finally:
        _DRAWN.reset(token)


def drawing() -> bool:
    """Return whether charts are drawn here."""
    return _DRAWN.get()


# A value that counts nothing, as every language writes it.
NOTHING = frozenset({"", "0"})


@dataclass(frozen=True)
class Series:
    """One named run of values across a panel's categories; `shown` is each value as the
    reader reads it (85 %, 4,1), empty where there is none."""

    name: str
    values: tuple[float | None, ...]
    shown: tuple[str, ...]
    # What the picture writes on each bar, where shorter than `shown` (85 % for 85 % (6 of 7)).
    short: tuple[str, ...] = ()

    def on_bars(self) -> tuple[str, ...]:
        """The labels written on the bars."""
        return self.short or self.shown


@dataclass(frozen=True)
class Panel:
    """One plot: categories along the bottom, a series each as bars side by side, stacked, or
    lines, or laid across a row per category (`rows`); `unit` names the values' axis; a
    threshold is drawn as a dashed line."""

    title: str
    unit: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    kind: Literal["bars", "stacked", "lines", "rows"] = "bars"
    threshold: float | None = None
    threshold_label: str = ""
    top: float | None = None
    # Rows (bars laid across, a category a row): each row's own threshold, on the same scale.
    marks: tuple[float | None, ...] = ()

    def empty(self) -> bool:
        """Return whether the panel has no value to draw."""
        return not any(v for s in self.series for v in s.values if v is not None)


@dataclass(frozen=True)
class Chart:
    """A titled chart of one or more panels, with the period and as-of time it covers
    (`caption`) and one sentence saying what it shows (`summary`), for the text alternative."""

    key: str
    title: str
    caption: str
    summary: str
    panels: tuple[Panel, ...]
    columns: int = 1
    # What the categories along the bottom are (Month, Cohort), heading the table's first column.
    category_name: str = ""

    def empty(self) -> bool:
        """Return whether no panel has anything to draw."""
        return all(p.empty() for p in self.panels)

    def tables(self) -> list[tuple[str, list[str], list[list[str]]]]:
        """The chart's figures as tables, one a panel: its title, the headers (what the
        categories are, then each series), and a row per category with each value as shown;
        a category with nothing in it (every value none or nought) is left out."""
        found = []
        for panel in self.panels:
            rows = [
                [category, *(s.shown[n] for s in panel.series)]
                for n, category in enumerate(panel.categories)
            ]
            rows = [row for row in rows if any(v not in NOTHING for v in row[1:])]
            if rows:
                headers = [self.category_name, *(s.name for s in panel.series)]
                found.append((panel.title, headers, rows))
        return found

    def data(self) -> dict[str, Any]:
        """The chart as plain data, for a document's data hash."""
        return {"title": self.title, "caption": self.caption, "tables": self.tables()}
