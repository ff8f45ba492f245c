"""Charts on the pages: each drawn as inline SVG beside its figures as a table."""

from __future__ import annotations

import threading
import time
from collections.abc import Hashable, Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from qms.charts import Chart, drawing
from qms.charts.records import IndicatorBar
from qms.db import utcnow
from qms.i18n import DEFAULT_LANGUAGE, LOCALES, format_number, label
from qms.indicators.schemas import IndicatorTable


def pictures(charts: Iterable[Chart]) -> list[tuple[Chart, str]]:
    """Each chart with something to show, with its SVG (none drawn where charts are off)."""
    if not drawing():
        return []
    from qms.charts import draw

    return [(chart, draw.svg(chart)) for chart in charts if not chart.empty()]


def _shown(value: float | None, unit: str, language: str) -> str:
    """A figure as the programme's table shows it: a per cent to one decimal (66,7 %)."""
    if value is None:
        return ""
    if unit == "percent":
        from babel import Locale
        from babel.numbers import format_percent

        # The locale's own pattern (the sign's place, with or without a space), one decimal.
        locale = Locale.parse(LOCALES.get(language, LOCALES[DEFAULT_LANGUAGE]))
        pattern = locale.percent_formats[None].pattern.replace("0", "0.#", 1)
        return format_percent(Decimal(str(value / 100)), format=pattern, locale=locale)
    return format_number(value, language)


def indicator_bars(table: IndicatorTable, language: str) -> list[IndicatorBar]:
    """The programme's indicators as the chart shows them, each unit said in the language."""
    return [
        IndicatorBar(
            code=r.code,
            name=r.name,
            unit=label(r.unit, language),
            planned=r.planned,
            actual=r.actual,
            threshold=r.threshold,
            planned_shown=_shown(r.planned, r.unit, language),
            actual_shown=_shown(r.actual, r.unit, language),
            threshold_shown=_shown(r.threshold, r.unit, language),
            met=r.status == "met",
            top=100.0 if r.unit == "percent" else None,
        )
        for r in table.rows
    ]


def year_before(on: date) -> date:
    """The first day of the month eleven months before the day's: twelve months to the day."""
    months = on.year * 12 + on.month - 1 - 11
    return date(months // 12, months % 12 + 1, 1)


def now() -> datetime:
    """The moment the page's records are read."""
    return utcnow()


class Kept:
    """Charts kept for a short while by key (a reader's kind and language): a page read often is
    not drawn again for each reading; each chart says when its records were read."""

    def __init__(self, seconds: float, size: int = 256) -> None:
        self.seconds = seconds
        self.size = size
        self._charts: dict[Hashable, tuple[float, Chart]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Chart | None:
        """The chart kept under the key, if it is fresh."""
        with self._lock:
            found = self._charts.get(key)
        if found is None or time.monotonic() - found[0] > self.seconds:
            return None
        return found[1]

    def put(self, key: Hashable, chart: Chart) -> None:
        """Keep the chart under the key (the oldest let go past the size)."""
        with self._lock:
            if len(self._charts) >= self.size:
                del self._charts[min(self._charts, key=lambda k: self._charts[k][0])]
            self._charts[key] = (time.monotonic(), chart)

    def clear(self) -> None:
        with self._lock:
            self._charts.clear()


def kept_trends(state: Any) -> Kept:
    """The overview's trends by month, kept a minute, by the application (its state)."""
    kept: Kept | None = getattr(state, "trend_charts", None)
    if kept is None:
        kept = state.trend_charts = Kept(seconds=60)
    return kept
