"""The stored sessions done (`adherence_days`) against a naive recount, under
random sequences of everything that can change them.

A hypothesis state machine drives the service layer as the API does: ticks
(some several times a day), undos, offline sync batches with replays and
refused records, new programme versions, moves to another timezone, and days
passing (time-machine). After every step, what the reads use (the day-by-day
engine, the weekly report, a patient's progress) must equal a recount from the
logs themselves (tests/reference.py).
"""

import uuid
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import delete, select

from backend.extensions import db
from backend.models import (
    AdherenceDay,
    Exercise,
    ExerciseLog,
    PainLog,
    ProgrammeVersion,
    User,
)
from backend.schemas.logs import ExerciseLogInSchema, PainLogInSchema
from backend.services import logs, programmes, writes
from backend.services.adherence import adherence_by, week_start
from backend.services.dates import today_in
from backend.services.export import weekly_rows
from backend.services.patients import apply_changes
from backend.services.progress import progress
from tests.reference import reference_totals

pytestmark = pytest.mark.slow

START = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)  # a Monday morning in London
FIRST_DAY = START.date() - timedelta(days=12)  # before anything can be logged
ZONES = ["Europe/London", "Pacific/Kiritimati", "Pacific/Pago_Pago", "Asia/Kolkata"]
SCHEMAS = {"exercise_log": ExerciseLogInSchema(), "pain_log": PainLogInSchema()}

programme_items = st.lists(
    st.tuples(
        st.integers(0, 3),  # which exercise
        st.integers(1, 3),  # times a day
        st.sets(st.integers(0, 6), min_size=1),  # weekdays
    ),
    min_size=1,
    max_size=3,
    unique_by=lambda item: item[0],
)
new_ticks = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 8)), max_size=5)


