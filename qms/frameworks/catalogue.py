"""The requirement libraries, read from the YAML files shipped inside the package.

A requirement is referred to everywhere as ``FRAMEWORK:code`` — ``ISO9001:8.7``,
``EMCC:selection-matching``, ``MENTOR:monitoring``. ISO 9001 clauses also arrive as bare clause
numbers (a deviation's ``iso_clause``, a procedure's ``iso_clauses``); :func:`iso_ref` turns them
into references.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import IO, Any

import yaml

from qms.errors import FieldError, NotFound, ValidationFailed
from qms.i18n import Either, Text

ISO = "ISO9001"


@dataclass(frozen=True)
class Requirement:
    """One requirement of a framework: an ISO clause, an EMCC standard, a MENTOR element."""

    framework: str
    code: str
    title: str
    guidance: str = ""

    @property
    def ref(self) -> str:
        """The reference other records carry."""
        return f"{self.framework}:{self.code}"

    @property
    def parent_ref(self) -> str | None:
        """The enclosing clause (ISO 9001 8.5 for 8.5.1), or None at the top."""
        head, dot, _ = self.code.rpartition(".")
        return f"{self.framework}:{head}" if dot else None

    @property
    def depth(self) -> int:
        """How deep the clause sits: 1 for ISO 9001 clause 8, 2 for 8.5, 3 for 8.5.1."""
        return self.code.count(".") + 1 if self.framework == ISO else 1


@dataclass(frozen=True)
class Framework:
    """A requirement library."""

    code: str
    title: str
    publisher: str
    version: str
    requirements: tuple[Requirement, ...]


def _load(name: str) -> Framework:
    text = resources.files("qms.frameworks").joinpath("data", name).read_text(encoding="utf-8")
    raw: dict[str, Any] = yaml.safe_load(text)
    code = str(raw["code"])
    return Framework(
        code=code,
        title=str(raw["title"]),
        publisher=str(raw["publisher"]),
        version=str(raw["version"]),
        requirements=tuple(
            Requirement(code, str(r["code"]), str(r["title"]), str(r.get("guidance", "")))
            for r in raw["requirements"]
        ),
    )


# How a requirement is named in a translator's comment: "ISO 9001:2015 clause 10.2".
_KINDS = {ISO: "ISO 9001:2015 clause", "EMCC": "EMCC ISMCP standard", "MENTOR": "MENTOR element"}


def extract_yaml(
    fileobj: IO[bytes],
    keywords: object,
    comment_tags: object,
    options: object,
) -> Iterator[tuple[int, None, str, list[str]]]:
    """Babel's extraction method for the framework files (babel.cfg): the framework's title and
    each requirement's title and guidance, with the requirement named for the translator."""
    root = yaml.compose(fileobj.read().decode("utf-8"))
    if not isinstance(root, yaml.MappingNode):
        return
    top = {key.value: value for key, value in root.value}
    framework = str(getattr(top.get("code"), "value", ""))
    if isinstance(title := top.get("title"), yaml.ScalarNode):
        yield title.start_mark.line + 1, None, title.value, [f"The title of {framework}"]
    listed = top.get("requirements")
    for item in listed.value if isinstance(listed, yaml.SequenceNode) else []:
        fields = {key.value: value for key, value in item.value}
        name = f"{_KINDS.get(framework, framework)} {getattr(fields.get('code'), 'value', '')}"
        for field, comment in (("title", name), ("guidance", f"{name}, in our words")):
            node = fields.get(field)
            if isinstance(node, yaml.ScalarNode) and node.value:
                yield node.start_mark.line + 1, None, node.value, [comment]


@cache
def frameworks() -> dict[str, Framework]:
    """Every shipped framework by its code, in a stable order."""
    loaded = [_load(n) for n in ("iso9001.yaml", "emcc.yaml", "mentor.yaml")]
    return {f.code: f for f in loaded}


@cache
def requirements() -> dict[str, Requirement]:
    """Every requirement of every framework by its reference."""
    return {r.ref: r for f in frameworks().values() for r in f.requirements}


def get_framework(code: str) -> Framework:
    """Return a framework by its code (case-insensitive), or raise NotFound."""
    found = frameworks().get(code.strip().upper())
    if found is None:
        raise NotFound(
            Text(
                "There is no framework %(code)s: choose %(frameworks)s.",
                code=code,
                frameworks=Either(frameworks()),
            )
        )
    return found


def iso_ref(clause: str) -> str:
    """The reference of an ISO 9001 clause number."""
    return f"{ISO}:{clause}"


def check_ref(value: str) -> str:
    """Return the reference if the catalogue knows it; raise ValueError naming the choices."""
    if value in requirements():
        return value
    framework, _, code = value.partition(":")
    known = frameworks().get(framework)
    if known is None:
        raise ValueError(
            Text(
                "There is no requirement %(ref)s: write FRAMEWORK:code with the framework "
                "%(frameworks)s.",
                ref=value,
                frameworks=Either(frameworks()),
            )
        )
    raise ValueError(
        Text(
            "%(framework)s has no requirement %(code)s: check the code in the framework's list.",
            framework=known.code,
            code=code,
        )
    )


def check_refs(values: list[str], field: str) -> None:
    """Raise ValidationFailed naming each unknown reference of a list."""
    errors = []
    for i, value in enumerate(values):
        try:
            check_ref(value)
        except ValueError as e:
            errors.append(FieldError(f"{field}[{i}]", e.args[0]))
    if errors:
        raise ValidationFailed(
            Text("A requirement named does not exist: check its reference."), errors
        )


def with_ancestors(refs: list[str]) -> set[str]:
    """The references and every clause that encloses them (ISO 9001 8.5.1 counts for 8.5 and 8)."""
    out: set[str] = set()
    for ref in refs:
        current: str | None = ref
        while current is not None and current not in out:
            out.add(current)
            req = requirements().get(current)
            current = req.parent_ref if req else None
    return out
