"""The audit pack as an auditor opens it: every document of the programme, an index with each
file's hash, the trail tied to the chain and re-verified with the README's own script, names in
the pack's language."""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from docx import Document

from qms.accounts import service as accounts
from qms.demo import load
from qms.frameworks.catalogue import frameworks
from qms.permissions import Role
from tests.conftest import make_client
from tests.factories import ADMIN, auth
from tests.reading import docx_text

README = Path(__file__).resolve().parent.parent / "README.md"
HEX = re.compile(r"[0-9a-f]{64}")


@pytest.fixture(scope="module")
def client_and_auditor(new_database) -> tuple[Any, dict[str, str]]:
    database = new_database()
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        accounts.create_user(session, actor=ADMIN, name="pack-auditor", role=Role.auditor)
        headers = auth(accounts.create_token(session, actor=ADMIN, user_name="pack-auditor").secret)
    return make_client(database), headers


@pytest.fixture(scope="module")
def pack(client_and_auditor) -> zipfile.ZipFile:
    """The Norwegian audit pack of VIA-JOB, as an auditor downloads it."""
    client, headers = client_and_auditor
    r = client.get("/api/v1/documents/audit-pack?programme_id=1&language=nb", headers=headers)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/zip"
    return zipfile.ZipFile(io.BytesIO(r.content))


def _listed(client: Any, headers: dict[str, str], path: str) -> list[dict[str, Any]]:
    r = client.get(f"/api/v1/{path}", headers=headers)
    assert r.status_code == 200, r.text
    body = r.json()
    return list(body["items"] if isinstance(body, dict) else body)


def _index(pack: zipfile.ZipFile) -> tuple[str, dict[str, list[str]]]:
    """The index's name and its file table: file name -> [title, number, SHA-256]."""
    [name] = [n for n in pack.namelist() if n.startswith("00 ")]
    table = Document(io.BytesIO(pack.read(name))).tables[-1]
    rows = [[cell.text for cell in row.cells] for row in table.rows]
    assert rows[0][-1] == "SHA-256"
    return name, {row[0]: row[1:] for row in rows[1:]}


def _verification(pack: zipfile.ZipFile) -> tuple[str, str, dict[str, Any]]:
    [check] = [n for n in pack.namelist() if n.endswith(".json") and n != "manifest.json"]
    verification = json.loads(pack.read(check))
    # The trail is the file the verification names (the access log is JSON Lines too).
    return verification["trail"], check, verification


