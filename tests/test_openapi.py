"""The OpenAPI as script writers take it: readable and unique operation ids, schema names without
module paths, files typed as bytes, a valid document, a client generated from it that works, and
the breaking changes against the last release named."""

from __future__ import annotations

import copy
import importlib
import io
import json
import re
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from openapi_spec_validator import validate

from api import contract
from api.app import api_routes
from api.openapi import OPERATION_IDS, TAGS, endpoint_key
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import (
    make_cohort,
    make_deviation,
    make_participant,
    make_programme,
    make_token,
)

README = Path(__file__).resolve().parent.parent / "README.md"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
BINARY = {"type": "string", "format": "binary"}
# The generator's settings a script writer uses too (README): a .docx and a zip are bytes, and
# its formatting step is left out.
GENERATOR_CONFIG = f"""\
content_type_overrides:
  {DOCX}: application/octet-stream
  application/zip: application/octet-stream
post_hooks: []
"""


@pytest.fixture(scope="module")
def spec(new_database) -> dict[str, Any]:
    """The OpenAPI as served at /openapi.json."""
    response = make_client(new_database()).get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method, path, operation)
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
    ]


class TestOperationIds:
    def test_each_is_unique_and_carries_no_path(self, spec) -> None:
        ids = [operation["operationId"] for _, _, operation in _operations(spec)]
        assert len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)
        for operation_id in ids:
            assert re.fullmatch(r"[a-z]+(_[a-z0-9]+)*", operation_id), operation_id
            assert "_api_v1_" not in operation_id
            assert not operation_id.endswith(("_get", "_post", "_patch", "_put", "_delete"))

    def test_the_ones_scripts_start_with_read_as_a_person_writes_them(self, spec) -> None:
        ids = {
            (method, path): operation["operationId"]
            for method, path, operation in _operations(spec)
        }
        assert ids["get", "/api/v1/deviations"] == "list_deviations"
        assert ids["get", "/api/v1/deviations/{deviation_id}"] == "get_deviation"
        assert ids["post", "/api/v1/deviations/{deviation_id}/transitions"] == (
            "transition_deviation"
        )
        assert ids["get", "/api/v1/documents/deviation-register"] == "issue_deviation_register"
        assert ids["get", "/api/v1/procedures"] == "list_procedures"
        assert ids["get", "/api/v1/documents/master-list"] == "issue_master_list"

    def test_every_name_given_is_of_an_endpoint_that_exists(self, client) -> None:
        endpoints = {endpoint_key(route) for route in api_routes(client.app)}
        assert set(OPERATION_IDS) - endpoints == set()

    def test_each_operation_has_one_tag_of_those_described(self, spec) -> None:
        described = [tag["name"] for tag in spec["tags"]]
        used = set()
        for method, path, operation in _operations(spec):
            assert len(operation["tags"]) == 1, (method, path)
            assert operation["tags"][0] in described, (method, path)
            used.add(operation["tags"][0])
        # Listed in the README's order, each once, and none that no operation carries.
        assert described == [tag["name"] for tag in TAGS if tag["name"] in used]
        assert {"deviations", "documents", "evaluations and imports"} <= used

    def test_the_operations_the_readme_names_exist_under_its_tags(self, spec) -> None:
        text = README.read_text("utf-8")
        section = text.split("### Scripts and generated clients", 1)[1].split("\n### ", 1)[0]
        rows = re.findall(r"^\| ([a-z -]+) \| (`.+`) \|$", section, flags=re.MULTILINE)
        assert len(rows) >= 18
        tagged = {
            operation["operationId"]: operation["tags"][0] for _, _, operation in _operations(spec)
        }
        named = [
            (operation_id, tag)
            for tag, cell in rows
            for operation_id in re.findall(r"`([a-z_]+)`", cell)
        ]
        assert len(named) >= 100
        for operation_id, tag in named:
            assert tagged.get(operation_id) == tag, (operation_id, tag)


