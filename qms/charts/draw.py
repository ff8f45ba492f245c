"""Draw a chart with matplotlib: SVG for a page, PNG at print resolution for a Word document.

matplotlib is imported here, inside the functions, so that nothing else pays for it. The drawing
uses the object API (a Figure of its own, the Agg canvas), never pyplot's global state, since the
service draws in its worker threads; one lock keeps two drawings from sharing matplotlib's font
cache at once. The same chart gives the same bytes: the SVG's ids come from a fixed salt and
carry no date, the PNG no software stamp.

A Word document's picture is the chart without its title and caption (the document writes them
as text above it), so the picture depends on the figures alone: a report made again at a later
moment over the same records, or the same chart in two documents, finds it drawn already
(qms.charts.kept keeps it on disk, shared by the service's processes). It is a palette PNG: a
chart has a few colours and their edges, so 256 of them hold it; it is about a third of the size
of an RGB one and quicker to write.
"""

from __future__ import annotations

import functools
import io
import math
import re
import textwrap
import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from qms.charts import Chart, Panel

if TYPE_CHECKING:
    from matplotlib.figure import Figure

# Okabe and Ito's palette, told apart by readers of every kind of colour vision; each series
# also has a hatching (bars) or a marker and dash (lines), so the charts hold in black and white.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#999999")
# Hatchings of lines only: dots and rings drawn as thousands of little circles weigh a page down.
HATCHES = ("", "///", "\\\\\\", "xxx", "---", "|||", "+++", "//")
MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
DASHES = ("-", "--", ":", "-.", "-", "--", ":", "-.")
INK = "#1a1a1a"
# Print resolution for Word; the width a chart takes on a page of the document. A chart is
# placed 25.7 cm (10.1 in) wide on a landscape A4 page, so 200 dots an inch of the figure print
# at about 200 dpi; at 150 the smallest labels (7 pt) lose their shapes on paper, and the drawing
# costs only a sixth less (its text, not its pixels, takes most of the time).
PNG_DPI = 200
WIDTH_IN = 10.0
HEADER_IN = 0.7
# Above the panels of a picture without its title: room for a legend, or a margin.
BARE_LEGEND_IN = 0.35
BARE_IN = 0.1
# A line of panels: its title above the plot, the plot, the ticks and their labels below; more
# below where the months' names are slanted.
PANEL_HEIGHT_IN = 2.9
TITLE_IN = 0.22
TICKS_IN = 0.3
BOTTOM_CROWDED_IN = 0.4
LEFT_IN = 0.85
RIGHT_IN = 0.15
CROWDED = 6
# A chart of rows: the height of a row, the room for the rows' names, legend and scale.
ROW_IN = 0.42
ROWS_LEFT_IN = 3.1
ROWS_EXTRA_IN = 0.8
ROW_LABEL = 44
TICK_LABEL = 16
# The characters of a legend's line across a whole picture (7 pt), and each name's mark and gap.
LEGEND_LINE = 150
LEGEND_MARK = 6
# No more bars than this in a panel are labelled with their values (the table has them all).
LABELLED_BARS = 24
_LOCK = threading.Lock()
_MEMO = threading.Lock()
_SETTINGS: dict[str, Any] = {
    "svg.hashsalt": "mentor-qms",
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 8.5,
    "hatch.linewidth": 0.6,
    "axes.edgecolor": INK,
    "axes.labelcolor": INK,
    "xtick.color": INK,
    "ytick.color": INK,
    "text.color": INK,
    # Hinting fits glyphs to a screen's pixels; at print resolution it changes nothing one sees
    # and costs a seventh of the drawing.
    "text.hinting": "no_hinting",
}


