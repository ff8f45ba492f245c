"""The authorization matrix: every operation, called as nobody, a dead token, and each role.

Generated from the routes; what each role may do is the table written out by hand below, which
qms/permissions.py must equal. A route without a permission fails here, and so does a role let
through (or turned away) against the hand-written table.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from api.deps import Permission
from api.routing import api_routes
from qms.accounts.models import ApiToken, AuthFailure
from qms.accounts.service import hash_token
from qms.db import utcnow
from qms.permissions import PERMISSIONS, Action, Role
from tests.factories import auth, make_token

OPEN = {"/healthz"}
# Refusals that depend on the request, not the role: a coordinator issues programme documents only,
# so without a programme these answer 403 although the role may issue documents.
OBJECT_LEVEL = {
    ("coordinator", "/api/v1/documents/deviation-register"),
    ("coordinator", "/api/v1/documents/capa-status"),
    ("coordinator", "/api/v1/documents/master-list"),
    ("coordinator", "/api/v1/documents/procedure/{procedure_id}"),
    ("coordinator", "/api/v1/documents/quality-objectives"),
    ("coordinator", "/api/v1/documents/risk-register"),
    ("coordinator", "/api/v1/documents/complaints-register"),
    ("coordinator", "/api/v1/documents/context"),
    ("coordinator", "/api/v1/documents/competence-matrix"),
    ("coordinator", "/api/v1/documents/external-providers"),
}


# What each role may do, written out by hand from the README's roles paragraph, to be read the way
# a contract is reviewed. PERMISSIONS must equal it, and the matrix below calls every operation
# against it: a wrong entry in PERMISSIONS fails here instead of being taken as the truth.
ADMIN = Role.admin
LEAD = Role.quality_lead
COORDINATOR = Role.coordinator
AUDITOR = Role.auditor
IMPORTER = Role.importer
EXPECTED: dict[Action, set[Role]] = {
    # Anyone with a token may ask who they are.
    Action.self_read: {ADMIN, LEAD, COORDINATOR, AUDITOR, IMPORTER},
    # Programme records: kept by coordinators and quality leads, read by auditors too.
    Action.programme_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.programme_write: {ADMIN, LEAD, COORDINATOR},
    Action.participant_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.participant_write: {ADMIN, LEAD, COORDINATOR},
    Action.pair_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.pair_write: {ADMIN, LEAD, COORDINATOR},
    Action.followup_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.followup_write: {ADMIN, LEAD, COORDINATOR},
    Action.check_run: {ADMIN, LEAD, COORDINATOR},
    # Names and contacts: coordinators, quality leads and admins only; auditors see the code.
    Action.participant_personal_read: {ADMIN, LEAD, COORDINATOR},
    # The audit trail: quality leads and auditors (and admins), not coordinators.
    Action.audit_read: {ADMIN, LEAD, AUDITOR},
    Action.audit_verify: {ADMIN, LEAD, AUDITOR},
    # Accounts and tokens: admins only.
    Action.user_manage: {ADMIN},
    # Deviations: coordinators log them; only quality leads change and move them.
    Action.deviation_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.deviation_log: {ADMIN, LEAD, COORDINATOR},
    Action.deviation_write: {ADMIN, LEAD},
    Action.deviation_transition: {ADMIN, LEAD},
    # Corrective actions: quality leads manage and verify; an owner reports progress on theirs.
    Action.action_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.action_manage: {ADMIN, LEAD},
    Action.action_progress: {ADMIN, LEAD, COORDINATOR},
    # Controlled procedures: read by every reader, written and approved by quality leads.
    Action.procedure_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.procedure_write: {ADMIN, LEAD},
    # Evaluations: importer scripts bring results in and read back their batches, nothing else.
    Action.evaluation_read: {ADMIN, LEAD, COORDINATOR, AUDITOR, IMPORTER},
    Action.evaluation_import: {ADMIN, LEAD, IMPORTER},
    Action.instrument_write: {ADMIN, LEAD},
    Action.import_rollback: {ADMIN, LEAD},
    # Indicators: read by every reader, defined and measured by quality leads.
    Action.indicator_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.indicator_write: {ADMIN, LEAD},
    # Documents: every reader takes them ("an auditor takes documents"); coordinators a programme's.
    Action.document_generate: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.document_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.framework_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    # Internal audits and management reviews: read by every reader, run by quality leads only.
    Action.internal_audit_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.internal_audit_manage: {ADMIN, LEAD},
    Action.review_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.review_manage: {ADMIN, LEAD},
    # Retention: the report for quality leads and auditors; disposing for quality leads.
    Action.retention_read: {ADMIN, LEAD, AUDITOR},
    Action.retention_dispose: {ADMIN, LEAD},
    # Comments: whoever keeps the records remarks on them; auditors read them, never write.
    Action.comment_write: {ADMIN, LEAD, COORDINATOR},
    # Evidence files: attached and taken off by those who keep the records, never by auditors.
    Action.evidence_write: {ADMIN, LEAD, COORDINATOR},
    # The rest of the quality system: read by every reader, kept by quality leads; coordinators
    # keep training records, receive complaints and acknowledge what their role must read.
    Action.context_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.context_write: {ADMIN, LEAD},
    Action.objective_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.objective_write: {ADMIN, LEAD},
    Action.risk_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.risk_write: {ADMIN, LEAD},
    Action.provider_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.provider_write: {ADMIN, LEAD},
    Action.competence_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.competence_write: {ADMIN, LEAD, COORDINATOR},
    Action.procedure_acknowledge: {ADMIN, LEAD, COORDINATOR},
    Action.complaint_read: {ADMIN, LEAD, COORDINATOR, AUDITOR},
    Action.complaint_write: {ADMIN, LEAD, COORDINATOR},
    # An auditor reads that a complaint was made and how it was handled, not who made it.
    Action.complaint_personal_read: {ADMIN, LEAD, COORDINATOR},
    # One's own reminders: chosen by those who get work to do, not by auditors or scripts.
    Action.self_write: {ADMIN, LEAD, COORDINATOR},
}


def declared_action(route: APIRoute, kind: type = Permission) -> Action | None:
    """Return the action a route's dependency of the kind (REST or page permission) demands."""
    pending = list(route.dependant.dependencies)
    while pending:
        dependency = pending.pop()
        if isinstance(dependency.call, kind):
            action: Action = dependency.call.action
            return action
        pending.extend(dependency.dependencies)
    return None


