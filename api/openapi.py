"""The OpenAPI as client generators take it: operation ids a person would write, schema names
without module paths or FastAPI's generated forms, and files typed as binary."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute

# An endpoint whose function name is not what a script writer would call the operation, keyed by
# its router module and function: the operation id says the record it acts on (a generated client
# names its functions by them, and `master_list` is both the procedures and their document).
OPERATION_IDS: dict[str, str] = {
    "health.healthz": "get_health",
    "me.me": "get_me",
    "me.my_work": "list_my_work",
    "followups.cohort_follow_ups": "list_cohort_follow_ups",
    "procedures.master_list": "list_procedures",
    "procedures.list_versions": "list_procedure_versions",
    "procedures.new_draft": "create_procedure_draft",
    "procedures.get_version": "get_procedure_version",
    "procedures.update_draft": "update_procedure_draft",
    "procedures.version_content": "get_procedure_version_content",
    "procedures.transition_version": "transition_procedure_version",
    "procedures.diff": "diff_procedure_versions",
    "procedures.procedure_deviations": "list_procedure_deviations",
    "deviations.deviation_history": "get_deviation_history",
    "imports.list_mappings": "list_instrument_mappings",
    "imports.create_mapping": "create_instrument_mapping",
    "imports.rollback_batch": "roll_back_import_batch",
    "imports.list_batches": "list_import_batches",
    "imports.get_batch": "get_import_batch",
    "evaluations.list_answers": "list_evaluation_answers",
    "documents.list_issued": "list_issued_documents",
    "documents.get_issued": "get_issued_document",
    "documents.deviation_register": "issue_deviation_register",
    "documents.deviation_report": "issue_deviation_report",
    "documents.master_list": "issue_master_list",
    "documents.procedure": "issue_procedure",
    "documents.capa_status": "issue_capa_status",
    "documents.follow_up_report": "issue_follow_up_report",
    "documents.audit_pack": "issue_audit_pack",
    "documents.quality_report": "issue_quality_report",
    "documents.audit_report": "issue_audit_report",
    "documents.management_review": "issue_management_review",
    "documents.management_review_input": "issue_management_review_input",
    "documents.evidence_map": "issue_evidence_map",
    "indicators.indicator_table": "get_indicator_table",
    "indicators.enter_value": "enter_indicator_value",
    "audit.list_events": "list_audit_events",
    "audit.verify": "verify_audit_trail",
    "frameworks.framework_coverage": "get_framework_coverage",
    "audits.add_line": "add_audit_line",
    "audits.answer_line": "answer_audit_line",
    "reviews.review_inputs": "get_review_inputs",
    "reviews.decide": "record_review_decision",
    "retention.retention_report": "get_retention_report",
    "retention.dispose": "dispose_records",
}

# The tags, in the order and with the grouping of the README's sections.
TAGS: list[dict[str, str]] = [
    {"name": "health", "description": "Whether the service is up (no token)."},
    {"name": "accounts", "description": "The token's user, role and scope."},
    {"name": "programmes", "description": "Programme records: programmes and cohorts."},
    {"name": "participants", "description": "Programme records: participants and their goals."},
    {"name": "pairs and meetings", "description": "Programme records: pairs and their meetings."},
    {
        "name": "follow-ups and checks",
        "description": "Programme records: mid-programme follow-ups, and the rule checks.",
    },
    {"name": "procedures", "description": "Controlled procedures and their versions."},
    {"name": "deviations", "description": "Deviations and their workflow."},
    {"name": "corrective actions", "description": "Corrective actions and their workflow."},
    {
        "name": "risks and opportunities",
        "description": "Risks and opportunities (ISO 9001 6.1): rated, treated, reviewed, and "
        "placed on the likelihood x consequence matrix.",
    },
    {
        "name": "quality objectives",
        "description": "Quality objectives (ISO 9001 6.2): target, owner, due date, plan, and "
        "the indicators that measure them.",
    },
    {"name": "comments", "description": "Comments on deviations, actions, audits and reviews."},
    {"name": "evidence", "description": "Evidence files kept with deviations and actions."},
    {
        "name": "context and policy",
        "description": "The organisation's context, interested parties and scope of the quality "
        "management system (ISO 9001 4.1-4.3), and the quality policy in force (5.2).",
    },
    {
        "name": "evaluations and imports",
        "description": "Evaluation instruments, the import of answers and outcomes, and the "
        "batches imported.",
    },
    {"name": "evaluations", "description": "Evaluation answers and outcomes read back."},
    {"name": "indicators", "description": "A programme's indicators, planned against actual."},
    {
        "name": "documents",
        "description": "Documents issued from the records (.docx; the audit pack a zip), and "
        "the issued copies.",
    },
    {"name": "audit trail", "description": "The hash-chained audit trail and its verification."},
    {"name": "frameworks", "description": "Requirement frameworks and the evidence map."},
    {"name": "internal audits", "description": "Internal audits (ISO 9001 9.2)."},
    {"name": "management reviews", "description": "Management reviews (ISO 9001 9.3)."},
    {
        "name": "external providers",
        "description": "External providers and their evaluations (ISO 9001 8.4).",
    },
    {
        "name": "complaints",
        "description": "Complaints (ISO 9001 9.1.2, 10.2) and who made them, kept apart.",
    },
    {
        "name": "competence and awareness",
        "description": "The competences each role needs, training records and the matrix of "
        "who has what (ISO 9001 7.2), and procedures acknowledged as read and understood (7.3).",
    },
    {"name": "retention", "description": "Retention periods and disposition decisions."},
    {
        "name": "webhooks",
        "description": "Outgoing webhooks (admin only): subscriptions and their delivery log.",
    },
]

BINARY: dict[str, Any] = {"type": "string", "format": "binary"}


def endpoint_key(route: APIRoute) -> str:
    """Name an endpoint as OPERATION_IDS does: its router module and its function."""
    return f"{route.endpoint.__module__.rsplit('.', 1)[-1]}.{route.name}"


def operation_id(route: APIRoute) -> str:
    """Return the operation id of a route: its function's name, or the name OPERATION_IDS gives."""
    return OPERATION_IDS.get(endpoint_key(route), route.name)


