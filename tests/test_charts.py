"""Charts in the pages and the documents, read back as their readers get them: the SVG's texts
on the overview, a programme's page and a cohort's page in each language; the pictures in the
Word documents with their text alternative; the same bytes when drawn again; and matplotlib
left unimported where nothing is drawn."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from docx.oxml.ns import qn

from qms import charts
from qms.charts import Chart, Panel, Series, draw
from qms.charts import records as chart_records
from qms.demo import issue_tokens, load
from qms.deviations.models import Severity
from qms.documents import reports, system
from qms.evaluations.models import OutcomeKind
from qms.i18n import format_moment, label, translate
from qms.permissions import Actor, Role
from tests.conftest import make_client
from tests.factories import ADMIN
from tests.reading import docx_text
from tests.web import sign_in

AS_OF = datetime(2026, 11, 1, 12, tzinfo=UTC)
START, END = date(2025, 2, 1), date(2026, 6, 30)
LANGUAGES = ("en", "nb", "sv")
SVG = re.compile(r"<svg\b.*?</svg>", re.S)


@pytest.fixture(scope="module")
def demo(new_database) -> dict[str, Any]:
    database = new_database()
    with database.unit_of_work() as session:
        operator = Actor(user_id=None, name="cli:test", role=Role.admin)
        load(session, operator=operator)
        tokens = issue_tokens(session, operator=operator)
    return {"database": database, "password": tokens.password, "auditor": tokens.auditor}


def _page(demo: dict[str, Any], path: str, language: str, login: str = "demo-quality-lead") -> str:
    client = make_client(demo["database"])
    assert sign_in(client, login, demo["password"]).status_code == 303
    client.get(f"/language?set={language}")
    page = client.get(path)
    assert page.status_code == 200, page.text
    return page.text


def _svgs(page: str) -> list[str]:
    return SVG.findall(page)


def _texts(svg: str) -> str:
    """Every text the SVG shows (its <text> elements), one line each, as a reader reads them."""
    return "\n".join(
        unescape(re.sub(r"<[^>]+>", "", t)).strip()
        for t in re.findall(r"<text\b.*?</text>", svg, re.S)
    )


def _described(svg: str) -> tuple[str, str]:
    """The SVG's title and description (what a screen reader says for it)."""
    opening = svg[: svg.index(">") + 1]
    assert 'role="img"' in opening
    ids = re.search(r'aria-labelledby="([^"]+)"', opening)
    assert ids is not None
    title = re.search(r"<title id=\"([^\"]+)\">(.*?)</title>", svg, re.S)
    desc = re.search(r"<desc id=\"([^\"]+)\">(.*?)</desc>", svg, re.S)
    assert title is not None
    assert desc is not None
    assert ids.group(1).split() == [title.group(1), desc.group(1)]
    return unescape(title.group(2)), unescape(desc.group(2))