class TestSchemas:
    def test_no_name_carries_a_module_path_or_a_generated_form(self, spec) -> None:
        names = list(spec["components"]["schemas"])
        for name in names:
            assert "__" not in name, name
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]*", name), name
        assert {"ReviewDecisionRead", "RetentionDecisionRead", "DeviationPage"} <= set(names)
        assert "ImportEvaluationsForm" in names

    def test_every_reference_names_a_schema(self, spec) -> None:
        refs = set(re.findall(r'"#/components/schemas/([^"]+)"', json.dumps(spec)))
        assert refs <= set(spec["components"]["schemas"])

    def test_the_document_is_valid_openapi(self, spec) -> None:
        validate(spec)


class TestFiles:
    def test_every_document_answers_bytes_for_each_media_type(self, spec) -> None:
        documents = [
            (path, operation)
            for method, path, operation in _operations(spec)
            if path.startswith("/api/v1/documents/") and path != "/api/v1/documents/issued"
        ]
        assert len(documents) == 19
        for path, operation in documents:
            content = operation["responses"]["200"]["content"]
            assert content, path
            for media_type, declared in content.items():
                assert declared["schema"] == BINARY, (path, media_type)
        pack = spec["paths"]["/api/v1/documents/audit-pack"]["get"]["responses"]["200"]
        assert list(pack["content"]) == ["application/zip"]
        register = spec["paths"]["/api/v1/documents/deviation-register"]["get"]
        assert list(register["responses"]["200"]["content"]) == [DOCX]

    def test_every_answer_with_a_body_declares_its_schema(self, spec) -> None:
        for method, path, operation in _operations(spec):
            for status, answer in operation["responses"].items():
                for media_type, declared in answer.get("content", {}).items():
                    assert declared.get("schema"), (method, path, status, media_type)

    def test_the_exported_lists_answer_bytes(self, spec) -> None:
        content = spec["paths"]["/api/v1/deviations"]["get"]["responses"]["200"]["content"]
        assert content["text/csv"]["schema"] == BINARY
        assert content["application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"][
            "schema"
        ] == (BINARY)

    def test_an_upload_sends_its_file_as_binary(self, spec) -> None:
        for path in ("/api/v1/imports/evaluations", "/api/v1/imports/outcomes"):
            body = spec["paths"][path]["post"]["requestBody"]["content"]
            form = body["multipart/form-data"]["schema"]["$ref"].rsplit("/", 1)[-1]
            schema = spec["components"]["schemas"][form]
            assert schema["properties"]["file"]["format"] == "binary"
            assert "file" in schema["required"]


