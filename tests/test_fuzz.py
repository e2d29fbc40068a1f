"""Schemathesis against the served OpenAPI, as each kind of caller: no 5xx, and every
response matches its own schema. FUZZ_EXAMPLES sets the budget (`make fuzz` runs more)."""

import os

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance
from sqlmodel import Session

from app.main import app
from tests.factories import HULI, token

schema = schemathesis.openapi.from_asgi("/openapi.json", app)
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "12"))


@pytest.fixture(params=["anonymous", "editor", "auditor", "admin"])
def caller(request: pytest.FixtureRequest, session: Session) -> dict[str, str]:
    role: str = request.param
    if role == "anonymous":
        return {}
    return token(session, role, HULI if role == "editor" else None)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_never_errors(
    case: schemathesis.Case,  # type: ignore[type-arg]
    caller: dict[str, str],
    client: TestClient,  # the fixture points the app at the test's rolled-back session
) -> None:
    case.call_and_validate(headers=caller, checks=[not_a_server_error, response_schema_conformance])
