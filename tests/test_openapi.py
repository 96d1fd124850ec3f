"""The generated OpenAPI document describes the whole contract."""

CONTRACT = {
    ("get", "/api/auth/csrf"),
    ("post", "/api/auth/login"),
    ("post", "/api/auth/logout"),
    ("get", "/api/auth/me"),
    ("post", "/api/auth/accept-invite"),
    ("post", "/api/staff"),
    ("post", "/api/patients"),
    ("get", "/api/patients"),
    ("get", "/api/patients/{patient_id}"),
    ("patch", "/api/patients/{patient_id}"),
    ("get", "/api/exercises"),
    ("post", "/api/exercises"),
    ("get", "/api/patients/{patient_id}/programme"),
    ("put", "/api/patients/{patient_id}/programme"),
    ("get", "/api/patients/{patient_id}/programme/history"),
    ("get", "/api/patients/{patient_id}/routine"),
    ("post", "/api/patients/{patient_id}/exercise-logs"),
    ("get", "/api/patients/{patient_id}/exercise-logs"),
    ("delete", "/api/patients/{patient_id}/exercise-logs/{log_id}"),
    ("post", "/api/patients/{patient_id}/pain-logs"),
    ("get", "/api/patients/{patient_id}/pain-logs"),
    ("post", "/api/sync"),
    ("get", "/api/patients/{patient_id}/messages"),
    ("post", "/api/patients/{patient_id}/messages"),
    ("post", "/api/patients/{patient_id}/messages/read"),
    ("get", "/api/patients/{patient_id}/flare-ups"),
    ("post", "/api/patients/{patient_id}/flare-ups"),
    ("get", "/api/patients/{patient_id}/questionnaires/psfs"),
    ("post", "/api/patients/{patient_id}/questionnaires/psfs"),
}


def test_openapi_document_lists_every_contract_operation(anonymous):
    spec = anonymous.get("/api/openapi.json").json
    operations = {
        (method, path)
        for path, item in spec["paths"].items()
        for method in item
        if method != "parameters"
    }
    assert CONTRACT <= operations


def test_writes_document_their_validation_and_conflict_answers(anonymous):
    paths = anonymous.get("/api/openapi.json").json["paths"]
    tick = paths["/api/patients/{patient_id}/exercise-logs"]["post"]["responses"]
    assert {"200", "201", "401", "403", "404", "409", "422"} <= set(tick)
    schema = anonymous.get("/api/openapi.json").json["components"]["schemas"]
    assert schema["ExerciseLogIn"]["properties"]["pain_during"]["maximum"] == 10