class TestPages:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_the_programme_page_draws_its_indicators_planned_against_actual(
        self, demo, language: str
    ) -> None:
        page = _page(demo, "/programmes/1", language)
        svgs = _svgs(page)
        assert len(svgs) == 2, "18 indicators, at most 9 a chart"
        shown = _texts(svgs[0])
        for word in ("Planned", "Actual"):
            assert translate(word, language) in shown
        assert translate("Indicators, planned against actual", language) in shown
        assert "COMPLETED Mentees who complete the programme" in shown
        # Each bar says its value in the indicator's own unit, and the threshold is marked.
        assert re.search(r"91[.,]7\s?%", shown), shown
        title, said = _described(svgs[0])
        assert translate("Indicators, planned against actual", language) in title
        assert said
        # Every id on the page is its own (two charts' clip paths never meet).
        ids = re.findall(r'\bid="([^"]+)"', page)
        assert len(ids) == len(set(ids))

    @pytest.mark.parametrize("language", LANGUAGES)
    def test_the_overview_draws_the_year_s_trends_by_month(self, demo, language: str) -> None:
        with chart_records_on(date(2026, 6, 30)):
            page = _page(demo, "/", language)
        [svg] = _svgs(page)
        shown = _texts(svg)
        assert translate("Trends by month", language) in shown
        for severity in Severity:
            assert label(severity.value, language) in shown
        assert chart_records.month_name(date(2026, 6, 1), language) in shown
        # The figures are on the page as a table too.
        assert '<th scope="col">' + translate("Month", language) in page

    def test_the_overview_s_trends_are_drawn_once_a_minute_and_say_when(self, demo) -> None:
        from tests.factories import make_deviation

        client = make_client(demo["database"])
        assert sign_in(client, "demo-quality-lead", demo["password"]).status_code == 303
        first = _svgs(client.get("/").text)
        with demo["database"].unit_of_work() as session:
            make_deviation(session, severity="critical", title="Logged after the first read")
        # Read again within the minute: the chart kept, with the moment its records were read.
        assert _svgs(client.get("/").text) == first
        client.app.state.trend_charts.seconds = 0
        # Past the minute: drawn again, with the deviation logged meanwhile.
        assert _svgs(client.get("/").text) != first

    def test_the_cohort_page_draws_the_meeting_rule_and_the_outcomes(self, demo) -> None:
        page = _page(demo, "/follow-ups/cohorts/1", "nb")
        rule, outcomes = _svgs(page)
        assert "Intake February 2025" in _texts(rule)
        assert "%" in _texts(rule)
        shown = _texts(outcomes)
        for kind in (OutcomeKind.employed_full_time, OutcomeKind.education):
            assert label(kind.value, "nb") in shown
        _, said = _described(outcomes)
        assert "Intake February 2025" in said
        assert re.search(r"\b11\b.*\b12\b", said), said

    def test_a_reader_sees_the_trends_only_of_the_records_they_may_read(self, demo) -> None:
        importer = Actor(user_id=None, name="demo-importer", role=Role.importer)
        with demo["database"].unit_of_work(write=False) as session:
            seen = {
                actor.role: chart_records.trends(
                    session,
                    actor=actor,
                    programme_id=None,
                    as_of=AS_OF,
                    language="en",
                    start=START,
                    end=END,
                )
                for actor in (ADMIN, importer)
            }
        assert [p.title for p in seen[Role.importer].panels] == [chart_records.SCORES]
        assert len(seen[Role.admin].panels) == 5


def chart_records_on(day: date) -> Any:
    """Move the pages' day to a day with records in the year before it."""
    import time_machine

    return time_machine.travel(datetime(day.year, day.month, day.day, 12, tzinfo=UTC))


def _pictures(content: bytes) -> list[tuple[str, str]]:
    """Each picture in the .docx (python-docx's inline shapes), as its title and description."""
    doc = Document(io.BytesIO(content))
    found = []
    for shape in doc.inline_shapes:
        properties = shape._inline.find(qn("wp:docPr"))
        found.append((properties.get("title"), properties.get("descr")))
    return found


