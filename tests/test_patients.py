"""Enrolling and editing patients, the patient list's pages, and adding staff."""

import base64
import json
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import IntegrityError

from backend.extensions import db
from backend.models import Alert, PainLog, User
from backend.services.dates import today_in
from tests.conftest import PASSWORD, ApiClient, add_patient


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
    response = enrol(admin, email="PAT@a.test")  # the clinic's own patient
    assert response.status_code == 409
    assert "email" in response.json["errors"]["json"]
    assert len(admin.get("/api/patients").json) == 2


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


# The list a page at a time (keyset by name, then id).


def add_patients(app, world, count, therapist="therapist_a", prefix="Zed"):
    """`count` patients of clinic A named `prefix` 000, 001, ... (ids back)."""
    with app.app_context():
        patients = [
            add_patient(
                world.clinic_a,
                f"{prefix.lower()}{n:03}@a.test",
                getattr(world, therapist),
            )
            for n in range(count)
        ]
        for n, patient in enumerate(patients):
            patient.name = f"{prefix} {n:03}"
        db.session.commit()
        return [patient.id for patient in patients]


def all_pages(client, limit, **query):
    """Every page, following `Link` to the end: [[ids of a page], ...]."""
    pages, url = [], "/api/patients"
    params = {"limit": limit} | query
    while url:
        response = client.get(url, query_string=params)
        assert response.status_code == 200
        pages.append([p["id"] for p in response.json])
        link = response.headers.get("Link")
        if link is None:
            assert "X-Next-Cursor" not in response.headers
            break
        assert link.endswith('>; rel="next"')
        next_url = link[1 : link.index(">")]
        assert f"after={response.headers['X-Next-Cursor']}" in next_url
        url, params = next_url, None
    return pages


def test_pages_cover_every_patient_exactly_once_in_name_order(app, world, admin):
    add_patients(app, world, 23)
    everyone = admin.get("/api/patients", query_string={"limit": 500}).json
    pages = all_pages(admin, 5)
    assert [len(page) for page in pages] == [5, 5, 5, 5, 5]
    assert [i for page in pages for i in page] == [p["id"] for p in everyone]
    assert [p["name"] for p in everyone] == sorted(p["name"] for p in everyone)


def test_newest_first_pages_cover_every_patient_exactly_once(app, world, admin):
    ids = add_patients(app, world, 7)
    pages = all_pages(admin, 3, sort="newest")
    flat = [i for page in pages for i in page]
    assert flat == sorted(ids + [world.patient_a, world.patient_a2], reverse=True)


def test_a_cursor_stays_put_when_patients_are_enrolled_meanwhile(app, world, admin):
    add_patients(app, world, 6, prefix="Mid")
    first = admin.get("/api/patients", query_string={"limit": 3})
    seen = [p["name"] for p in first.json]
    add_patients(app, world, 3, prefix="Aaa")  # before the cursor: not shown
    add_patients(app, world, 2, prefix="Zzz")  # after it: shown once
    after = first.headers["X-Next-Cursor"]
    rest = all_pages(admin, 3, after=after)
    with app.app_context():
        names = dict(db.session.execute(select(User.id, User.name)).all())
    later = [names[i] for page in rest for i in page]
    assert not set(seen) & set(later)
    assert later == sorted(later) and later[0] > seen[-1]
    assert not any(name.startswith("Aaa") for name in later)
    assert sum(name.startswith("Zzz") for name in later) == 2


def test_old_clients_get_the_first_page_and_a_link(app, world, admin):
    add_patients(app, world, 120)
    response = admin.get("/api/patients")
    assert isinstance(response.json, list) and len(response.json) == 100
    assert response.headers["Link"].startswith("</api/patients?")
    assert set(response.json[0]) >= {"adherence_7d", "flags", "open_alerts"}


def test_the_last_page_has_no_link(world, admin):
    response = admin.get("/api/patients", query_string={"limit": 2})
    assert len(response.json) == 2
    assert "Link" not in response.headers and "X-Next-Cursor" not in response.headers


@pytest.mark.parametrize(
    "query,field",
    [
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"after": "not a cursor"}, "after"),
        ({"after": "WyJuZXdlc3QiLDNd", "sort": "name"}, "after"),  # `newest`'s
        ({"sort": "age"}, "sort"),
        ({"flag": "grumpy"}, "flag"),
        ({"alert": "closed"}, "alert"),
    ],
)
def test_bad_list_queries_are_a_422_naming_the_argument(world, admin, query, field):
    response = admin.get("/api/patients", query_string=query)
    assert response.status_code == 422
    assert list(response.json["errors"]["query"]) == [field]


def crafted_cursor(*key) -> str:
    return base64.urlsafe_b64encode(json.dumps(key).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "sort,after",
    [
        ("name", crafted_cursor("name", "pat", 2**64)),  # beyond any integer column
        ("name", crafted_cursor("name", "pat", 2**31)),
        ("name", crafted_cursor("name", "pat", 0)),
        ("name", crafted_cursor("name", "pa\x00t", 4)),  # NUL: PostgreSQL refuses it
        ("name", crafted_cursor("name", "x" * 201, 4)),
        ("newest", crafted_cursor("newest", 2**64)),
        ("newest", crafted_cursor("newest", -(2**70))),
    ],
    ids=["2**64", "2**31", "0", "nul", "long-name", "newest-2**64", "newest-negative"],
)
def test_crafted_cursors_are_a_422_naming_after(world, admin, sort, after):
    """A cursor is the client's text: its key is bounded like any input (a
    number above 2**63 or a NUL byte was a 500 logging the whole SQL)."""
    response = admin.get("/api/patients", query_string={"after": after, "sort": sort})
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]["query"]) == ["after"]


