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
        # uncompressed: schemathesis does not decode brotli over WSGI
        "Accept-Encoding": "identity",
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


def nested(levels: int):
    """JSON nested `levels` deep: objects in lists in objects..."""
    value = 1
    for level in range(levels):
        value = {"a": value} if level % 2 else [value]
    return value


OUTSIDE_DAYS = ["1999-12-31", "2101-01-01", "9999-12-31", "0001-01-01"]
BOUNDARY_DAYS = ["2000-01-01", "2100-12-31"]


def date_fields(operation) -> tuple[list[str], list[str]]:
    """(query parameters, top-level body properties) that are dates."""
    query = [
        p.name
        for p in operation.query
        if p.definition.get("schema", {}).get("format") == "date"
    ]
    body = []
    components = operation.schema.raw_schema["components"]["schemas"]
    for alternative in operation.body:
        reference = alternative.definition.get("schema", {}).get("$ref", "")
        schema = components.get(reference.rsplit("/", 1)[-1], {})
        properties = schema.get("properties", {})
        body += [n for n, p in properties.items() if p.get("format") == "date"]
    return query, body


def with_day(case, operation, where: str, name: str, day: str):
    """`case` with one date set to `day`."""
    query, body = case.query, case.body
    if where == "query":
        query = {**(query or {}), name: day}
    else:
        body = {**body, name: day}
    return operation.Case(
        path_parameters=case.path_parameters,
        query=query,
        body=body,
        media_type=case.media_type,
    )


def boundary_days(operation, headers) -> int:
    """Generated cases of `operation` with each date set to each boundary day
    and to days outside the range: never a 5xx, and outside is a 422."""
    query_dates, body_dates = date_fields(operation)
    fields = [("query", n) for n in query_dates] + [("body", n) for n in body_dates]
    if not fields:
        return 0
    calls = 0

    @settings(FUZZ, max_examples=3)
    @given(case=operation.as_strategy(GenerationMode.POSITIVE))
    def run(case):
        nonlocal calls
        for where, name in fields:
            if where == "body" and not isinstance(case.body, dict):
                continue
            for day in OUTSIDE_DAYS + BOUNDARY_DAYS:
                response = with_day(case, operation, where, name, day).call(
                    headers=headers
                )
                assert response.status_code < 500, (operation.label, name, day)
                if day in OUTSIDE_DAYS and response.status_code not in (401, 403, 404):
                    assert response.status_code == 422, (operation.label, name, day)
                calls += 1

    run()
    return calls


@pytest.mark.parametrize("who", ["patient_a", "admin_a"])
def test_deep_bodies_and_boundary_dates_never_give_a_server_error(app, api_schema, who):
    """Every operation with a JSON body gets JSON nested 33 and 600 levels
    deep (400), and every date, in the query or the body, the contract's
    boundary days and days outside them (422 outside; never a 5xx)."""
    headers = signed_in_headers(app, who)
    bodies = dates = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()
        if operation.body:
            for depth in (33, 600):  # test_limits sends 100,000 levels as text
                case = operation.Case(
                    path_parameters={p.name: 1 for p in operation.path_parameters},
                    body=nested(depth),
                    media_type="application/json",
                )
                response = case.call(headers=headers)
                assert response.status_code == 400, (operation.label, depth)
                bodies += 1
        dates += boundary_days(operation, headers)
    print(f"{who}: {bodies} deep bodies, {dates} boundary dates")
    assert bodies >= 15 and dates >= 30