def operations(app: FastAPI) -> list[tuple[str, str, Action | None]]:
    return sorted(
        (method, route.path, declared_action(route))
        for route in api_routes(app)
        for method in route.methods or ()
        if route.path not in OPEN
    )


def _call(client: Any, method: str, path: str, headers: dict[str, str]) -> Any:
    return client.request(method, re.sub(r"\{[^}]+\}", "1", path), json={}, headers=headers)


class TestTable:
    def test_every_action_is_written_out(self) -> None:
        assert set(EXPECTED) == set(Action)

    def test_permissions_are_exactly_the_hand_written_table(self) -> None:
        """A role given (or denied) an action against the table fails, naming the action."""
        actual = {action: {r for r in Role if action in PERMISSIONS[r]} for action in Action}
        wrong = {
            action.value: {"table": sorted(EXPECTED[action]), "PERMISSIONS": sorted(actual[action])}
            for action in Action
            if actual[action] != EXPECTED[action]
        }
        assert wrong == {}


class TestMatrix:
    def test_every_operation_declares_a_permission(self, client: Any) -> None:
        missing = [(m, p) for m, p, action in operations(client.app) if action is None]
        assert missing == []
        assert len(operations(client.app)) >= 40

    def test_no_token_and_dead_tokens_answer_401(self, client: Any, session: Session) -> None:
        expired = make_token(session, Role.admin, expires_in_days=1)
        revoked = make_token(session, Role.admin)
        for row in session.scalars(select(ApiToken)):
            if row.token_hash == hash_token(expired):
                row.expires_at = utcnow() - timedelta(seconds=1)
            if row.token_hash == hash_token(revoked):
                row.revoked_at = utcnow()
        session.flush()
        for method, path, _ in operations(client.app):
            # A client failing again and again is made to wait (429, tests/test_security.py):
            # each operation is tried as if by a client that has not failed yet.
            session.execute(delete(AuthFailure))
            for headers in ({}, auth(expired), auth(revoked), auth("qms_" + "x" * 43)):
                r = _call(client, method, path, headers)
                assert r.status_code == 401, (method, path, headers, r.status_code)

    @pytest.mark.parametrize("role", list(Role))
    def test_each_role_gets_exactly_what_the_table_gives(
        self, client: Any, session: Session, role: Role
    ) -> None:
        headers = auth(make_token(session, role))
        wrong = []
        for method, path, action in operations(client.app):
            assert action is not None
            r = _call(client, method, path, headers)
            allowed = role in EXPECTED[action]
            if allowed and r.status_code in (401, 403) and (role.value, path) not in OBJECT_LEVEL:
                wrong.append((method, path, "refused", r.status_code))
            if not allowed and r.status_code != 403:
                wrong.append((method, path, "let through", r.status_code))
        assert wrong == []
