"""The risk matrix as a chart: likelihood against consequence, the register placed in its cells
before and after treatment, each cell's count and the numbers of its risks written in it, the
level told by a hatching as well as a colour (it holds for colour-blind readers and in black and
white), and a sentence and a table as its text alternative.

matplotlib is imported only when the matrix is drawn (qms.charts.draw's rule)."""

from __future__ import annotations

import functools
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from qms.charts import draw
from qms.i18n import Text, format_moment, label, translate
from qms.risks.enums import RiskLevel
from qms.risks.models import Risk

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Okabe and Ito's palette: a pale blue for low, orange for medium, vermilion for high; each level
# also its own hatching.
LEVEL_COLOURS = {RiskLevel.low: "#CFE6F5", RiskLevel.medium: "#E69F00", RiskLevel.high: "#D55E00"}
LEVEL_HATCHES = {RiskLevel.low: "", RiskLevel.medium: "..", RiskLevel.high: "xx"}
# The most numbers written in a cell; beyond them the count says how many.
NUMBERS_IN_CELL = 3


@dataclass(frozen=True)
class Cell:
    """One cell of a grid: how many, and the numbers of those placed in it."""

    numbers: tuple[str, ...]

    @property
    def count(self) -> int:
        """How many are placed in the cell."""
        return len(self.numbers)


@dataclass(frozen=True)
class Matrix:
    """The register on the grid, before and after treatment, with the words of the reader."""

    key: str
    title: str
    caption: str
    summary: str
    scale: int
    # [likelihood - 1][consequence - 1]
    before: tuple[tuple[Cell, ...], ...]
    after: tuple[tuple[Cell, ...], ...]
    # The level of each cell (by its score), the words of the axes, panels and levels.
    levels: tuple[tuple[RiskLevel, ...], ...]
    likelihood: str
    consequence: str
    panel_titles: tuple[str, str]
    level_names: tuple[tuple[RiskLevel, str], ...]

    def empty(self) -> bool:
        """Return whether nothing is placed on the grid."""
        return not any(c.count for row in self.before for c in row)

    def tables(self) -> list[tuple[str, list[str], list[list[str]]]]:
        """The grids as tables: a row per likelihood (highest first), a column per consequence,
        each cell the numbers placed in it."""
        headers = [f"{self.likelihood} \\ {self.consequence}"] + [
            str(c) for c in range(1, self.scale + 1)
        ]
        found = []
        for title, grid in zip(self.panel_titles, (self.before, self.after), strict=True):
            rows = [
                [str(likelihood), *(", ".join(cell.numbers) for cell in grid[likelihood - 1])]
                for likelihood in range(self.scale, 0, -1)
            ]
            found.append((title, headers, rows))
        return found

    def data(self) -> dict[str, Any]:
        """The matrix as plain data, for a document's data hash."""
        return {"title": self.title, "caption": self.caption, "tables": self.tables()}


def build(
    risks: Sequence[Risk],
    *,
    scale: int,
    level_of: Any,
    language: str,
    as_of: datetime,
    key: str = "risk-matrix",
) -> Matrix:
    """Place the risks on the grid, before and after treatment, in the reader's language."""
    before: list[list[list[str]]] = [[[] for _ in range(scale)] for _ in range(scale)]
    after: list[list[list[str]]] = [[[] for _ in range(scale)] for _ in range(scale)]
    for risk in risks:
        before[min(risk.likelihood, scale) - 1][min(risk.consequence, scale) - 1].append(
            risk.number
        )
        if risk.residual_likelihood is not None and risk.residual_consequence is not None:
            row = min(risk.residual_likelihood, scale) - 1
            after[row][min(risk.residual_consequence, scale) - 1].append(risk.number)
    levels = tuple(
        tuple(level_of(likelihood * consequence) for consequence in range(1, scale + 1))
        for likelihood in range(1, scale + 1)
    )

    def counted(grid: list[list[list[str]]]) -> dict[RiskLevel, int]:
        counts = dict.fromkeys(RiskLevel, 0)
        for l_index, row in enumerate(grid):
            for c_index, numbers in enumerate(row):
                counts[levels[l_index][c_index]] += len(numbers)
        return counts

    said_before, said_after = counted(before), counted(after)
    rated_after = sum(said_after.values())
    summary = Text(
        "%(count)s risks and opportunities placed by likelihood and consequence on a scale of 1 "
        "to %(scale)s. Before treatment: %(high)s high, %(medium)s medium, %(low)s low. "
        "After treatment (%(rated)s rated): %(high_after)s high, %(medium_after)s medium, "
        "%(low_after)s low.",
        count=len(risks),
        scale=scale,
        high=said_before[RiskLevel.high],
        medium=said_before[RiskLevel.medium],
        low=said_before[RiskLevel.low],
        rated=rated_after,
        high_after=said_after[RiskLevel.high],
        medium_after=said_after[RiskLevel.medium],
        low_after=said_after[RiskLevel.low],
    ).in_language(language)
    return Matrix(
        key=key,
        title=translate("Risk matrix: likelihood by consequence", language),
        caption=Text(
            "The register as of %(moment)s", moment=format_moment(as_of, language)
        ).in_language(language),
        summary=summary,
        scale=scale,
        before=tuple(tuple(Cell(tuple(c)) for c in row) for row in before),
        after=tuple(tuple(Cell(tuple(c)) for c in row) for row in after),
        levels=levels,
        likelihood=translate("Likelihood", language),
        consequence=translate("Consequence", language),
        panel_titles=(
            translate("Before treatment", language),
            translate("After treatment", language),
        ),
        level_names=tuple((level, label(level.value, language)) for level in RiskLevel),
    )


