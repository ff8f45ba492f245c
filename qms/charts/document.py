"""A chart in a Word document: its title and caption (the period, the records' as-of time) as the
document's text, the picture at print resolution below them, described for a screen reader, and
its figures in a table below it. The picture holds no title or time of its own, so the same
figures read at another moment are the same picture (drawn once: qms.charts.kept)."""

from __future__ import annotations

import io

from docx.oxml.ns import qn
from docx.shared import Emu, Pt

from qms.charts import Chart, drawing
from qms.documents.style import HouseDocument, write

# The tallest a chart is placed on a page (EMU): 14.5 cm leaves a landscape A4 page room for
# its heading, header and footer.
TALLEST = 14_500 * 360


def add_chart(doc: HouseDocument, chart: Chart, *, table: bool = True) -> bool:
    """Add the chart's title and caption, its picture with a line saying what it shows (where
    charts are drawn), and (unless the document has them in a table already) its figures as a
    table. Return whether a picture was added."""
    if chart.empty():
        return False
    # The chart's title and caption, kept on the page of its picture (or of its figures).
    heading = doc.doc.add_paragraph()
    write(heading, chart.title, bold=True)
    heading.add_run().add_break()
    write(heading, chart.caption).font.size = Pt(9)
    heading.paragraph_format.keep_with_next = True
    heading.paragraph_format.space_after = Pt(2)
    drawn = drawing()
    if drawn:
        _add_picture(doc, chart)
    if table:
        for title, headers, rows in chart.tables():
            if title and len(chart.panels) > 1:
                doc.paragraph(title, bold=True)
            doc.table(headers, rows)
    return drawn


def _add_picture(doc: HouseDocument, chart: Chart) -> None:
    """The picture at the text's width (no taller than TALLEST), described for a screen reader,
    and the sentence saying what it shows below it."""
    from qms.charts import draw

    width = doc.text_width
    height = int(width * draw.aspect(chart))
    if height > TALLEST:
        width = int(width * TALLEST / height)
    paragraph = doc.doc.add_paragraph()
    paragraph.paragraph_format.keep_with_next = True
    picture = paragraph.add_run().add_picture(io.BytesIO(draw.png(chart)), width=Emu(width))
    # The text alternative Word and screen readers read for the picture.
    properties = picture._inline.find(qn("wp:docPr"))
    properties.set("title", f"{chart.title} — {chart.caption}")
    properties.set("descr", chart.summary)
    note = doc.doc.add_paragraph()
    run = note.add_run(chart.summary)
    run.italic = True
    run.font.size = Pt(8.5)
