"""Read the procedure library: Markdown files with YAML front matter.

A file starts with a front matter block between two `---` lines (code, title, owner_role, version,
review_months, iso_clauses, requirements; optionally change_summary), then the procedure's text.
Every problem is reported by file and line, and a folder is read whole or not at all.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from qms.audit.service import canonical_json
from qms.errors import FieldError, ValidationFailed
from qms.fields import IsoClause, LongText, MarkdownText, Name, RequirementRefs
from qms.i18n import Code, Text
from qms.permissions import Role

CODE_PATTERN = r"^[A-Z]{2,5}-[0-9]{2,3}$"


class FrontMatter(BaseModel):
    """The controlled metadata of a procedure version."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=CODE_PATTERN)
    title: Name
    owner_role: Role
    version: int | None = Field(default=None, ge=1, description="informative; the system numbers")
    review_months: int = Field(ge=1, le=60)
    iso_clauses: list[IsoClause] = Field(default_factory=list, max_length=30)
    requirements: RequirementRefs = Field(default_factory=list)
    change_summary: LongText | None = None


class Document(BaseModel):
    """A procedure's metadata and its Markdown text, as a version holds them."""

    title: Name
    owner_role: Role
    review_months: int = Field(ge=1, le=60)
    iso_clauses: list[IsoClause] = Field(default_factory=list, max_length=30)
    requirements: RequirementRefs = Field(default_factory=list)
    content: MarkdownText

    def sha256(self) -> str:
        """Return the SHA-256 of the document (metadata and text) in canonical form."""
        return hashlib.sha256(canonical_json(self.model_dump(mode="json")).encode()).hexdigest()


@dataclass(frozen=True)
class ProcedureFile:
    """One file of the library, parsed."""

    path: Path
    code: str
    document: Document
    change_summary: str | None


def render(code: str, number: int, document: Document) -> str:
    """Return the version as a Markdown file with its front matter, as the library holds it."""
    meta: dict[str, Any] = {
        "code": code,
        "title": document.title,
        "owner_role": document.owner_role.value,
        "version": number,
        "review_months": document.review_months,
        "iso_clauses": document.iso_clauses,
        "requirements": document.requirements,
    }
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, default_flow_style=None)
    return f"---\n{front}---\n{document.content}"


def _key_line(lines: list[str], key: str) -> int:
    for number, line in enumerate(lines, start=2):
        if line.split(":", 1)[0].strip() == key:
            return number
    return 1


def parse(path: Path) -> ProcedureFile:
    """Parse one file; raise ValidationFailed naming the file and line of each problem."""
    name = path.name
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValidationFailed(
            Text("%(file)s cannot be read.", file=name),
            [
                FieldError(
                    name, Text("Save the file as UTF-8 text: %(problem)s.", problem=str(exc)), row=1
                )
            ],
        ) from exc
    text = text.replace("\r\n", "\n").removeprefix("\ufeff")
    if not text.startswith("---\n"):
        raise ValidationFailed(
            Text("%(file)s has no front matter.", file=name),
            [FieldError(name, Text("Start the file with a '---' line of front matter."), row=1)],
        )
    end = text.find("\n---\n", 4)
    if end < 0:
        raise ValidationFailed(
            Text("The front matter of %(file)s is not closed.", file=name),
            [FieldError(name, Text("Close the front matter with a '---' line."), row=1)],
        )
    raw, body = text[4:end], text[end + 5 :]
    lines = raw.split("\n")
    try:
        data = yaml.safe_load(raw)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 2 if mark is not None else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ValidationFailed(
            Text("The front matter of %(file)s is not valid YAML.", file=name),
            [FieldError(name, Text("Correct the YAML: %(problem)s.", problem=problem), row=line)],
        ) from exc
    if not isinstance(data, dict):
        raise ValidationFailed(
            Text("The front matter of %(file)s is not made of 'key: value' lines.", file=name),
            [FieldError(name, Text("Write the front matter as 'key: value' lines."), row=2)],
        )
    try:
        meta = FrontMatter.model_validate(data)
        document = Document(
            title=meta.title,
            owner_role=meta.owner_role,
            review_months=meta.review_months,
            iso_clauses=meta.iso_clauses,
            requirements=meta.requirements,
            content=body.lstrip("\n"),
        )
    except ValidationError as exc:
        errors = []
        for e in exc.errors():
            key = str(e["loc"][0]) if e["loc"] else "front matter"
            line = len(lines) + 3 if key == "content" else _key_line(lines, key)
            errors.append(
                FieldError(
                    name,
                    Text("Correct %(key)s: %(problem)s.", key=Code(key), problem=e["msg"]),
                    row=line,
                )
            )
        raise ValidationFailed(
            Text("The front matter of %(file)s is not valid.", file=name), errors
        ) from exc
    return ProcedureFile(path, meta.code, document, meta.change_summary)


def load_folder(folder: Path) -> list[ProcedureFile]:
    """Parse every *.md file of the folder; raise with every problem found, or return them all."""
    if not folder.is_dir():
        raise ValidationFailed(
            Text("There is no such folder."),
            [FieldError("folder", Text("%(folder)s is not a folder.", folder=str(folder)))],
        )
    parsed: list[ProcedureFile] = []
    errors: list[FieldError] = []
    seen: dict[str, str] = {}
    for path in sorted(folder.glob("*.md")):
        try:
            item = parse(path)
        except ValidationFailed as exc:
            errors += exc.errors
            continue
        if item.code in seen:
            errors.append(
                FieldError(
                    path.name,
                    Text(
                        "Code %(code)s is used by %(other)s too: give each procedure its own code.",
                        code=item.code,
                        other=seen[item.code],
                    ),
                    row=_key_line(path.read_text(encoding="utf-8").split("\n")[1:], "code"),
                )
            )
            continue
        seen[item.code] = path.name
        parsed.append(item)
    if errors:
        raise ValidationFailed(
            Text("The library has problems and nothing was written: correct each file named."),
            errors,
        )
    return parsed