WIDTH_IN = 10.0
HEIGHT_IN = 5.6


def figure(matrix: Matrix) -> Figure:
    """Draw the two grids side by side on a figure of their own."""
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch, Rectangle

    n = matrix.scale
    fig = Figure(figsize=(WIDTH_IN, HEIGHT_IN))
    draw.write_title(fig, matrix.title, matrix.caption)
    for index, (title, grid) in enumerate(
        zip(matrix.panel_titles, (matrix.before, matrix.after), strict=True)
    ):
        ax = fig.add_axes((0.08 + index * 0.48, 0.16, 0.4, 0.64))
        ax.set_xlim(0.5, n + 0.5)
        ax.set_ylim(0.5, n + 0.5)
        ax.set_aspect("auto")
        for likelihood in range(1, n + 1):
            for consequence in range(1, n + 1):
                level = matrix.levels[likelihood - 1][consequence - 1]
                ax.add_patch(
                    Rectangle(
                        (consequence - 0.5, likelihood - 0.5),
                        1,
                        1,
                        facecolor=LEVEL_COLOURS[level],
                        hatch=LEVEL_HATCHES[level],
                        edgecolor="#ffffff",
                        linewidth=1.5,
                    )
                )
                cell = grid[likelihood - 1][consequence - 1]
                if cell.count:
                    shown = list(cell.numbers[:NUMBERS_IN_CELL])
                    if cell.count > NUMBERS_IN_CELL:
                        shown.append(f"+{cell.count - NUMBERS_IN_CELL}")
                    ax.text(
                        consequence,
                        likelihood + 0.18,
                        str(cell.count),
                        ha="center",
                        va="center",
                        fontsize=11,
                        fontweight="bold",
                        bbox={"facecolor": "#ffffff", "edgecolor": "none", "pad": 1.5},
                    )
                    ax.text(
                        consequence,
                        likelihood - 0.2,
                        "\n".join(shown),
                        ha="center",
                        va="center",
                        fontsize=5.5 if n > 5 else 6.5,
                        bbox={"facecolor": "#ffffff", "edgecolor": "none", "pad": 0.8},
                    )
        ax.set_xticks(range(1, n + 1))
        ax.set_yticks(range(1, n + 1))
        ax.set_xlabel(matrix.consequence)
        ax.set_ylabel(matrix.likelihood)
        ax.set_title(title, fontsize=9.5, loc="left")
        for side in ("top", "right"):
            ax.spines[side].set_visible(False)
    fig.legend(
        handles=[
            Patch(
                facecolor=LEVEL_COLOURS[level],
                hatch=LEVEL_HATCHES[level],
                edgecolor="#1a1a1a",
                label=name,
            )
            for level, name in matrix.level_names
        ],
        loc="lower center",
        ncols=len(matrix.level_names),
        fontsize=8.5,
        frameon=False,
    )
    return fig


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|xlink:href="#|href="#)([^")]+)')


@functools.lru_cache(maxsize=16)
def svg(matrix: Matrix) -> str:
    """The matrix as an SVG element for a page, titled and described for a screen reader."""
    from qms.charts import draw

    with draw._LOCK:
        draw._setup()
        fig = figure(matrix)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    key = matrix.key
    text = _ID.sub(lambda m: f'id="{key}-{m.group(1)}"', text)
    text = _REF.sub(lambda m: f"{m.group(1)}{key}-{m.group(2)}", text)
    opening = text[: text.index(">") + 1]
    tag = re.sub(r'\s(width|height)="[^"]*"', "", opening)
    tag = tag[:-1] + (
        f' class="chart" role="img" aria-labelledby="{key}-title {key}-desc"'
        ' style="width: 100%; height: auto">'
        f'<title id="{key}-title">{escape(matrix.title)} — {escape(matrix.caption)}</title>'
        f'<desc id="{key}-desc">{escape(matrix.summary)}</desc>'
    )
    return tag + text[len(opening) :]


@functools.lru_cache(maxsize=16)
def png(matrix: Matrix, dpi: int = 200) -> bytes:
    """The matrix as a PNG at print resolution, with no software stamp."""
    from qms.charts import draw

    with draw._LOCK:
        draw._setup()
        fig = figure(matrix)
        out = io.BytesIO()
        fig.savefig(
            out,
            format="png",
            dpi=dpi,
            metadata={"Software": None},
            pil_kwargs={"compress_level": 2},
        )
    return out.getvalue()


def aspect() -> float:
    """The matrix's height over its width."""
    return HEIGHT_IN / WIDTH_IN
