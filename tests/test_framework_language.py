"""The frameworks' requirement titles and guidance in the reader's language: marked for the
catalogue from their YAML files, said in the reader's language on the command line and in the
documents, kept in English in the API's data."""

from __future__ import annotations

import io
import re
from importlib import resources
from pathlib import Path

import docx
import pytest
import yaml
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from typer.testing import CliRunner

from qms.cli import app, common
from qms.frameworks.catalogue import frameworks, requirements
from qms.i18n import catalogues
from qms.permissions import Role
from tests.factories import auth, make_token

# ISO 9001:2015 10.2 as NS-EN ISO 9001:2015 and SS-EN ISO 9001:2015 title it.
CLAUSE_10_2 = {
    "en": "Nonconformity and corrective action",
    "nb": "Avvik og korrigerende tiltak",
    "sv": "Avvikelse och korrigerande åtgärd",
}


def _texts() -> set[str]:
    """Every framework's title and every requirement's title and guidance."""
    texts = {f.title for f in frameworks().values()}
    texts |= {r.title for r in requirements().values()}
    return texts | {r.guidance for r in requirements().values() if r.guidance}


def test_every_requirement_is_read_whole_from_its_file() -> None:
    # A comma in an unquoted title of a flow mapping ({code: "5.3", title: Roles, …}) ends the
    # title there and makes the rest a key of its own.
    data = resources.files("qms.frameworks").joinpath("data")
    for name in ("iso9001.yaml", "emcc.yaml", "mentor.yaml"):
        raw = yaml.safe_load(data.joinpath(name).read_text(encoding="utf-8"))
        for item in raw["requirements"]:
            assert set(item) <= {"code", "title", "guidance"}, (name, item)
    assert requirements()["ISO9001:5.3"].title == (
        "Organizational roles, responsibilities and authorities"
    )


def test_the_mapping_marks_each_title_and_guidance_for_the_catalogue() -> None:
    with (catalogues.ROOT / "babel.cfg").open(encoding="utf-8") as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    # Only the mapping's entry for the framework files: the rest is the Python and templates'.
    method_map = [(pattern, method) for pattern, method in method_map if "frameworks" in pattern]
    assert method_map == [("qms/frameworks/data/*.yaml", "qms.frameworks.catalogue.extract_yaml")]
    found = {
        (Path(filename).name, lineno, message, tuple(comments))
        for filename, lineno, message, comments, _ in extract_from_dir(
            str(catalogues.ROOT), method_map, options_map
        )
    }
    assert {message for _, _, message, _ in found} == _texts()
    assert ("iso9001.yaml", 71, CLAUSE_10_2["en"], ("ISO 9001:2015 clause 10.2",)) in found


@pytest.mark.parametrize("language", ["en", "nb", "sv"])
def test_frameworks_show_says_the_titles_in_the_language(monkeypatch, language: str) -> None:
    monkeypatch.setattr(common.out, "width", 220)  # a wide terminal: rows stay on one line
    result = CliRunner().invoke(app, ["--language", language, "frameworks", "show", "ISO9001"])
    assert result.exit_code == 0, (result.stdout, result.stderr)
    row = next(line for line in result.stdout.splitlines() if "ISO9001:10.2" in line)
    assert CLAUSE_10_2[language] in row


@pytest.mark.parametrize("language", ["nb", "sv"])
def test_the_evidence_map_says_the_titles_in_the_language(client, session, language) -> None:
    headers = auth(make_token(session, Role.quality_lead))
    r = client.get(f"/api/v1/documents/evidence-map/ISO9001?language={language}", headers=headers)
    assert r.status_code == 200, r.text
    document = docx.Document(io.BytesIO(r.content))
    rows = [[cell.text for cell in row.cells] for table in document.tables for row in table.rows]
    clause = next(row for row in rows if row and row[0] == "ISO9001:10.2")
    assert CLAUSE_10_2[language] in clause
    assert not any(re.fullmatch(r"General", cell) for row in rows for cell in row)


def test_the_api_gives_the_titles_in_english(client, session) -> None:
    headers = {**auth(make_token(session, Role.quality_lead)), "Accept-Language": "nb"}
    items = client.get("/api/v1/frameworks/ISO9001", headers=headers).json()["items"]
    assert {i["ref"]: i["title"] for i in items}["ISO9001:10.2"] == CLAUSE_10_2["en"]