class TestDocuments:
    @pytest.mark.parametrize("language", LANGUAGES)
    def test_the_quality_report_has_its_indicators_meeting_rule_and_outcomes_drawn(
        self, demo, language: str
    ) -> None:
        with demo["database"].unit_of_work(write=False) as session:
            draft = reports.quality_report(session, ADMIN, AS_OF, language, 1)
        pictures = _pictures(draft.content)
        titles = [t.split(" — ")[0] for t, _ in pictures]
        title = translate("Indicators, planned against actual", language)
        parts = [translate(chart_records.PART, language) % {"part": n, "parts": 2} for n in (1, 2)]
        assert titles[:2] == [f"{title} {part}" for part in parts]
        assert titles[2:] == [
            translate(chart_records.RULE, language),
            translate(chart_records.OUTCOMES, language),
        ]
        assert all(said for _, said in pictures)

    def test_instruments_and_questions_are_named_as_their_readers_know_them(self, demo) -> None:
        """The review input's 9.3.2 c1 and the scores' chart: no FINAL, SAT or MATCH."""
        from qms.audits import inputs

        satisfied = "How satisfied are you with the programme as a whole?"
        with demo["database"].unit_of_work(write=False) as session:
            section = inputs.satisfaction(session, 1, START, END)
            trends = chart_records.trends(
                session, actor=ADMIN, programme_id=1, start=START, end=END, as_of=AS_OF,
                language="en",
            )  # fmt: skip
        answered = [row[:2] for row in section.rows[1:] if row[0] != "complaints"]
        assert ["Final survey for mentees", satisfied] in answered
        [scores] = [p for p in trends.panels if p.title.startswith("Evaluation scores")]
        names = [s.name for s in scores.series]
        assert any(name.startswith(satisfied) for name in names), names
        assert not any(code in str(answered + names) for code in ("FINAL", "SAT ", "MATCH"))

    def test_the_review_input_and_record_have_the_trends_drawn(self, demo) -> None:
        with demo["database"].unit_of_work(write=False) as session:
            made = system.management_review_input(session, ADMIN, AS_OF, "sv", START, END)
            record = system.management_review(session, ADMIN, AS_OF, "sv", 1)
        for content in (made.content, record.content):
            [(title, said)] = _pictures(content)
            assert title.startswith(translate("Trends by month", "sv"))
            assert said == translate(chart_records.TRENDS_SAID, "sv")

    def test_without_charts_a_report_has_the_same_figures_and_no_picture(self, demo) -> None:
        with demo["database"].unit_of_work(write=False) as session:
            with charts.drawn(False):
                bare = reports.quality_report(session, ADMIN, AS_OF, "en", 1)
            drawn = reports.quality_report(session, ADMIN, AS_OF, "en", 1)
        assert _pictures(bare.content) == []
        assert len(_pictures(drawn.content)) == 4

        def tables(content: bytes) -> list[list[list[str]]]:
            found = Document(io.BytesIO(content)).tables
            return [[[c.text for c in row.cells] for row in table.rows] for table in found]

        # Each chart's title and caption, and its figures, are in the report either way.
        assert tables(bare.content) == tables(drawn.content)
        assert translate(chart_records.OUTCOMES, "en") in docx_text(bare.content)
        assert bare.data_sha256 == drawn.data_sha256

    def test_the_meeting_rule_counted_once_for_a_report_is_what_each_count_gives(
        self, demo
    ) -> None:
        from sqlalchemy import select

        from qms.pairs.models import Pair
        from qms.pairs.rules import pair_months, remembered

        def counted(pairs: list[Pair], on: date) -> list[tuple[int, str, tuple[str, ...]]]:
            return [(m.pair.id, m.month, m.short) for m in pair_months(session, pairs, on)]

        with demo["database"].unit_of_work(write=False) as session:
            every = list(session.scalars(select(Pair).order_by(Pair.id)))
            some = every[::3]
            alone = counted(some, END), counted(every, END), counted(every, START)
            with remembered():
                together = counted(some, END), counted(every, END), counted(every, START)
        assert together == alone
        assert any(short for _, _, short in alone[1]), "a month below the rule"