class StoredDoneMachine(RuleBasedStateMachine):
    """One patient's history, built step by step through the services."""

    app = world = None  # set by the test before the machine runs

    def __init__(self):
        super().__init__()
        self.clock = time_machine.travel(START, tick=False)
        self.now = self.clock.start()
        self.patient = db.session.get(User, self.world.patient_a)
        self.patient.profile.timezone = ZONES[0]
        db.session.commit()
        ids = db.session.scalars(select(Exercise.id).order_by(Exercise.id).limit(5))
        # the fifth is never prescribed: its ticks must never count
        self.exercises = list(ids)
        self.sent: list[dict] = []  # raw ticks as the phone sent them
        self.live: list[uuid.UUID] = []  # ticks stored and not undone

    def today(self) -> date:
        return today_in(self.patient.profile.timezone)

    def tick_body(self, exercise: int, days_ago: int) -> dict:
        day = max(self.today() - timedelta(days=days_ago), FIRST_DAY)
        return {
            "id": str(uuid.uuid4()),
            "exercise_id": self.exercises[exercise],
            "performed_on": day.isoformat(),
        }

    def remember(self, outcomes: list[logs.Outcome]) -> None:
        for outcome in outcomes:
            if outcome.status != "created":
                continue
            if outcome.kind == logs.EXERCISE_LOG.name:
                self.live.append(outcome.record.id)
            elif outcome.kind == logs.UNDO:
                self.live.remove(outcome.record.id)

    @rule(spec=programme_items, starts_in=st.integers(0, 2))
    def new_programme_version(self, spec, starts_in):
        today = self.today()
        items = [
            {
                "exercise_id": self.exercises[exercise],
                "sets": 1,
                "reps": 10,
                "hold_seconds": 0,
                "times_per_day": times,
                "days_of_week": sorted(days),
            }
            for exercise, times, days in spec
        ]
        starts_on = today + timedelta(days=starts_in)
        try:
            programmes.create_version(
                self.patient.id, items, starts_on, "", None, today=today
            )
        except programmes.ProgrammeError:  # before the latest version's start
            db.session.rollback()
            return
        writes.commit()

    @rule(
        exercise=st.integers(0, 4), days_ago=st.integers(0, 8), copies=st.integers(1, 4)
    )
    def tick(self, exercise, days_ago, copies):
        for _ in range(copies):
            body = self.tick_body(exercise, days_ago)
            data = SCHEMAS["exercise_log"].load(body)
            outcome = logs.record(
                self.patient.id,
                self.patient.clinic_id,
                self.today(),
                logs.EXERCISE_LOG,
                data,
            )
            writes.commit()  # as the view does
            self.sent.append(body)
            self.remember([outcome])

    @precondition(lambda self: self.live)
    @rule(pick=st.integers(0, 10_000))
    def undo(self, pick):
        tick_id = self.live[pick % len(self.live)]
        self.remember(logs.store(self.patient.id, {}, [tick_id]))
        writes.commit()

    @rule(
        ticks=new_ticks,
        replays=st.integers(0, 3),
        undos=st.integers(0, 2),
        refused=st.booleans(),
        pain=st.booleans(),
    )
    def sync_batch(self, ticks, replays, undos, refused, pain):
        fresh = [self.tick_body(exercise, days_ago) for exercise, days_ago in ticks]
        again = self.sent[-replays:] if replays else []
        batch = {
            "exercise_log": fresh + again,
            "pain_log": [],
            "deleted_exercise_log": [str(i) for i in self.live[:undos]],
        }
        if refused:  # a record the server refuses: it must change nothing
            future = self.today() + timedelta(days=1)
            batch["exercise_log"].append(
                self.tick_body(0, 0) | {"performed_on": future.isoformat()}
            )
        if pain:
            batch["pain_log"].append(
                {
                    "id": str(uuid.uuid4()),
                    "logged_on": self.today().isoformat(),
                    "score": 5,
                }
            )
        outcomes = logs.sync(
            self.patient.id, self.patient.clinic_id, self.today(), batch, SCHEMAS
        )
        writes.commit()
        self.sent += fresh
        self.remember(outcomes)
        # a replay is never stored twice (nor refused for its content); one from a
        # day that a move west put in the future is refused as such
        replayed = outcomes[len(fresh) : len(fresh) + len(again)]
        assert {o.status for o in replayed} <= {"duplicate", "invalid"}

    @rule(zone=st.sampled_from(ZONES))
    def move(self, zone):
        apply_changes(self.patient, {"timezone": zone})
        db.session.commit()

    @rule(hours=st.integers(1, 50))
    def time_passes(self, hours):
        self.now.shift(timedelta(hours=hours))

    @invariant()
    def every_read_equals_a_recount_from_the_logs(self):
        today = self.today()
        last = today + timedelta(days=2)  # the future never counts
        expected = reference_totals(self.patient.id, FIRST_DAY, last, today)
        ids = select(User.id).where(User.id == self.patient.id)

        by_day = adherence_by(ids, FIRST_DAY, last)
        assert {d: (t.due, t.done) for (_, d), t in by_day.items()} == expected

        weekly = defaultdict(lambda: [0, 0])
        for day, (due, done) in expected.items():
            weekly[week_start(day)][0] += due
            weekly[week_start(day)][1] += done
        report = {
            row["week_start"]: [row["sessions_due"], row["sessions_done"]]
            for row in weekly_rows(ids, FIRST_DAY, last)
            if row["sessions_due"]
        }
        assert report == dict(weekly)

        days = progress(self.patient, FIRST_DAY, last)["days"]
        shown = {d["date"]: (d["sessions_due"], d["sessions_done"]) for d in days}
        assert {d: v for d, v in shown.items() if v[0]} == expected

    def teardown(self):
        self.clock.stop()
        db.session.rollback()
        for model in (AdherenceDay, ExerciseLog, PainLog, ProgrammeVersion):
            db.session.execute(delete(model).where(model.patient_id == self.patient.id))
        db.session.commit()


def test_stored_sessions_done_always_equal_a_recount(app, world):
    StoredDoneMachine.app, StoredDoneMachine.world = app, world
    with app.app_context():
        run_state_machine_as_test(
            StoredDoneMachine,
            settings=settings(
                max_examples=40,
                stateful_step_count=30,
                deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture],
            ),
        )
        db.session.remove()