def readme_script() -> str:
    """The Python block the README gives for re-verifying a pack's trail, as written there."""
    text = README.read_text(encoding="utf-8")
    section = text.split("#### Re-verifying an audit pack's trail", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


class TestTheAuditPack:
    def test_every_kind_of_document_of_the_programme_is_in_the_pack(
        self, pack: zipfile.ZipFile, client_and_auditor
    ) -> None:
        client, headers = client_and_auditor
        documents = {n: docx_text(pack.read(n)) for n in pack.namelist() if n.endswith(".docx")}
        names = list(documents)

        def named(prefix: str) -> list[str]:
            return [n for n in names if n.split(" ", 1)[1].startswith(prefix)]

        assert len(named("Kvalitetsrapport for programmet VIA-JOB")) == 1
        assert len(named("Avviksregister")) == 1
        assert len(named("Status for korrigerende tiltak")) == 1
        assert len(named("Oversikt over prosedyrer")) == 1
        # A report of every deviation of the programme, and of none of another programme's.
        deviations = _listed(client, headers, "deviations?programme_id=1&limit=200")
        assert deviations
        reports = named("Avviksrapport ")
        assert sorted(n.split("Avviksrapport ")[1][:-5] for n in reports) == sorted(
            d["number"] for d in deviations
        )
        other = _listed(client, headers, "deviations?programme_id=2&limit=200")
        assert other
        assert not any(d["number"] in "\n".join(names) for d in other)
        # The audit and the review of the programme, each as its own report.
        audit = named("Internrevisjonsrapport ")
        review = named("Ledelsens gjennomgåelse ")
        assert len(audit) == 1
        assert "IA-" in audit[0]
        assert len(review) == 1
        assert "MR-" in review[0]
        # Each procedure in force, by its approved version (not its draft).
        in_force = [p for p in _listed(client, headers, "procedures") if p["effective_version"]]
        assert in_force
        for procedure in in_force:
            [name] = [n for n in names if n.split(" ", 1)[1].startswith(procedure["code"] + " ")]
            assert "utkast" not in documents[name].lower()
        # A follow-up report of each cohort, an evidence map of each framework.
        assert len(named("Rapport fra midtveisoppfølging VIA-JOB")) == 2
        maps = named("Dokumentasjonskart ")
        assert sorted(m.split(" ")[2] for m in maps) == sorted(frameworks())
        # The registers of the rest of the quality system, each once, read back: the demo's
        # policy, its risk of co-financing, the employment service among the providers.
        registers = {
            "Kontekst og omfang for kvalitetsstyringssystemet": "Mentees (adepts)",
            "Kvalitetsmål": "Every mentor trained before being matched",
            "Register over risikoer og muligheter": "Co-financing conflicts with another measure",
            "Eksterne leverandører": "NAV Hedmark",
            "Kompetansematrise": "",
            "Klageregister": "",
        }
        for title, holds in registers.items():
            [name] = named(title)
            assert holds in documents[name], (name, holds)

    def test_the_index_lists_every_file_with_its_number_and_the_hash_of_its_bytes(
        self, pack: zipfile.ZipFile
    ) -> None:
        index, listed = _index(pack)
        others = set(pack.namelist()) - {index, "manifest.json"}
        assert set(listed) == others
        for name, (title, number, digest) in listed.items():
            assert digest == hashlib.sha256(pack.read(name)).hexdigest(), name
            if name.endswith(".docx"):
                assert title
                assert number
        assert listed["Revisjonsspor.jsonl"][0] == "Revisjonsspor"
        numbers = {number for _, number, _ in listed.values()}
        assert {"REG-DEV", "ML-PR", "PR-05"} <= numbers
        assert any(n.startswith("DEV-") for n in numbers)
        text = docx_text(pack.read(index))
        assert "VIA-JOB · " in text  # the programme by code and name
        # The manifest lists the index too; every hash in it is of the bytes.
        manifest = json.loads(pack.read("manifest.json"))["files"]
        assert set(manifest) == others | {index}
        for name, digest in manifest.items():
            assert hashlib.sha256(pack.read(name)).hexdigest() == digest

    def test_names_are_in_norwegian_with_its_letters(
        self, pack: zipfile.ZipFile, client_and_auditor
    ) -> None:
        names = pack.namelist()
        assert "Revisjonsspor.jsonl" in names
        assert any("oppfølging" in n for n in names)
        assert any("gjennomgåelse" in n for n in names)
        for info in pack.infolist():
            if not info.filename.isascii():
                assert info.flag_bits & 0x800  # the name is UTF-8, as the zip says
        client, headers = client_and_auditor
        issued = client.get("/api/v1/documents/issued", headers=headers).json()
        packs = [d for d in issued if d["kind"] == "audit-pack"]
        assert packs[0]["title"] == "Revisjonspakke VIA-JOB"

    def test_the_trail_holds_the_packs_records_and_is_tied_to_the_chain_head(
        self, pack: zipfile.ZipFile, client_and_auditor
    ) -> None:
        trail, _, check = _verification(pack)
        events = [json.loads(line) for line in pack.read(trail).splitlines()]
        assert check["count"] == len(events) > 0
        assert [[e["seq"], e["prev_hash"], e["hash"]] for e in events] == [
            [e["seq"], e["prev_hash"], e["hash"]] for e in check["events"]
        ]
        assert check["chain"]["ok"] is True
        assert HEX.fullmatch(check["chain"]["head_hash"])
        assert max(e["seq"] for e in events) <= check["chain"]["head_seq"]
        entities = {e["entity"] for e in events}
        assert {"programme", "deviation", "action", "procedure_version"} <= entities
        # The head as the live chain still has it at that position.
        client, headers = client_and_auditor
        seq = check["chain"]["head_seq"]
        r = client.get("/api/v1/audit/events?limit=200", headers=headers)
        assert r.status_code == 200, r.text
        live = {e["seq"]: e["hash"] for e in r.json()["items"]}
        if seq in live:
            assert live[seq] == check["chain"]["head_hash"]

    def test_the_readme_script_verifies_the_trail_and_fails_on_one_changed_byte(
        self, pack: zipfile.ZipFile, tmp_path: Path
    ) -> None:
        script = tmp_path / "verify_trail.py"
        script.write_text(readme_script(), encoding="utf-8")
        trail, check, _ = _verification(pack)
        pack.extract(trail, tmp_path)
        pack.extract(check, tmp_path)

        def run() -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [sys.executable, str(script), trail, check],
                cwd=tmp_path,
                capture_output=True,
                text=True,
                check=False,
            )

        passed = run()
        assert passed.returncode == 0, passed.stderr
        assert "events verify" in passed.stdout
        # One byte of one event changed: a letter of its action.
        content = (tmp_path / trail).read_bytes()
        lines = content.splitlines(keepends=True)
        middle = len(lines) // 2
        at = lines[middle].index(b'"action":"') + len(b'"action":"')
        changed = bytearray(lines[middle])
        changed[at] = ord("x") if changed[at] != ord("x") else ord("y")
        lines[middle] = bytes(changed)
        (tmp_path / trail).write_bytes(b"".join(lines))
        failed = run()
        assert failed.returncode != 0
        assert "was altered" in failed.stderr

    def test_a_period_narrows_the_documents_and_the_trail(self, client_and_auditor) -> None:
        """A year long before the records: no deviation, audit, review or cohort of it, no
        event; the procedures in force, the register, reports and maps stay."""
        client, headers = client_and_auditor
        r = client.get(
            "/api/v1/documents/audit-pack?programme_id=1&period_from=2020-01-01"
            "&period_to=2020-12-31",
            headers=headers,
        )
        assert r.status_code == 200, r.text
        pack = zipfile.ZipFile(io.BytesIO(r.content))
        numbers = {row[1] for row in _index(pack)[1].values()}
        assert not [n for n in numbers if n.startswith(("DEV-", "IA-", "MR-", "FU-"))]
        assert {"PR-05", "REG-DEV", "ML-PR", "REP-CAPA"} <= numbers
        _, _, check = _verification(pack)
        assert check["events"] == []
        assert check["period"] == {"from": "2020-01-01", "to": "2020-12-31"}
        index = docx_text(pack.read(_index(pack)[0]))
        assert "01/01/2020 to 31/12/2020" in index