def _setup() -> None:
    import matplotlib

    matplotlib.use("Agg")
    # Constants, the same for every drawing: set before the first, never changed after.
    # The names are matplotlib's own, typed there as literals.
    matplotlib.rcParams.update(_SETTINGS)  # type: ignore[arg-type]


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _rows(ax: Any, panel: Panel) -> None:
    """Bars laid across, a row per category (an indicator), its own threshold a dashed mark."""
    from matplotlib.lines import Line2D

    count = len(panel.categories)
    n = max(len(panel.series), 1)
    height = 0.8 / n
    values = [v for s in panel.series for v in s.values if v is not None]
    reach = max([*values, *(m for m in panel.marks if m is not None), panel.top or 0, 1.0])
    for i, s in enumerate(panel.series):
        bars = ax.barh(
            [y - 0.4 + height * (i + 0.5) for y in range(count)],
            [v or 0 for v in s.values],
            height * 0.9,
            label=s.name,
            color=COLOURS[i % len(COLOURS)],
            hatch=HATCHES[i % len(HATCHES)],
            edgecolor=INK,
            linewidth=0.6,
        )
        ax.bar_label(bars, labels=list(s.shown), padding=3, fontsize=7)
    for y, mark in enumerate(panel.marks):
        if mark is not None:
            ax.plot([mark, mark], [y - 0.46, y + 0.46], color=INK, linestyle=(0, (3, 2)), lw=1.2)
    if panel.top is not None:
        ax.axvline(panel.top, color="#8a8a8a", linewidth=0.8)
    ax.set_ylim(count - 0.5, -0.5)
    # Room to the right of the longest bar for its label.
    ax.set_xlim(0, reach * 1.32)
    ax.set_yticks(range(count))
    ax.set_yticklabels([_wrap(c, ROW_LABEL) for c in panel.categories], fontsize=7.5)
    ax.set_xlabel(panel.unit)
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="x", color="#d0d0d0", linewidth=0.5)
    ax.set_axisbelow(True)
    handles, labels = ax.get_legend_handles_labels()
    if any(m is not None for m in panel.marks):
        handles.append(Line2D([], [], color=INK, linestyle=(0, (3, 2)), lw=1.2))
        labels.append(panel.threshold_label)
    ax.legend(
        handles,
        labels,
        fontsize=7.5,
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncols=len(labels),
        frameon=False,
    )


