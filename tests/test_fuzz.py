"""Schemathesis fuzzing of every operation in /api/openapi.json, signed in as a
patient and as a therapist: no 5xx, and no answer that contradicts the document
(status codes, content types, headers, bodies)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import EMAILS, PASSWORD, exercise_id, item, prescribe

pytestmark = pytest.mark.fuzz

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
USER_AGENT = "homeward-fuzz"  # the session is bound to it (strong protection)


def signed_in_headers(app, who) -> dict:
    client = app.test_client()
    headers = {"User-Agent": USER_AGENT}
    token = client.get("/api/auth/csrf", headers=headers).json["csrf_token"]
    response = client.post(
        "/api/auth/login",
        headers=headers | {"X-CSRF-Token": token},
        json={"email": EMAILS[who], "password": PASSWORD},
    )
    assert response.status_code == 200
    cookie = client.get_cookie("homeward_session")
    return headers | {
        "Cookie": f"homeward_session={cookie.value}",
        "X-CSRF-Token": response.json["csrf_token"],
    }


FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))


@pytest.fixture
def api_schema(app, world, signed_in):
    therapist = signed_in("therapist_a")
    prescribe(therapist, world.patient_a, [item(exercise_id(therapist))])
    return schemathesis.openapi.from_wsgi("/api/openapi.json", app).exclude(
        path_regex="/api/auth/logout"  # it would end the session being fuzzed
    )


def fuzz_operation(operation, headers) -> int:
    """Run one operation with positive and negative generated data; count cases."""
    cases = 0
    strategy = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
        GenerationMode.NEGATIVE
    )

    @FUZZ
    @given(case=strategy)
    def run(case):
        nonlocal cases
        case.call_and_validate(headers=headers, checks=CHECKS)
        cases += 1

    run()
    return cases


def fuzz(schema, headers) -> dict:
    """Cases run per operation; the first failure raises."""
    return {
        result.ok().label: fuzz_operation(result.ok(), headers)
        for result in schema.get_all_operations()
    }


@pytest.mark.parametrize("who", ["patient_a", "therapist_a"])
def test_api_answers_as_documented(app, api_schema, who):
    counts = fuzz(api_schema, signed_in_headers(app, who))
    print(f"{who}: {sum(counts.values())} cases over {len(counts)} operations")
    assert len(counts) >= 25
    assert sum(counts.values()) >= 1000, counts