def _schema_name(name: str) -> str:
    # FastAPI's names for a generic page and for a form: `PageRead_DeviationRead_` is read as
    # `DeviationPage`, `Body_import_evaluations` as `ImportEvaluationsForm`.
    page = re.fullmatch(r"PageRead_(\w+?)(?:Read)?_", name)
    if page:
        return f"{page.group(1)}Page"
    if name.startswith("Body_"):
        return "".join(word.capitalize() for word in name[5:].split("_")) + "Form"
    return name


def _rename_refs(node: Any, renamed: dict[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[-1]
            node["$ref"] = f"#/components/schemas/{renamed.get(name, name)}"
        for value in node.values():
            _rename_refs(value, renamed)
    elif isinstance(node, list):
        for value in node:
            _rename_refs(value, renamed)


def _type_uploads(schema: dict[str, Any]) -> None:
    # An uploaded file is a string of bytes: OpenAPI 3.1's `contentMediaType` alone is read by
    # generators as text, `format: binary` makes them send it as a file part.
    schemas = schema.get("components", {}).get("schemas", {})
    for operations in schema["paths"].values():
        for operation in operations.values():
            content = operation.get("requestBody", {}).get("content", {})
            form = content.get("multipart/form-data", {}).get("schema", {})
            ref = form.get("$ref", "")
            body = schemas.get(ref.rsplit("/", 1)[-1], form)
            for field in body.get("properties", {}).values():
                if field.get("type") == "string" and "contentMediaType" in field:
                    field["format"] = "binary"


def _type_texts(schema: dict[str, Any]) -> None:
    # A text answer (a version's Markdown) declared by its media type alone is a string.
    for operations in schema["paths"].values():
        for operation in operations.values():
            for answer in operation["responses"].values():
                for media_type, content in answer.get("content", {}).items():
                    if media_type.startswith("text/") and not content.get("schema"):
                        content["schema"] = {"type": "string"}


def refine(schema: dict[str, Any]) -> dict[str, Any]:
    """Rename the schemas FastAPI names by its own rules; type uploaded files and texts."""
    schemas = schema["components"]["schemas"]
    renamed = {name: _schema_name(name) for name in schemas}
    if len(set(renamed.values())) != len(renamed):
        raise ValueError("two schemas of the OpenAPI would have the same name")
    for old, new in renamed.items():
        if old != new:
            schemas[new] = schemas.pop(old)
            if schemas[new].get("title") == old:
                schemas[new]["title"] = new
    schema["components"]["schemas"] = dict(sorted(schemas.items()))
    _rename_refs(schema, renamed)
    _type_uploads(schema)
    _type_texts(schema)
    # Only the tags some operation carries are listed (a described tag may have none yet).
    used = {
        tag
        for operations in schema["paths"].values()
        for o in operations.values()
        for tag in o.get("tags", [])
    }
    schema["tags"] = [tag for tag in schema.get("tags", []) if tag["name"] in used]
    return schema


def install(app: FastAPI) -> None:
    """Refine the application's OpenAPI once, when it is first asked for."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        app.openapi_schema = refine(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
