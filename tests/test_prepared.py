"""Prepared statements (backend/prepared.py) and the signed-in `Identity` they load."""

import uuid
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import bindparam, func, select
from sqlalchemy.exc import IntegrityError

from backend.auth import IDENTITY, Identity, load_identity
from backend.extensions import db
from backend.models import ExerciseLog, PatientProfile, User
from backend.prepared import Prepared
from backend.services.logs import INSERT
from backend.services.routine import PAIN, PROGRAMME, TICKS
from tests.conftest import exercise_id, item, new_id, prescribe


def through_sqlalchemy(prepared: Prepared, params: dict) -> list[dict]:
    rows = db.session.execute(prepared.statement, params)
    return [dict(row._mapping) for row in rows]


def test_prepared_statements_read_exactly_what_sqlalchemy_reads(
    app, world, patient, therapist
):
    """UUIDs, dates, UTC datetimes, booleans and NULLs come out as the same Python
    values as through `Session.execute`, on SQLite and on PostgreSQL."""
    knee = exercise_id(therapist)
    prescribe(therapist, world.patient_a, [item(knee, times=2)])
    url = f"/api/patients/{world.patient_a}"
    today = patient.get(f"{url}/routine").json["today"]
    kept, undone = new_id(), new_id()
    for tick_id in (kept, undone):
        tick = {"id": tick_id, "exercise_id": knee, "performed_on": today}
        assert patient.post(f"{url}/exercise-logs", json=tick).status_code == 201
    assert patient.delete(f"{url}/exercise-logs/{undone}").status_code == 204
    pain = {"id": new_id(), "logged_on": today, "score": 3, "note": "stiff"}
    assert patient.post(f"{url}/pain-logs", json=pain).status_code == 201

    every_tick = Prepared(
        select(*ExerciseLog.__table__.c).where(
            ExerciseLog.patient_id == bindparam("patient_id")
        )
    )
    params = {"patient_id": world.patient_a, "day": date.fromisoformat(today)}
    with app.app_context():
        for prepared in (PROGRAMME, TICKS, PAIN, every_tick):
            expected = through_sqlalchemy(prepared, params)
            assert prepared.all(params) == expected
        assert len(every_tick.all(params)) == 2
        [stored_undone] = [
            row for row in every_tick.all(params) if row["deleted_at"] is not None
        ]
        assert str(stored_undone["id"]) == undone
        assert stored_undone["deleted_at"].utcoffset().total_seconds() == 0
        for user_id in (world.patient_a, world.therapist_a):
            [row] = IDENTITY.all({"user_id": user_id})
            assert row == through_sqlalchemy(IDENTITY, {"user_id": user_id})[0]
            assert row["active"] is True


def test_a_prepared_statement_refuses_an_expanding_in(app):
    statement = Prepared(
        select(User.id).where(User.id.in_(bindparam("ids", expanding=True)))
    )
    with app.app_context(), pytest.raises(ValueError, match="expanding"):
        statement.all({"ids": [1, 2]})


def test_the_identity_is_the_users_row_and_profile(app, world):
    with app.app_context():
        patient = load_identity(world.patient_a)
        stored = db.session.get(User, world.patient_a)
        profile = db.session.get(PatientProfile, world.patient_a)
        assert patient == Identity.of(stored)
        assert (patient.timezone, patient.therapist_id) == (
            profile.timezone,
            profile.therapist_id,
        )
        therapist = load_identity(world.therapist_a)
        assert (therapist.role, therapist.timezone, therapist.is_staff) == (
            "therapist",
            None,
            True,
        )
        assert load_identity(10**9) is None


def test_a_deactivated_patient_is_signed_out_on_their_next_request(app, world, patient):
    """The identity is read fresh on every request, never kept between them."""
    routine = f"/api/patients/{world.patient_a}/routine"
    assert patient.get(routine).status_code == 200
    with app.app_context():
        db.session.get(User, world.patient_a).active = False
        db.session.commit()
    assert patient.get(routine).status_code == 401
    with app.app_context():
        db.session.get(User, world.patient_a).active = True
        db.session.commit()
    assert patient.get(routine).status_code == 200


def test_a_prepared_write_joins_the_session_transaction_and_reports_integrity_errors(
    app, world, therapist
):
    """`write` runs in the ORM session's transaction: rolled back with it, and a
    duplicate key raises SQLAlchemy's IntegrityError, which `logs.store` retries
    on, not the driver's own exception."""
    knee = exercise_id(therapist)
    tick_id = new_id()
    row = dict.fromkeys(ExerciseLog.__table__.c.keys()) | {
        "id": uuid.UUID(tick_id),
        "patient_id": world.patient_a,
        "exercise_id": knee,
        "performed_on": date(2026, 1, 5),
        "created_at": datetime(2026, 1, 5, 9, 30, tzinfo=UTC),
    }
    ticks = select(func.count()).select_from(ExerciseLog)
    with app.app_context():
        INSERT["exercise_log"].write([row])
        assert db.session.scalar(ticks) == 1  # same transaction: visible
        db.session.rollback()
        assert db.session.scalar(ticks) == 0

        INSERT["exercise_log"].write([row])
        db.session.commit()
        with pytest.raises(IntegrityError):
            INSERT["exercise_log"].write([row])
        db.session.rollback()
        stored = db.session.get(ExerciseLog, row["id"])
        assert (stored.performed_on, stored.created_at) == (
            row["performed_on"],
            row["created_at"],
        )
