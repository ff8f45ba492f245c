"""The API fuzzed as a client nobody here wrote: schemathesis over every operation, as each role.

No answer may be a 5xx, and every answer must match its documented schema (statuses, problem+json
bodies). The number of examples per operation is small by default so CI stays quick; run
`pytest tests/test_fuzz.py --thorough` for many more.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.core.parameters import ParameterLocation
from schemathesis.generation.meta import negated_parameters
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    missing_required_header,
    positive_data_acceptance,
)

from api.app import create_app
from qms.access.service import AccessLog
from qms.accounts import service as accounts
from qms.db import Database, make_engine
from qms.demo import load
from qms.permissions import Role
from tests.factories import ADMIN

# Inputs that match the schema but break a rule across fields (an end before its start, an opaque
# cursor from nowhere) are refused with 422 on purpose; that check would call them false alarms.
# The token is set here for each role, so the checks that strip it would only see it put back:
# tests/test_authorization.py calls every operation without a token and with dead ones instead.
EXCLUDED = [positive_data_acceptance, ignored_auth, missing_required_header]


# The schema is read when the module loads (the OpenAPI needs no database); the app is given its
# database, with the demo data and a user of each role, by the fixture below.
app = create_app(Database(make_engine("sqlite://")))
# A body over the limit is refused (413) before it is read, whatever it holds: for a request that
# breaks the schema that is as much a refusal as a 422.
REFUSALS = [400, 401, 403, 404, 405, 406, 409, 413, 415, 422, 428, 429]
config = SchemathesisConfig.from_dict(
    {"checks": {"negative_data_rejection": {"expected-statuses": REFUSALS}}}
)
schema = schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


@pytest.fixture(scope="module")
def fuzz_tokens(new_database) -> dict[Role, str]:
    database = new_database()
    tokens = {}
    with database.unit_of_work() as session:
        load(session, operator=ADMIN)
        for role in Role:
            name = f"fuzz-{role.value}"
            accounts.create_user(session, actor=ADMIN, name=name, role=role)
            tokens[role] = accounts.create_token(session, actor=ADMIN, user_name=name).secret
    app.state.database = database
    # The auditors' reads are written to the access log of the database given, not the schema's.
    app.state.access_log = AccessLog(database)
    return tokens


# Operations whose fuzzing takes over 20 s, and why (tests/conftest.py marks them slow).
SLOW_OPERATIONS = {
    "GET /api/v1/documents/audit-pack": "each case as each role builds a zip of every document of "
    "the programme and its whole audit trail: about 30-50 s",
    "GET /api/v1/documents/management-review-input": "each case as each role compiles the 9.3.2 "
    "inputs of every record over the period asked and lays them out as a document: about 20 s",
    "POST /api/v1/participants": "each accepted case enrols a participant with personal data kept "
    "apart and audited, as each role: about 15-25 s",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    # Schemathesis gives every operation the same node id under pytest 9.2; one parameter gives
    # each its own (test_every_operation[POST /api/v1/deviations][each-role]), so a failure and a
    # slow operation are named, and the operations spread over the workers. The roles share one
    # run of the generated cases: generating them costs more than sending them.
    if "roles" in metafunc.fixturenames:
        metafunc.parametrize("roles", [tuple(Role)], ids=["each-role"])


@schema.parametrize()
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation(case, roles: tuple[Role, ...], fuzz_tokens: dict[Role, str]) -> None:
    if ("Authorization", ParameterLocation.HEADER) in set(negated_parameters(case.meta)):
        # The case tests how a broken or missing token is refused: it is sent as generated
        # (replacing the token would send a valid request the check expects to be refused).
        case.call_and_validate(excluded_checks=EXCLUDED)
        return
    for role in roles:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {fuzz_tokens[role]}"}
        case.call_and_validate(excluded_checks=EXCLUDED)
