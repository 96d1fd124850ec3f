"""Property tests (hypothesis): the adherence engine and ODI scoring against
simple reference implementations, over generated programmes and answers."""

import uuid
from datetime import date, timedelta
from fractions import Fraction

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select

from backend.extensions import db
from backend.models import (
    AdherenceDay,
    Exercise,
    ExerciseLog,
    ProgrammeItem,
    ProgrammeVersion,
    User,
)
from backend.services import questionnaires, writes
from backend.services.adherence import adherence_by, note_changed, week_start
from backend.services.programmes import create_version
from tests.reference import reference_totals

answers = st.lists(st.one_of(st.none(), st.integers(0, 5)), min_size=10, max_size=10)


def reference_band(score: Fraction) -> str:
    for top, band in (
        (20, "minimal"),
        (40, "moderate"),
        (60, "severe"),
        (80, "crippling"),
    ):
        if score <= top:
            return band
    return "bed-bound"


@given(answers)
def test_odi_matches_the_contract_formula(given_answers):
    answered = [a for a in given_answers if a is not None]
    if len(answered) < 8:
        with pytest.raises(questionnaires.TooFewAnswers):
            questionnaires.score(given_answers)
        return
    exact = Fraction(sum(answered) * 100, 5 * len(answered))
    result = questionnaires.score(given_answers)
    assert result.answered == len(answered)
    assert abs(Fraction(str(result.score_pct)) - exact) <= Fraction(1, 20)
    assert result.band == reference_band(Fraction(str(result.score_pct)))
    assert 0 <= result.score_pct <= 100


TODAY = date(2026, 6, 10)  # a Wednesday
FIRST = TODAY - timedelta(days=20)

items = st.lists(
    st.tuples(
        st.integers(0, 3),  # which exercise
        st.integers(1, 3),  # times a day
        st.sets(st.integers(0, 6), min_size=1),  # weekdays
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda item: item[0],
)
logs = st.lists(
    st.tuples(st.integers(0, 3), st.integers(0, 24), st.booleans()),  # ex, day, undone
    max_size=40,
)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(first=items, second=items, switch=st.integers(0, 21), ticks=logs)
def test_engine_matches_the_reference_on_generated_programmes(
    app, world, first, second, switch, ticks
):
    with (
        time_machine.travel(f"{TODAY.isoformat()} 12:00Z", tick=False),
        app.app_context(),
    ):
        exercise_ids = db.session.scalars(
            select(Exercise.id).order_by(Exercise.id).limit(4)
        ).all()
        patient = world.patient_a
        try:
            for starts_on, spec in (
                (FIRST, first),
                (FIRST + timedelta(days=switch), second),
            ):
                create_version(
                    patient,
                    [
                        {
                            "exercise_id": exercise_ids[e],
                            "sets": 1,
                            "reps": 1,
                            "hold_seconds": 0,
                            "times_per_day": times,
                            "days_of_week": sorted(days),
                        }
                        for e, times, days in spec
                    ],
                    starts_on,
                    "",
                    None,
                )
            for exercise, offset, undone in ticks:
                db.session.add(
                    ExerciseLog(
                        id=uuid.uuid4(),
                        patient_id=patient,
                        exercise_id=exercise_ids[exercise],
                        performed_on=FIRST - timedelta(days=2) + timedelta(days=offset),
                        deleted_at=db.func.now() if undone else None,
                    )
                )
            start, end = FIRST - timedelta(days=3), TODAY + timedelta(days=3)
            note_changed(patient, start)  # what the write paths do
            writes.commit()
            ids = select(User.id).where(User.id == patient)
            expected = reference_totals(patient, start, end, TODAY)
            found = adherence_by(ids, start, end)
            assert {d: (t.due, t.done) for (_, d), t in found.items()} == expected
            weekly = adherence_by(ids, start, end, week_start)
            assert sum(t.done for t in weekly.values()) == sum(
                done for _, done in expected.values()
            )
            assert sum(t.due for t in weekly.values()) == sum(
                due for due, _ in expected.values()
            )
        finally:
            db.session.rollback()
            db.session.execute(delete(AdherenceDay))
            db.session.execute(delete(ExerciseLog))
            db.session.execute(delete(ProgrammeItem))
            db.session.execute(delete(ProgrammeVersion))
            db.session.commit()