class TestDrawing:
    CHART = Chart(
        key="k",
        title="Title & more",
        caption="1 to 2",
        summary="Says <what>",
        panels=(
            Panel(
                "",
                "count",
                ("a", "b"),
                (Series("one", (1.0, None), ("1", "")), Series("two", (2.0, 3.0), ("2", "3"))),
                threshold=2.5,
                threshold_label="threshold 2,5",
            ),
        ),
        category_name="Letter",
    )

    def test_the_svg_is_the_same_text_when_drawn_again_and_escapes_its_words(self) -> None:
        draw.svg.cache_clear()
        one = draw.svg(self.CHART)
        draw.svg.cache_clear()
        assert draw.svg(self.CHART) == one
        assert '<title id="k-title">Title &amp; more — 1 to 2</title>' in one
        assert '<desc id="k-desc">Says &lt;what&gt;</desc>' in one
        assert "threshold 2,5" in _texts(one)
        assert not re.search(r"\d{4}-\d\d-\d\dT", one), "no date in the SVG"
        assert all(i.startswith("k-") for i in re.findall(r'\bid="([^"]+)"', one))

    def test_charts_drawn_at_once_in_worker_threads_are_those_drawn_one_by_one(self) -> None:
        """The service draws in its worker threads: drawings made side by side come out as the
        same bytes as each drawn alone."""
        from concurrent.futures import ThreadPoolExecutor

        def variant(n: int) -> Chart:
            panel = self.CHART.panels[0]
            series = (Series("one", (float(n), 2.0), (str(n), "2")),)
            return Chart(
                f"k{n}", f"Chart {n}", "c", "s", (Panel("", "count", panel.categories, series),)
            )

        charts_ = [variant(n) for n in range(1, 7)]
        draw.forget()
        alone = [draw.png(c, dpi=40) for c in charts_]
        draw.forget()
        with ThreadPoolExecutor(max_workers=6) as pool:
            together = list(pool.map(lambda c: draw.png(c, dpi=40), charts_))
        assert together == alone
        assert len(set(alone)) == len(alone)

    def test_a_legend_of_long_names_is_wrapped_to_its_panel_and_short_ones_side_by_side(
        self,
    ) -> None:
        long = "How well did your mentor match your professional goals? (12 answers)"
        panel = Panel(
            "Scores",
            "mean",
            ("a", "b"),
            (Series(long, (4.0, 3.5), ("4", "3,5")), Series(long[:40], (3.0, 3.0), ("3", "3"))),
            kind="lines",
        )
        names, columns = draw._legend(panel, columns=2)
        assert columns == 1
        assert all(len(line) <= draw.LEGEND_LINE // 2 for n in names for line in n.split("\n"))
        assert names[0].replace("\n", " ") == long
        short = Panel("", "count", ("a",), (Series("due", (1.0,), ("1",)),) * 3)
        assert draw._legend(short, columns=2) == (["due"] * 3, 3)
        # Drawn, each line of the wrapped name is a text of the picture.
        svg = draw.svg(Chart("legend", "t", "c", "s", (panel,)))
        assert all(line in _texts(svg) for line in names[0].split("\n"))

    def test_an_indicator_planned_at_nothing_is_read_against_its_threshold(self) -> None:
        """Eight deviations open, planned none, at most three: the bar is past the dashed
        mark, not at the plan's 100 as if the plan were met."""
        open_deviations = chart_records.IndicatorBar(
            code="OPEN-DEV", name="Open deviations", unit="count", planned=0, actual=8,
            threshold=3, planned_shown="0", actual_shown="8", threshold_shown="3", met=False,
        )  # fmt: skip
        [chart] = chart_records.indicators([open_deviations], caption_text="c", language="en")
        [panel] = chart.panels
        planned, actual = (s.values[0] for s in panel.series)
        assert planned == 0
        assert panel.marks == (100.0,)
        assert actual is not None
        assert actual > 100
        assert "threshold for one planned at nothing" in chart.summary

    def test_the_table_leaves_out_what_has_nothing(self) -> None:
        [(_, headers, rows)] = self.CHART.tables()
        assert headers == ["Letter", "one", "two"]
        assert rows == [["a", "1", "2"], ["b", "", "3"]]

    def test_an_empty_chart_is_not_drawn(self, demo) -> None:
        with demo["database"].unit_of_work(write=False) as session:
            trends = chart_records.trends(
                session,
                actor=ADMIN,
                programme_id=1,
                start=date(2001, 1, 1),
                end=date(2001, 3, 31),
                as_of=AS_OF,
                language="en",
            )
        assert trends.empty()
        assert [c.key for c, _ in _pictures_of([trends])] == []


def _media(content: bytes) -> list[bytes]:
    """The pictures packed in the .docx, in the order of their names."""
    with zipfile.ZipFile(io.BytesIO(content)) as package:
        names = sorted(n for n in package.namelist() if n.startswith("word/media/"))
        return [package.read(n) for n in names]


class TestKept:
    """A chart's picture is drawn once: named by its figures, kept on disk, and found again by a
    report made later over the same records, in this process or another."""

    @pytest.fixture
    def kept_in(self, tmp_path, monkeypatch) -> Iterator[Path]:
        from qms.charts import kept

        folder = tmp_path / "charts"
        monkeypatch.setattr(kept, "folder", lambda: folder)
        draw.forget()
        yield folder
        draw.forget()

    def test_a_report_made_later_over_the_same_records_draws_nothing(
        self, demo, kept_in, monkeypatch
    ) -> None:
        with demo["database"].unit_of_work(write=False) as session:
            first = reports.quality_report(session, ADMIN, AS_OF, "en", 1)
        assert len(list(kept_in.glob("*.png"))) == 4
        # Another process, a quarter of an hour later: nothing drawn in it, nothing to draw.
        draw.forget()

        def drawn(*args: Any, **kwargs: Any) -> None:
            raise AssertionError("a kept picture was drawn again")

        monkeypatch.setattr(draw, "figure", drawn)
        later = AS_OF + timedelta(minutes=15)
        with demo["database"].unit_of_work(write=False) as session:
            again = reports.quality_report(session, ADMIN, later, "en", 1)
        assert _media(again.content) == _media(first.content)
        # The moment is the document's text above each picture, not the picture's.
        text = docx_text(again.content)
        for described, _ in _pictures(again.content):
            title, caption = described.split(" — ")
            assert f"{title}\n{caption}" in text
            assert format_moment(later, "en") in caption

    def test_the_same_figures_are_the_same_picture_whether_kept_or_drawn(self, kept_in) -> None:
        chart = TestDrawing.CHART
        drawn = draw.png(chart, dpi=60)
        draw.forget()
        assert draw.png(chart, dpi=60) == drawn
        retitled = Chart("k", "Another title", "other caption", "s", chart.panels)
        assert draw.png(retitled, dpi=60) == drawn
        other = Chart(
            "k",
            "t",
            "c",
            "s",
            (Panel("", "count", ("a", "b"), (Series("one", (5.0, 1.0), ("5", "1")),)),),
        )
        assert draw.png(other, dpi=60) != drawn
        assert len(list(kept_in.glob("*.png"))) == 2

    def test_a_picture_left_unfinished_is_drawn_again(self, kept_in) -> None:
        from qms.charts import kept

        chart = TestDrawing.CHART
        drawn = draw.png(chart, dpi=60)
        [path] = kept_in.glob("*.png")
        path.write_bytes(drawn[: len(drawn) // 2])
        draw.forget()
        assert draw.png(chart, dpi=60) == drawn
        assert path.read_bytes() == drawn
        assert kept.read(path.stem) == drawn

    def test_the_least_recently_used_are_let_go_past_the_most_kept(
        self, kept_in, monkeypatch
    ) -> None:
        from qms.charts import kept

        monkeypatch.setattr(kept, "KEPT", 4)
        monkeypatch.setattr(kept, "TRIMMED", 3)
        for n in range(4):
            kept.write(f"{n:064x}", PNG_MARK + b"IEND\xaeB`\x82")
            os.utime(kept_in / f"{n:064x}.png", (1_000_000 + n, 1_000_000 + n))
        assert kept.read(f"{0:064x}") is not None  # used now: the newest
        kept.write(f"{9:064x}", PNG_MARK + b"IEND\xaeB`\x82")
        assert sorted(p.stem[-1] for p in kept_in.glob("*.png")) == ["0", "3", "9"]

    def test_nothing_is_kept_where_the_setting_says_so(self, monkeypatch) -> None:
        from qms.charts import kept
        from qms.config import get_settings

        monkeypatch.setattr(get_settings(), "chart_cache_dir", "")
        assert kept.folder() is None

    def test_the_picture_is_a_palette_png_on_white_paper(self, kept_in) -> None:
        from PIL import Image

        picture = Image.open(io.BytesIO(draw.png(TestDrawing.CHART)))
        assert picture.mode == "P"
        assert picture.size[0] == draw.WIDTH_IN * draw.PNG_DPI
        colours = picture.convert("RGB").getcolors(256)
        assert colours is not None
        assert max(colours)[1] == (255, 255, 255), "the paper is white"


PNG_MARK = b"\x89PNG\r\n\x1a\n"


def _pictures_of(found: list[Chart]) -> list[tuple[Chart, str]]:
    from api.web.charts import pictures

    return pictures(found)


def _imported(code: str, env: dict[str, str] | None = None) -> bool:
    """Run the code in a new interpreter; return whether it imported matplotlib."""
    probe = f"{code}\nimport sys\nprint('matplotlib' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "QMS_LANGUAGE": "en", **(env or {})},
    )
    return done.stdout.strip().splitlines()[-1] == "True"


class TestImports:
    def test_the_command_line_never_imports_matplotlib(self, fresh_db) -> None:
        url = fresh_db.engine.url.render_as_string(hide_password=False)
        for command in (["--help"], ["deviations", "list"]):
            code = (
                "from typer.testing import CliRunner\n"
                "from qms.cli import app\n"
                f"r = CliRunner().invoke(app, {command!r})\n"
                "assert r.exit_code == 0, r.output\n"
            )
            assert not _imported(code, {"QMS_DATABASE_URL": url}), command

    def test_the_web_app_starts_without_matplotlib_and_a_chart_imports_it(self) -> None:
        assert not _imported("from api.app import create_app\ncreate_app()")
        assert not _imported("import qms.documents.reports, qms.documents.system")
        assert _imported(
            "from qms.charts import Chart, draw\ndraw.svg(Chart('k', 't', 'c', 's', ()))"
        )

    def test_a_picture_kept_is_placed_without_matplotlib(self, tmp_path) -> None:
        """A process that finds its chart's picture kept (another process drew it) reads it and
        never imports matplotlib."""
        code = (
            "from qms.charts import Chart, Panel, Series, draw\n"
            f"picture = draw.png({TestDrawing.CHART!r}, dpi=40)\n"
            "assert picture.startswith(b'\\x89PNG')\n"
        )
        kept_in = {"QMS_CHART_CACHE_DIR": str(tmp_path / "charts")}
        assert _imported(code, kept_in), "drawn the first time"
        assert not _imported(code, kept_in), "read the second time"


# Rendering through LibreOffice, as tests/test_pdf.py does, for a person to look at.
OFFICE = ("soffice", "pdftoppm", "pdfimages")


def _output(tmp_path: Path) -> Path:
    given = os.environ.get("QMS_TEST_OUTPUT")
    folder = Path(given) / "charts" if given else tmp_path
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.mark.slow(
    reason="lays out two reports with LibreOffice and renders their pages: about 25 s on two cores"
)
@pytest.mark.skipif(
    any(shutil.which(t) is None for t in OFFICE) and os.environ.get("QMS_REQUIRE_OFFICE") != "1",
    reason="LibreOffice or poppler-utils missing (Debian: libreoffice-writer-nogui poppler-utils)",
)
def test_the_charts_are_on_the_pdf_pages_saved_for_looking(demo, tmp_path) -> None:
    """The quality report and the review input in bokmål, laid out by LibreOffice: each picture
    on its page, at print resolution; the pages saved as PNG."""
    folder = _output(tmp_path)
    files = []
    with demo["database"].unit_of_work(write=False) as session:
        for name, draft in (
            ("quality-report-nb", reports.quality_report(session, ADMIN, AS_OF, "nb", 1)),
            (
                "management-review-input-nb",
                system.management_review_input(session, ADMIN, AS_OF, "nb", START, END),
            ),
        ):
            path = folder / f"{name}.docx"
            path.write_bytes(draft.content)
            files.append(path)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(folder),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    expected = {"quality-report-nb": 4, "management-review-input-nb": 1}
    for path in files:
        pdf = path.with_suffix(".pdf")
        listed = subprocess.run(
            ["pdfimages", "-list", str(pdf)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[2:]
        images = [line.split() for line in listed if line.split()[2] == "image"]
        assert len(images) == expected[path.stem], listed
        # Columns: page num type width height color comp bpc enc interp object ID x-ppi y-ppi.
        assert all(int(i[12]) >= 150 for i in images), "print resolution"
        subprocess.run(
            ["pdftoppm", "-png", "-r", "60", str(pdf), str(folder / path.stem)],
            check=True,
            capture_output=True,
            timeout=300,
        )
    print(f"\nThe reports' pages with their charts: {folder}")  # noqa: T201