class TestContract:
    def test_the_served_contract_against_itself_breaks_nothing(self, spec) -> None:
        assert contract.breaking_changes(spec, copy.deepcopy(spec)) == []

    def test_a_removed_path_field_or_operation_and_a_narrowed_type_are_named(self, spec) -> None:
        new = copy.deepcopy(spec)
        del new["paths"]["/api/v1/outcomes"]
        del new["paths"]["/api/v1/deviations"]["post"]
        del new["components"]["schemas"]["DeviationRead"]["properties"]["title"]
        answer = new["components"]["schemas"]["AnswerRead"]["properties"]
        answer["question_code"] = {"type": "integer"}
        severity = new["components"]["schemas"]["Severity"]
        severity["enum"] = [v for v in severity["enum"] if v != "critical"]
        for parameter in new["paths"]["/api/v1/deviations"]["get"]["parameters"]:
            if parameter["name"] == "limit":
                parameter["schema"]["maximum"] = 10
        changes = contract.breaking_changes(spec, new)
        assert "removed the path /api/v1/outcomes" in changes
        assert "removed the operation POST /api/v1/deviations" in changes
        assert "GET /api/v1/deviations/{deviation_id} 200: removed the field title" in changes
        assert (
            "GET /api/v1/evaluation-answers 200.items[].question_code: may now be integer"
            in changes
        )
        assert any(
            c.startswith("PATCH /api/v1/deviations/{deviation_id} body.severity")
            and c.endswith("no longer takes critical")
            for c in changes
        ), changes
        assert any(
            c.startswith("GET /api/v1/deviations: query parameter limit: narrowed, maximum")
            for c in changes
        ), changes

    def test_a_text_that_becomes_one_of_named_texts_is_read_as_before(self, spec) -> None:
        new = copy.deepcopy(spec)
        read = new["components"]["schemas"]["DeviationRead"]["properties"]
        read["number"] = {"$ref": "#/components/schemas/Severity"}
        read["title"] = {"type": "integer"}
        changes = contract.breaking_changes(spec, new)
        assert not [c for c in changes if ".number" in c or " 200: may now be" in c]
        assert "GET /api/v1/deviations/{deviation_id} 200.title: may now be integer" in changes

    def test_a_field_or_parameter_newly_required_is_named(self, spec) -> None:
        new = copy.deepcopy(spec)
        new["components"]["schemas"]["DeviationTransition"].setdefault("required", []).append(
            "reason"
        )
        new["paths"]["/api/v1/actions"]["get"]["parameters"].append(
            {
                "in": "query",
                "name": "programme_code",
                "required": True,
                "schema": {"type": "string"},
            }
        )
        changes = contract.breaking_changes(spec, new)
        assert (
            "POST /api/v1/deviations/{deviation_id}/transitions body: requires the field reason"
        ) in changes
        assert "GET /api/v1/actions: requires the new query parameter programme_code" in changes

    def test_the_command_prints_the_changes_against_the_last_release(self, tmp_path, capsys):
        released = contract.latest_release()
        assert (
            released.name
            == max(
                (p for p in released.parent.glob("openapi-*.json")),
                key=lambda p: tuple(int(x) for x in p.stem.split("-")[1].split(".")),
            ).name
        )
        assert contract.main(["dump", str(tmp_path / "now.json")]) == 0
        assert contract.main(["diff", "--against", str(tmp_path / "now.json")]) == 0
        assert "0 breaking change(s)" in capsys.readouterr().out
        # 0.1.0 named its operations by FastAPI's defaults: a generated client's functions.
        assert contract.main(["diff", "--against", str(released)]) == 1
        out = capsys.readouterr().out
        assert (
            "GET /api/v1/deviations: operation id list_deviations_api_v1_deviations_get is now "
            "list_deviations"
        ) in out


# A client generated from the served OpenAPI, used as an auditor's and an importer's scripts are.


