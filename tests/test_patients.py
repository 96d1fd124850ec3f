"""Enrolling and editing patients, and adding staff."""

import pytest

from tests.conftest import PASSWORD, ApiClient


def enrol(client, **fields):
    body = {"name": "Nia Jones", "email": "nia@a.test", "timezone": "Europe/London"}
    return client.post("/api/patients", json=body | fields)


def test_therapist_enrols_a_patient_of_their_own(world, therapist):
    response = enrol(therapist, condition="Lumbar spasm")
    assert response.status_code == 201
    body = response.json
    assert body["therapist_id"] == world.therapist_a
    assert body["clinic_id"] == world.clinic_a
    assert body["condition"] == "Lumbar spasm"
    assert body["invite_url"].endswith(body["invite_token"])
    assert body["id"] in {p["id"] for p in therapist.get("/api/patients").json}


def test_admin_assigns_a_new_patient_to_a_therapist(world, admin):
    response = enrol(admin, therapist_id=world.therapist_a2)
    assert response.status_code == 201
    assert response.json["therapist_name"] == "ther2"


@pytest.mark.parametrize(
    "field,value",
    [
        ("timezone", "Mars/Olympus_Mons"),
        ("timezone", 5),
        ("email", "not-an-email"),
        ("name", ""),
        ("therapist_id", 1.0),
        ("therapist_id", True),
    ],
)
def test_bad_enrolment_is_a_422_naming_the_field_and_stores_nothing(
    world, admin, field, value
):
    response = enrol(admin, **{field: value})
    assert response.status_code == 422
    assert field in response.json["errors"]["json"]
    assert len(admin.get("/api/patients").json) == 2


def test_therapist_of_another_clinic_cannot_be_assigned(world, admin):
    response = enrol(admin, therapist_id=world.therapist_b)
    assert response.status_code == 422
    assert "therapist_id" in response.json["errors"]["json"]


def test_duplicate_email_is_a_409_naming_the_field(world, admin):
    response = enrol(admin, email="PAT@a.test")
    assert response.status_code == 409
    assert "email" in response.json["errors"]["json"]


def test_unknown_fields_are_refused(world, admin):
    response = enrol(admin, role="admin")
    assert response.status_code == 422
    assert "role" in response.json["errors"]["json"]


def test_patient_may_change_their_own_timezone_but_not_their_therapist(world, patient):
    moved = patient.patch(
        f"/api/patients/{world.patient_a}", json={"timezone": "America/Chicago"}
    )
    assert moved.status_code == 200 and moved.json["timezone"] == "America/Chicago"
    refused = patient.patch(
        f"/api/patients/{world.patient_a}", json={"therapist_id": world.therapist_a2}
    )
    assert refused.status_code == 403
    assert patient.get(f"/api/patients/{world.patient_a}").json["therapist_id"] == (
        world.therapist_a
    )


def test_empty_patch_is_refused(world, therapist):
    response = therapist.patch(f"/api/patients/{world.patient_a}", json={})
    assert response.status_code == 422


def test_admin_adds_a_therapist_who_can_then_sign_in(app, world, admin):
    response = admin.post(
        "/api/staff",
        json={
            "email": "Newt@A.test",
            "name": "Newt",
            "role": "therapist",
            "password": "long-enough-pw",
        },
    )
    assert response.status_code == 201
    assert response.json["email"] == "newt@a.test"
    assert response.json["clinic_id"] == world.clinic_a
    ApiClient(app.test_client()).login("newt@a.test", "long-enough-pw")


@pytest.mark.parametrize(
    "body,field",
    [
        ({"password": "short"}, "password"),
        ({"role": "patient"}, "role"),
        ({"email": "ther@a.test"}, "email"),
    ],
)
def test_bad_staff_input_is_refused(world, admin, body, field):
    base = {"email": "x@a.test", "name": "X", "role": "therapist", "password": PASSWORD}
    response = admin.post("/api/staff", json=base | body)
    assert response.status_code in (409, 422)
    assert field in response.json["errors"]["json"]
    assert len(admin.get("/api/staff").json) == 3


def test_deactivated_therapist_is_signed_out_and_cannot_sign_in(
    app, world, admin, therapist
):
    assert (
        admin.patch(
            f"/api/staff/{world.therapist_a}", json={"active": False}
        ).status_code
        == 200
    )
    assert therapist.get("/api/patients").status_code == 401
    again = ApiClient(app.test_client()).post(
        "/api/auth/login", json={"email": "ther@a.test", "password": PASSWORD}
    )
    assert again.status_code == 401


def test_admin_cannot_deactivate_themself(world, admin):
    response = admin.patch(f"/api/staff/{world.admin_a}", json={"active": False})
    assert response.status_code == 422