def _panel(ax: Any, panel: Panel, legend: bool, columns: int) -> None:
    if panel.kind == "rows":
        _rows(ax, panel)
        return
    count = len(panel.categories)
    slots = range(count)
    top = max(
        [v for s in panel.series for v in s.values if v is not None]
        + ([panel.threshold] if panel.threshold is not None else [])
        + [0.0]
    )
    if panel.kind == "stacked":
        totals = [sum(s.values[n] or 0 for s in panel.series) for n in slots]  # the stack's height
        top = max([*totals, 0.0])
        below = [0.0] * count
        for i, s in enumerate(panel.series):
            heights = [v or 0 for v in s.values]
            bars = ax.bar(
                slots,
                heights,
                0.6,
                bottom=below,
                label=s.name,
                color=COLOURS[i % len(COLOURS)],
                hatch=HATCHES[i % len(HATCHES)],
                edgecolor=INK,
                linewidth=0.6,
            )
            labels = [
                shown if v and v >= 0.06 * (top or 1) else ""
                for v, shown in zip(heights, s.shown, strict=True)
            ]
            ax.bar_label(
                bars,
                labels=labels,
                label_type="center",
                fontsize=7,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
            )
            below = [b + h for b, h in zip(below, heights, strict=True)]
    elif panel.kind == "lines":
        for i, s in enumerate(panel.series):
            ax.plot(
                list(slots),
                [math.nan if v is None else v for v in s.values],
                label=s.name,
                color=COLOURS[i % len(COLOURS)],
                marker=MARKERS[i % len(MARKERS)],
                linestyle=DASHES[i % len(DASHES)],
                linewidth=1.4,
                markersize=4.5,
            )
    else:
        n = max(len(panel.series), 1)
        width = 0.8 / n
        labelled = count * n <= LABELLED_BARS
        for i, s in enumerate(panel.series):
            offsets = [x - 0.4 + width * (i + 0.5) for x in slots]
            bars = ax.bar(
                offsets,
                [v or 0 for v in s.values],
                width * 0.92,
                label=s.name,
                color=COLOURS[i % len(COLOURS)],
                hatch=HATCHES[i % len(HATCHES)],
                edgecolor=INK,
                linewidth=0.6,
            )
            if labelled:
                # A bar of nothing says nothing: its month's row in the table says 0.
                labels = [t if v else "" for v, t in zip(s.values, s.on_bars(), strict=True)]
                ax.bar_label(bars, labels=labels, padding=2, fontsize=7)
    if panel.threshold is not None:
        ax.axhline(panel.threshold, color=INK, linestyle=(0, (5, 3)), linewidth=1.1)
        ax.annotate(
            panel.threshold_label,
            xy=(1, panel.threshold),
            xycoords=("axes fraction", "data"),
            xytext=(-2, 3),
            textcoords="offset points",
            ha="right",
            va="bottom",
            fontsize=7,
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.85},
        )
    ceiling = panel.top if panel.top is not None else top
    if panel.top is not None:
        from matplotlib.ticker import MaxNLocator

        # A scale's top (100 %, a score's highest): no tick above it, the room above for labels.
        steps = MaxNLocator(nbins=6, integer=panel.top <= 10).tick_values(0, panel.top)
        ax.set_yticks([t for t in steps if 0 <= t <= panel.top])
    # Room above the highest bar for its label, and for the legend's lines where the panel has
    # one.
    names, columns_of_names = _legend(panel, columns)
    lines = math.ceil(len(names) / columns_of_names) + sum(n.count("\n") for n in names)
    room = 1.4 + 0.14 * (max(lines, 1) - 1) if legend else 1.18
    ax.set_ylim(0, (ceiling or 1) * room)
    # A few bars are kept narrow, as many would be.
    pad = max(0.0, (4 - count) / 2)
    ax.set_xlim(-0.6 - pad, count - 0.4 + pad)
    ax.set_xticks(list(slots))
    crowded = count > CROWDED
    ax.set_xticklabels(
        [_wrap(c, TICK_LABEL) for c in panel.categories],
        rotation=45 if crowded else 0,
        ha="right" if crowded else "center",
        fontsize=7.5,
    )
    if all(float(v).is_integer() for s in panel.series for v in s.values if v is not None):
        from matplotlib.ticker import MaxNLocator

        # Counts are whole: no tick at half a deviation.
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(_wrap(panel.unit, 28))
    if panel.title:
        ax.set_title(_wrap(panel.title, 100 // columns), fontsize=9, loc="left")
    ax.spines[["top", "right"]].set_visible(False)
    ax.grid(axis="y", color="#d0d0d0", linewidth=0.5)
    ax.set_axisbelow(True)
    if legend and panel.series:
        handles = ax.get_legend_handles_labels()[0]
        ax.legend(
            handles,
            names,
            fontsize=7,
            loc="upper left",
            frameon=True,
            framealpha=0.9,
            ncols=columns_of_names,
        )


def _legend(panel: Panel, columns: int) -> tuple[list[str], int]:
    """The series' names as the legend writes them, and in how many columns: side by side where
    they fit the panel's width, else as many as fit, a long name wrapped to that width."""
    width = LEGEND_LINE // columns
    names = [s.name for s in panel.series]
    if sum(len(n) + LEGEND_MARK for n in names) <= width:
        return names, max(len(names), 1)
    longest = max(len(n) for n in names) + LEGEND_MARK
    side_by_side = max(1, min(len(names), width // longest))
    if side_by_side > 1:
        return names, side_by_side
    return [_wrap(n, width - LEGEND_MARK) for n in names], 1


def _crowded(chart: Chart) -> bool:
    return any(len(p.categories) > CROWDED for p in chart.panels)


def _tick_lines(chart: Chart) -> int:
    """The most lines a category's name takes under a panel."""
    return max(
        (_wrap(c, TICK_LABEL).count("\n") for p in chart.panels for c in p.categories),
        default=0,
    )


def _shared(chart: Chart) -> bool:
    """Whether the panels share one legend, above them all."""
    names = [tuple(s.name for s in p.series) for p in chart.panels]
    return len(chart.panels) > 1 and len(set(names)) == 1


def _header(chart: Chart, titled: bool) -> float:
    """The room above the panels: the title and caption, or (without them) a shared legend's
    (a chart of rows has its legend's room above its plot)."""
    if titled:
        return HEADER_IN
    return BARE_LEGEND_IN if _shared(chart) else BARE_IN


def _grid(chart: Chart, titled: bool = True) -> tuple[int, int, float]:
    """Columns, lines of panels and the figure's height in inches."""
    header = _header(chart, titled)
    if chart.panels and chart.panels[0].kind == "rows":
        return 1, 1, header + ROWS_EXTRA_IN + ROW_IN * len(chart.panels[0].categories)
    columns = max(1, min(chart.columns, len(chart.panels)))
    lines = max(1, math.ceil(len(chart.panels) / columns))
    bottom = BOTTOM_CROWDED_IN if _crowded(chart) else _tick_lines(chart) * 0.13
    return columns, lines, header + (PANEL_HEIGHT_IN + bottom) * lines


def write_title(fig: Figure, title: str, caption: str) -> None:
    """Write a chart's title and its caption (period, as-of time) at the figure's top left."""
    width, height = fig.get_size_inches()
    fig.text(
        0.1 / width,
        1 - 0.08 / height,
        f"{title}\n{caption}",
        fontsize=10.5,
        ha="left",
        va="top",
        linespacing=1.5,
    )


def figure(chart: Chart, *, titled: bool = True) -> Figure:
    """Draw the chart on a figure of its own, its panels placed by measure (a layout engine
    would measure every text twice, and costs more than the drawing); without its title and
    caption where the page around it says them."""
    from matplotlib.figure import Figure

    columns, lines, height = _grid(chart, titled)
    header = _header(chart, titled)
    shared = _shared(chart)
    fig = Figure(figsize=(WIDTH_IN, height))
    if titled:
        write_title(fig, chart.title, chart.caption)
    row_in = (height - header) / lines
    cell_in = (WIDTH_IN - LEFT_IN * columns - RIGHT_IN * columns) / columns
    axes = []
    if chart.panels and chart.panels[0].kind == "rows":
        # Room on the left for the rows' names, above for the legend, below for the scale.
        ax = fig.add_axes(
            (
                ROWS_LEFT_IN / WIDTH_IN,
                0.5 / height,
                (WIDTH_IN - ROWS_LEFT_IN - RIGHT_IN) / WIDTH_IN,
                (height - header - ROWS_EXTRA_IN) / height,
            )
        )
        _rows(ax, chart.panels[0])
        return fig
    for n, panel in enumerate(chart.panels):
        line, column = divmod(n, columns)
        left = LEFT_IN + column * (cell_in + LEFT_IN + RIGHT_IN)
        title_lines = 1 + _wrap(panel.title, 100 // columns).count("\n") if panel.title else 0
        top = header + line * row_in + TITLE_IN * title_lines
        bottom = header + (line + 1) * row_in - (row_in - PANEL_HEIGHT_IN) - TICKS_IN
        ax = fig.add_axes(
            (left / WIDTH_IN, 1 - bottom / height, cell_in / WIDTH_IN, (bottom - top) / height)
        )
        _panel(ax, panel, legend=not shared, columns=columns)
        axes.append(ax)
    if shared and axes:
        handles, labels = axes[0].get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="upper right",
            bbox_to_anchor=(1 - 0.1 / WIDTH_IN, 1 - (0.08 if titled else 0.02) / height),
            ncols=len(labels),
            fontsize=8,
        )
    return fig


_ID = re.compile(r'\bid="([^"]+)"')
_REF = re.compile(r'(url\(#|xlink:href="#|href="#)([^")]+)')


# A chart is drawn once: the same figures (a page read again, a document fetched again) give
# the same picture, kept for as long as it is among the last few drawn.
@functools.lru_cache(maxsize=64)
def svg(chart: Chart) -> str:
    """The chart as an SVG element for a page: titled and described for a screen reader, its
    ids its own, scaled to the width it is given."""
    with _LOCK:
        _setup()
        fig = figure(chart)
        out = io.StringIO()
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    text = out.getvalue()
    text = text[text.index("<svg") :]
    text = re.sub(r"<metadata>.*?</metadata>\s*", "", text, flags=re.S)
    key = chart.key
    text = _ID.sub(lambda m: f'id="{key}-{m.group(1)}"', text)
    text = _REF.sub(lambda m: f"{m.group(1)}{key}-{m.group(2)}", text)
    opening = text[: text.index(">") + 1]
    tag = re.sub(r'\s(width|height)="[^"]*"', "", opening)
    tag = tag[:-1] + (
        f' class="chart" role="img" aria-labelledby="{key}-title {key}-desc"'
        ' style="width: 100%; height: auto">'
        f'<title id="{key}-title">{escape(chart.title)} — {escape(chart.caption)}</title>'
        f'<desc id="{key}-desc">{escape(chart.summary)}</desc>'
    )
    return tag + text[len(opening) :]


# The pictures drawn or read last in this process, by name (a report made again, the same chart
# in two documents, find them here where nothing is kept on disk): enough for the documents drawn
# ahead of a few programmes in three languages (a picture is 20-80 KiB).
_PICTURES: OrderedDict[str, bytes] = OrderedDict()
_REMEMBERED = 128


def png(chart: Chart, dpi: int = PNG_DPI) -> bytes:
    """The chart without its title and caption (the document writes them above it), as a
    palette PNG at print resolution: named by what it draws, so the same figures give the same
    picture whenever they are read; remembered in this process and kept on disk where the
    service keeps charts, else drawn."""
    from qms.charts import kept

    key = kept.key(chart, dpi)
    with _MEMO:
        found = _PICTURES.get(key)
        if found is not None:
            _PICTURES.move_to_end(key)
            return found
    found = kept.read(key)
    if found is None:
        with _LOCK:
            # Drawn meanwhile by another thread (the drawing ahead): taken, not drawn twice.
            with _MEMO:
                found = _PICTURES.get(key)
            if found is not None:
                return found
            _setup()
            found = encode(figure(chart, titled=False), dpi)
            _remember(key, found)
        kept.write(key, found)
        return found
    _remember(key, found)
    return found


def _remember(key: str, picture: bytes) -> None:
    with _MEMO:
        _PICTURES[key] = picture
        while len(_PICTURES) > _REMEMBERED:
            _PICTURES.popitem(last=False)


def forget() -> None:
    """Forget the pictures and drawings remembered in this process (not those kept on disk)."""
    with _MEMO:
        _PICTURES.clear()
    svg.cache_clear()


def encode(fig: Figure, dpi: int) -> bytes:
    """The figure rasterised once and written as a palette PNG without a software stamp: the
    colours (a chart's few, and their edges against each other) quantised to 256, undithered,
    so the same figure gives the same bytes."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    canvas: Any = FigureCanvasAgg(fig)  # untyped in matplotlib
    fig.set_dpi(dpi)
    canvas.draw()
    width, height = canvas.get_width_height()
    picture = Image.frombuffer("RGBA", (width, height), canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    palette = picture.convert("RGB").quantize(palette=_palette(), dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="png", compress_level=6, dpi=(dpi, dpi))
    return out.getvalue()


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


def _between(one: tuple[int, ...], other: tuple[int, ...], share: float) -> tuple[int, ...]:
    return tuple(round(a + (b - a) * share) for a, b in zip(one, other, strict=True))


@functools.cache
def _palette() -> Any:
    """The 256 colours of every chart's picture: those it is drawn in exactly, greys from the
    paper to black (text and lines), and each series' colour shading into the paper and into
    the ink (the edges of bars and of their hatching); one palette for all, so mapping a
    picture to it is a lookup (a quantiser choosing a palette for each costs seven times as
    much) and the paper stays white."""
    from PIL import Image

    white, ink = (255, 255, 255), _rgb(INK)
    drawn = [_rgb(c) for c in (*COLOURS, INK, "#d0d0d0", "#8a8a8a", "#ffffff", "#000000")]
    greys = [(v, v, v) for v in (round(255 * n / 47) for n in range(48))]
    paper = [_between(white, _rgb(c), n / 15) for c in COLOURS for n in range(1, 15)]
    inked = [_between(_rgb(c), ink, n / 8) for c in COLOURS for n in range(1, 8)]
    # Mapping to a palette looks colours up a quarter of a step coarse (64 to a channel): a
    # shade within 6 of a drawn colour would take that colour's pixels.
    shades = [
        c
        for c in dict.fromkeys([*greys, *paper, *inked])
        if all(max(abs(a - b) for a, b in zip(c, d, strict=True)) > 6 for d in drawn)
    ]
    colours = list(dict.fromkeys([*drawn, *shades]))[:256]
    colours += [white] * (256 - len(colours))
    palette = Image.new("P", (1, 1))
    palette.putpalette([part for colour in colours for part in colour])
    return palette


def aspect(chart: Chart) -> float:
    """The height over the width of the chart's picture in a document (without its title)."""
    return _grid(chart, titled=False)[2] / WIDTH_IN


__all__ = ["aspect", "encode", "figure", "forget", "png", "svg"]