@pytest.fixture(scope="module")
def generated(spec, tmp_path_factory) -> Any:
    """Generate the Python client once for the module and import it."""
    folder = tmp_path_factory.mktemp("client")
    (folder / "openapi.json").write_text(json.dumps(spec), "utf-8")
    (folder / "config.yaml").write_text(GENERATOR_CONFIG, "utf-8")
    run = subprocess.run(
        [
            str(Path(sys.executable).with_name("openapi-python-client")),
            "generate",
            "--path",
            str(folder / "openapi.json"),
            "--config",
            str(folder / "config.yaml"),
            "--output-path",
            str(folder / "mentor_qms_client"),
            "--meta",
            "none",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    said = run.stdout + run.stderr
    assert run.returncode == 0, said
    # Every operation and every answer typed: the generator leaves nothing out, warns of nothing.
    assert "WARNING" not in said.upper(), said
    assert "Unable to" not in said, said
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("mentor_qms_client")
    finally:
        sys.path.remove(str(folder))
        for name in [m for m in sys.modules if m.split(".")[0] == "mentor_qms_client"]:
            del sys.modules[name]


def _as(generated: Any, bound_db, token: str) -> Any:
    """A generated client over the app in the test's transaction, with a role's token."""
    http = make_client(bound_db)
    http.headers["Authorization"] = f"Bearer {token}"
    client = generated.AuthenticatedClient(base_url=str(http.base_url), token=token)
    client.set_httpx_client(http)
    return client


def _module(name: str) -> Any:
    return importlib.import_module(f"mentor_qms_client.{name}")


class TestAGeneratedClient:
    def test_every_operation_is_a_function_named_by_its_id(self, generated, spec) -> None:
        for _, _, operation in _operations(spec):
            tag = operation["tags"][0].replace(" ", "_").replace("-", "_")
            module = _module(f"api.{tag}.{operation['operationId']}")
            assert callable(module.sync_detailed)

    def test_an_auditor_pages_the_deviations_and_takes_the_register(
        self, generated, bound_db, session
    ) -> None:
        programme = make_programme(session)
        made = [make_deviation(session, programme_id=programme.id) for _ in range(5)]
        auditor = _as(generated, bound_db, make_token(session, Role.auditor))
        list_deviations = _module("api.deviations.list_deviations")
        numbers, cursor, pages = [], None, 0
        while True:
            kwargs: dict[str, str] = {"cursor": cursor} if cursor else {}
            page = list_deviations.sync(client=auditor, limit=2, **kwargs)
            pages += 1
            numbers += [item.number for item in page.items]
            if not isinstance(page.next_cursor, str):
                break
            cursor = page.next_cursor
        assert pages == 3
        assert sorted(numbers) == sorted(d.number for d in made)

        one = _module("api.deviations.get_deviation").sync(client=auditor, deviation_id=made[0].id)
        assert (one.number, one.title) == (made[0].number, made[0].title)

        register = _module("api.documents.issue_deviation_register").sync_detailed(
            client=auditor, programme_id=programme.id
        )
        assert register.status_code == 200
        content = register.parsed.payload.read()
        document_id = int(register.headers["X-Issued-Document"])
        table_text = "\n".join(
            cell.text
            for table in Document(io.BytesIO(content)).tables
            for row in table.rows
            for cell in row.cells
        )
        assert all(d.number in table_text for d in made)
        issued = _module("api.documents.get_issued_document").sync(
            client=auditor, document_id=document_id
        )
        assert issued.payload.read() == content

        events = _module("api.audit_trail.list_audit_events").sync(
            client=auditor, entity="issued_document", entity_id=str(document_id)
        )
        assert [e.action for e in events.items] == ["document.issued"]
        assert len(events.items[0].hash_) == 64

    def test_an_importer_sends_a_csv_in_partial_mode_and_reads_its_batch(
        self, generated, bound_db, session
    ) -> None:
        lead = _as(generated, bound_db, make_token(session, Role.quality_lead))
        models = _module("models")
        questions = [
            models.QuestionCreate(
                code="SAT",
                text="How satisfied are you?",
                type_=models.QuestionType.SCALE,
                scale_min=1,
                scale_max=5,
            )
        ]
        created = _module("api.evaluations_and_imports.create_instrument").sync_detailed(
            client=lead,
            body=models.InstrumentCreate(
                code="FINAL",
                name="Final survey",
                respondent=models.Respondent.MENTEE,
                questions=questions,
            ),
        )
        assert created.status_code == 201, created.content
        cohort = make_cohort(
            session,
            make_programme(session),
            start_on=date.today() - timedelta(days=300),
            end_on=date.today() + timedelta(days=60),
        )
        a, b = (make_participant(session, cohort).code for _ in range(2))
        csv = (
            "participant,instrument,question,answer,submitted_at\n"
            f"{a},FINAL,SAT,4,2026-06-01\nP-9999,FINAL,SAT,4,2026-06-01\n"
            f"{b},FINAL,SAT,2,2026-06-01\n"
        ).encode()
        importer = _as(generated, bound_db, make_token(session, Role.importer))
        types = _module("types")
        form = models.ImportEvaluationsForm(
            file=types.File(payload=io.BytesIO(csv), file_name="final.csv", mime_type="text/csv"),
            mode=models.ImportEvaluationsFormMode.PARTIAL,
        )
        sent = _module("api.evaluations_and_imports.import_evaluations").sync_detailed(
            client=importer, body=form
        )
        assert sent.status_code == 201, sent.content
        batch = sent.parsed
        assert (batch.rows_written, batch.rows_rejected) == (2, 1)
        again = _module("api.evaluations_and_imports.get_import_batch").sync(
            client=importer, batch_id=batch.id
        )
        assert (again.file_name, again.mode, again.rows_written) == ("final.csv", "partial", 2)
        assert [(r.row, r.column) for r in again.rejected] == [(3, "participant")]
