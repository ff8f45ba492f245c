"""The OpenAPI as scripts' contract: kept as released, and compared with what is served now.

`python -m api.contract diff` prints what a script written (or a client generated) against the
last release would find broken in the OpenAPI served now — removed paths, operations and
fields, renamed operations, parameters and fields newly required, narrowed types — and exits 1
if there is any. `python -m api.contract dump contract/openapi-X.Y.Z.json` keeps a release's.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

RELEASES = Path(__file__).resolve().parent.parent / "contract"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
# Bounds that narrow what is accepted when they fall (a maximum) or rise (a minimum).
UPPER = ("maxLength", "maximum", "exclusiveMaximum", "maxItems")
LOWER = ("minLength", "minimum", "exclusiveMinimum", "minItems")
Schema = dict[str, Any]


def served() -> dict[str, Any]:
    """Return the OpenAPI the application serves (read without a database)."""
    from api.app import create_app
    from qms.db import Database, make_engine

    return create_app(Database(make_engine("sqlite://"))).openapi()


def latest_release(folder: Path = RELEASES) -> Path:
    """Return the kept OpenAPI of the newest release (contract/openapi-X.Y.Z.json)."""
    kept = []
    for path in folder.glob("openapi-*.json"):
        version = re.fullmatch(r"openapi-(\d+)\.(\d+)\.(\d+)\.json", path.name)
        if version:
            kept.append((tuple(int(part) for part in version.groups()), path))
    if not kept:
        raise FileNotFoundError(f"no openapi-X.Y.Z.json in {folder}")
    return max(kept)[1]


class _Comparison:
    """Walk an operation's schemas in the old and the new OpenAPI side by side."""

    def __init__(self, old: dict[str, Any], new: dict[str, Any]) -> None:
        self.old, self.new = old, new
        # The schemas being compared further up: a recursive schema is walked once down.
        self.walking: set[tuple[int, int]] = set()

    def _resolve(self, spec: dict[str, Any], schema: Schema) -> Schema:
        while "$ref" in schema:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    def _types(self, spec: dict[str, Any], schema: Schema) -> set[str]:
        # A reference counts as the type of the schema it names (an enum is a string).
        schema = self._resolve(spec, schema)
        branches = schema.get("anyOf") or schema.get("oneOf")
        if branches:
            return set().union(*(self._types(spec, branch) for branch in branches))
        declared = schema.get("type")
        if declared is None:
            return set()
        return set(declared) if isinstance(declared, list) else {declared}

    @staticmethod
    def _branch(schema: Schema) -> Schema:
        # The one branch of `X | None` that carries the constraints.
        branches = [
            b for b in schema.get("anyOf") or schema.get("oneOf") or [] if b.get("type") != "null"
        ]
        return branches[0] if len(branches) == 1 else schema

    def schemas(self, where: str, old: Schema, new: Schema, *, request: bool) -> Iterator[str]:
        """Yield what breaks a script that sends (request) or reads the value at `where`."""
        old_types, new_types = self._types(self.old, old), self._types(self.new, new)
        if request and old_types and new_types and old_types - new_types:
            lost = ", ".join(sorted(old_types - new_types))
            yield f"{where}: narrowed, no longer takes {lost}"
        if not request and old_types and new_types and new_types - old_types:
            gained = ", ".join(sorted(new_types - old_types))
            yield f"{where}: may now be {gained}"
        old, new = (
            self._resolve(self.old, self._branch(old)),
            self._resolve(self.new, self._branch(new)),
        )
        key = (id(old), id(new))
        if key in self.walking:
            return
        self.walking.add(key)
        try:
            yield from self._resolved(where, old, new, request=request)
        finally:
            self.walking.discard(key)

    def _resolved(self, where: str, old: Schema, new: Schema, *, request: bool) -> Iterator[str]:
        if "enum" in old and "enum" in new:
            if request and set(old["enum"]) - set(new["enum"]):
                lost = ", ".join(map(str, sorted(set(old["enum"]) - set(new["enum"]), key=str)))
                yield f"{where}: narrowed, no longer takes {lost}"
            if not request and set(new["enum"]) - set(old["enum"]):
                gained = ", ".join(map(str, sorted(set(new["enum"]) - set(old["enum"]), key=str)))
                yield f"{where}: may now be {gained}"
        if request:
            for bound in UPPER:
                if bound in new and (bound not in old or new[bound] < old[bound]):
                    yield f"{where}: narrowed, {bound} {old.get(bound, 'none')} -> {new[bound]}"
            for bound in LOWER:
                if bound in new and (bound not in old or new[bound] > old[bound]):
                    yield f"{where}: narrowed, {bound} {old.get(bound, 'none')} -> {new[bound]}"
            for field in sorted(set(new.get("required", [])) - set(old.get("required", []))):
                yield f"{where}: requires the field {field}"
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        for field in old_fields:
            if field not in new_fields:
                yield f"{where}: removed the field {field}"
            else:
                yield from self.schemas(
                    f"{where}.{field}", old_fields[field], new_fields[field], request=request
                )
        if "items" in old and "items" in new:
            yield from self.schemas(f"{where}[]", old["items"], new["items"], request=request)

    def operation(self, name: str, old: dict[str, Any], new: dict[str, Any]) -> Iterator[str]:
        """Yield what breaks a script that calls one operation."""
        if old.get("operationId") != new.get("operationId"):
            yield f"{name}: operation id {old.get('operationId')} is now {new.get('operationId')}"
        old_params = {(p["in"], p["name"]): p for p in old.get("parameters", [])}
        new_params = {(p["in"], p["name"]): p for p in new.get("parameters", [])}
        for (place, param), spec in old_params.items():
            where = f"{name}: {place} parameter {param}"
            if (place, param) not in new_params:
                yield f"{where} removed"
            else:
                yield from self.schemas(
                    where,
                    spec.get("schema", {}),
                    new_params[place, param].get("schema", {}),
                    request=True,
                )
        for (place, param), spec in new_params.items():
            if (place, param) not in old_params and spec.get("required"):
                yield f"{name}: requires the new {place} parameter {param}"
        old_body = old.get("requestBody", {}).get("content", {})
        new_body = new.get("requestBody", {}).get("content", {})
        if new.get("requestBody", {}).get("required") and not old.get("requestBody"):
            yield f"{name}: requires a body"
        for media_type, content in old_body.items():
            if media_type not in new_body:
                yield f"{name}: no longer takes {media_type}"
            else:
                yield from self.schemas(
                    f"{name} body",
                    content.get("schema", {}),
                    new_body[media_type].get("schema", {}),
                    request=True,
                )
        for status, answer in old.get("responses", {}).items():
            if not status.startswith("2"):
                continue
            if status not in new.get("responses", {}):
                yield f"{name}: no longer answers {status}"
                continue
            # A media type no longer listed is not sent any more: nothing a reader relies on
            # breaks, unless the answer lost its body altogether.
            new_content = new["responses"][status].get("content", {})
            if answer.get("content") and not new_content:
                yield f"{name}: {status} no longer answers with a body"
            for media_type, content in answer.get("content", {}).items():
                if media_type in new_content:
                    yield from self.schemas(
                        f"{name} {status}",
                        content.get("schema", {}),
                        new_content[media_type].get("schema", {}),
                        request=False,
                    )


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """List what breaks, for a script written against `old`, in `new`."""
    comparison = _Comparison(old, new)
    changes: list[str] = []
    for path, operations in old["paths"].items():
        if path not in new["paths"]:
            changes.append(f"removed the path {path}")
            continue
        for method, operation in operations.items():
            if method not in METHODS:
                continue
            name = f"{method.upper()} {path}"
            if method not in new["paths"][path]:
                changes.append(f"removed the operation {name}")
            else:
                changes.extend(comparison.operation(name, operation, new["paths"][path][method]))
    # A generated client names its models by the schemas: a script that imports one breaks.
    for schema in old.get("components", {}).get("schemas", {}):
        if schema not in new.get("components", {}).get("schemas", {}):
            changes.append(f"the schema {schema} is no longer named so (a generated model)")
    return changes


def main(argv: Sequence[str] | None = None) -> int:
    """Dump the served OpenAPI, or print what breaks against a kept one (exit 1 if anything)."""
    parser = argparse.ArgumentParser(prog="python -m api.contract", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    dump = commands.add_parser("dump", help="write the served OpenAPI to a file")
    dump.add_argument("file", type=Path)
    diff = commands.add_parser("diff", help="what breaks against the last release's OpenAPI")
    diff.add_argument("--against", type=Path, help="a kept OpenAPI (default: the newest)")
    diff.add_argument("new", type=Path, nargs="?", help="an OpenAPI file (default: served)")
    args = parser.parse_args(argv)
    if args.command == "dump":
        args.file.write_text(json.dumps(served(), indent=1, sort_keys=True) + "\n", "utf-8")
        return 0
    against = args.against or latest_release()
    old = json.loads(against.read_text("utf-8"))
    new = json.loads(args.new.read_text("utf-8")) if args.new else served()
    changes = breaking_changes(old, new)
    out = sys.stdout
    out.write(f"against {against.name}: {len(changes)} breaking change(s)\n")
    for change in changes:
        out.write(f"- {change}\n")
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main())