def test_ids_beyond_any_integer_column_are_a_4xx(world, admin):
    huge = 2**64
    assert admin.get(f"/api/patients/{huge}").status_code == 404
    url = f"/api/patients/{world.patient_a}"
    response = admin.patch(url, json={"therapist_id": huge})
    assert (
        response.status_code == 422
        and "therapist_id" in response.json["errors"]["json"]
    )
    listed = admin.get("/api/patients", query_string={"therapist_id": str(huge)})
    assert listed.status_code == 422
    assert "therapist_id" in listed.json["errors"]["query"]


def test_the_largest_page_is_allowed(world, admin):
    assert admin.get("/api/patients?limit=500").status_code == 200


def test_search_finds_names_in_any_case(app, world, admin):
    add_patients(app, world, 12, prefix="Ömer")
    add_patients(app, world, 3, prefix="Ruth")
    found = all_pages(admin, 4, q="rUTh")
    assert sum(len(page) for page in found) == 3
    assert admin.get("/api/patients?q=100%25").json == []  # LIKE's % is literal


def test_filters_by_therapist_alert_and_flag(app, world, admin, therapist):
    add_patients(app, world, 4, therapist="therapist_a2")
    with app.app_context():
        db.session.add(
            Alert(
                clinic_id=world.clinic_a,
                patient_id=world.patient_a,
                rule="pain_high",
                severity="warning",
            )
        )
        today = today_in("Europe/London")
        for days_ago, score in ((2, 8), (3, 9), (10, 2), (11, 1)):
            db.session.add(
                PainLog(
                    id=uuid.uuid4(),
                    patient_id=world.patient_a2,
                    logged_on=today - timedelta(days=days_ago),
                    score=score,
                )
            )
        db.session.commit()

    def ids(**query):
        return {i for page in all_pages(admin, 2, **query) for i in page}

    assert len(ids(therapist_id=world.therapist_a2)) == 5
    assert ids(therapist_id=world.therapist_a) == {world.patient_a}
    assert ids(alert="open") == {world.patient_a}
    assert ids(flag="pain_rising") == {world.patient_a2}
    assert len(ids(flag="invite_pending")) == 4  # the four without a password
    # a therapist's filter cannot widen what they see
    assert (
        therapist.get(
            "/api/patients", query_string={"therapist_id": world.therapist_a2}
        ).json
        == []
    )


def test_another_clinics_patients_never_appear(app, world, admin, signed_in):
    add_patients(app, world, 5)
    other = signed_in("admin_b")
    pages = all_pages(other, 2)
    assert [i for page in pages for i in page] == [world.patient_b]
    # a cursor taken from clinic A's list shows clinic B's admin nothing of A
    after = admin.get("/api/patients", query_string={"limit": 1}).headers[
        "X-Next-Cursor"
    ]
    shown = other.get("/api/patients", query_string={"after": after}).json
    assert {p["clinic_id"] for p in shown} <= {world.clinic_b}


def test_a_page_costs_the_same_statements_however_many_patients(app, world, admin):
    with app.app_context():
        engine = db.engine

    def statements(**query) -> int:
        seen = []

        def count(*args):
            seen.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            assert admin.get("/api/patients", query_string=query).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(seen)

    small = statements(limit=10)
    add_patients(app, world, 60)
    assert statements(limit=10) == small
    assert statements(limit=50, q="zed") == small


ELSEWHERE = "You already have a Homeward account with another clinic"


def test_another_clinics_patients_email_enrols_like_a_new_email(world, admin, mailbox):
    known_elsewhere = enrol(admin, email="PAT@b.test")  # clinic B's patient
    new = enrol(admin, email="nobody@a.test")
    assert known_elsewhere.status_code == new.status_code == 201
    assert set(known_elsewhere.json) == set(new.json)
    assert known_elsewhere.json["clinic_id"] == world.clinic_a
    assert known_elsewhere.json["invite_url"].endswith(
        known_elsewhere.json["invite_token"]
    )
    [told] = mailbox.to("pat@b.test")
    assert mailbox.link(told, "#/invite/") == known_elsewhere.json["invite_url"]
    for body in (mailbox.text(told), told.get_body(("html",)).get_content()):
        assert ELSEWHERE in body and "Clinic A" in body
        assert "Clinic B" not in body
    [plain] = mailbox.to("nobody@a.test")
    assert ELSEWHERE not in mailbox.text(plain)


def test_another_clinics_staff_email_is_added_as_new_staff(world, admin, mailbox):
    added = admin.post(
        "/api/staff",
        json={"email": "ther@b.test", "name": "Theo", "role": "therapist"},
    )
    assert added.status_code == 201, added.json
    assert added.json["clinic_id"] == world.clinic_a and added.json["invite_token"]
    [told] = mailbox.to("ther@b.test")
    assert ELSEWHERE in mailbox.text(told) and "Clinic B" not in mailbox.text(told)


def test_an_email_is_one_account_per_clinic_in_the_database(app, world):
    with app.app_context():
        db.session.add(
            User(clinic_id=world.clinic_a, email="pat@a.test", name="x", role="patient")
        )
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
