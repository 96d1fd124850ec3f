"""Demo and synthetic clinics: staff, patients, programmes and plausible history.

Everything after the staff is bulk-inserted, so a clinic of 10,000 patients
with 180 days of history takes a few minutes. The random generator is seeded:
the same arguments give the same clinic.
"""

import random
import uuid
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.dialects.postgresql import ARRAY

from backend.extensions import db
from backend.models import (
    Clinic,
    Exercise,
    ExerciseLog,
    PainLog,
    PatientProfile,
    ProgrammeItem,
    ProgrammeVersion,
    ReminderSettings,
    User,
    weekday_mask,
)
from backend.services.adherence import store_done
from backend.services.dates import today_in
from backend.services.library import sync_library
from backend.services.reminders import EVERY_DAY

DEMO_PASSWORD = "demo-password-1"
# The demo staff's second factor, published so that `make run` is easy to try:
# any authenticator app (or pyotp) makes their codes from it. Never in a real
# clinic: create-admin makes real accounts, which enrol their own.
DEMO_TOTP_SECRET = "HOMEWARDDEMOSECRETHOMEWARD234567"
DEMO_CLINIC = "Homeward Demo Clinic"
TIMEZONES = [
    "Europe/London",
    "Europe/Berlin",
    "America/New_York",
    "America/Los_Angeles",
    "Australia/Sydney",
    "Pacific/Auckland",
]
FIRST_NAMES = [
    "Pat",
    "Sam",
    "Jo",
    "Alex",
    "Maria",
    "Omar",
    "Lena",
    "Kofi",
    "Ana",
    "Ravi",
]
LAST_NAMES = ["Morgan", "Okafor", "Schmidt", "Nguyen", "Silva", "Khan", "Rossi", "Lee"]
CONDITIONS = [
    "Acute low-back pain with muscle spasm",
    "Chronic non-specific low-back pain",
    "Lumbar strain after lifting",
    "Recurrent lumbar muscle spasms",
]
# (slug, sets, reps, hold seconds, times a day, weekdays)
PROGRAMME_V1 = [
    ("knee-to-chest", 1, 3, 30, 2, range(7)),
    ("pelvic-tilt", 2, 10, 5, 2, range(7)),
    ("cat-camel", 1, 10, 0, 1, range(7)),
    ("heat-pack", 1, 1, 900, 1, range(7)),
]
PROGRAMME_V2 = [
    ("knee-to-chest", 1, 3, 30, 1, range(7)),
    ("bird-dog", 2, 10, 5, 1, (0, 2, 4)),
    ("glute-bridge", 2, 12, 3, 1, (0, 2, 4)),
    ("lumbar-rotation", 1, 10, 5, 2, range(7)),
    ("dead-bug", 2, 8, 0, 1, (1, 3, 5)),
]


def demo_exists() -> bool:
    return (
        db.session.scalar(
            select(User.id)
            .join(Clinic, Clinic.id == User.clinic_id)
            .where(Clinic.name == DEMO_CLINIC, User.email == "admin@demo.test")
        )
        is not None
    )


def seed_demo(
    password_hash: str,
    patients: int = 5,
    days: int = 60,
    today: date | None = None,
    seed: int = 7,
) -> dict:
    """Create the demo clinic; returns counts. The caller commits."""
    rng = random.Random(seed)
    today = today or date.today()
    sync_library()
    db.session.flush()
    clinic = Clinic(name=DEMO_CLINIC)
    db.session.add(clinic)
    db.session.flush()

    def staff(email, name, role):
        user = User(
            clinic_id=clinic.id,
            email=email,
            name=name,
            role=role,
            password_hash=password_hash,
            totp_secret=DEMO_TOTP_SECRET,
            totp_enrolled_at=datetime.now().astimezone(),
        )
        db.session.add(user)
        return user

    staff("admin@demo.test", "Alex Admin", "admin")
    therapist = staff("therapist@demo.test", "Tess Therapist", "therapist")
    colleague = staff("therapist2@demo.test", "Theo Therapist", "therapist")
    db.session.flush()

    first_day = today - timedelta(days=days - 1)
    # enrolled the day their history starts (the day before, east of London)
    enrolled = datetime.combine(first_day - timedelta(days=1), time(12), UTC)
    timezones = _bulk_patients(
        rng, clinic.id, [therapist.id, colleague.id], password_hash, patients, enrolled
    )
    patient_ids = list(timezones)
    exercise_ids = dict(
        db.session.execute(
            select(Exercise.slug, Exercise.id).where(Exercise.slug.is_not(None))
        ).all()
    )
    switch_day = first_day + timedelta(days=days // 2)
    plans = _bulk_programmes(
        patient_ids, exercise_ids, first_day, switch_day, therapist.id
    )
    counts = _bulk_history(rng, timezones, plans, first_day, switch_day)
    # bulk inserts bypass the session's bookkeeping: count sessions done here
    store_done(
        select(User.id).where(User.clinic_id == clinic.id, User.role == "patient"),
        first_day,
    )
    return {"patients": len(patient_ids), **counts}


def _bulk_patients(
    rng, clinic_id, therapist_ids, password_hash, count, enrolled: datetime
) -> dict:
    """Insert the patients; returns {patient id: timezone} in insertion order."""
    rows = []
    for number in range(count):
        if number == 0:
            email, name = "patient@demo.test", "Pat Patient"
        else:
            email = f"patient{number:04d}@demo.test"
            name = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        rows.append(
            {
                "clinic_id": clinic_id,
                "email": email,
                "name": name,
                "role": "patient",
                "password_hash": password_hash,
                "active": True,
                "created_at": enrolled,
            }
        )
    ids = list(
        db.session.scalars(
            insert(User).returning(User.id, sort_by_parameter_order=True), rows
        )
    )
    profiles = [
        {
            "user_id": patient_id,
            # the first therapist has most patients, the demo patient included
            "therapist_id": therapist_ids[1 if index % 4 == 3 else 0],
            "timezone": "Europe/London" if index == 0 else rng.choice(TIMEZONES),
            "condition": rng.choice(CONDITIONS),
            # the programme changed half-way through their history, and they
            # have ticked the new one since: they have read what changed. The
            # demo patient has not yet, so the demo shows what a patient sees
            # after a change.
            "programme_seen_version": None if index == 0 else 2,
        }
        for index, patient_id in enumerate(ids)
    ]
    db.session.execute(insert(PatientProfile), profiles)
    # the demo patient gets a daily email at 18:00 (`make worker` keeps it in
    # instance/outbox/), so staff see a patient with reminders on
    db.session.add(
        ReminderSettings(
            patient_id=ids[0], channel="email", times=["18:00"], days_of_week=EVERY_DAY
        )
    )
    return {profile["user_id"]: profile["timezone"] for profile in profiles}


def _bulk_programmes(patient_ids, exercise_ids, first_day, switch_day, created_by):
    versions = []
    for patient_id in patient_ids:
        versions.append(
            {
                "patient_id": patient_id,
                "version": 1,
                "starts_on": first_day,
                "ends_on": switch_day - timedelta(days=1),
                "note": "Gentle start: ease the spasm, keep moving.",
                "created_by": created_by,
            }
        )
        versions.append(
            {
                "patient_id": patient_id,
                "version": 2,
                "starts_on": switch_day,
                "ends_on": None,
                "note": "Spasms settling: add core work three days a week.",
                "created_by": created_by,
            }
        )
    # one executemany, then the ids in the same order (an INSERT … RETURNING
    # in parameter order goes a row at a time here)
    db.session.execute(insert(ProgrammeVersion), versions)
    version_ids = list(
        db.session.scalars(
            select(ProgrammeVersion.id)
            .where(ProgrammeVersion.patient_id.in_(patient_ids))
            .order_by(ProgrammeVersion.patient_id, ProgrammeVersion.version)
        )
    )
    items = []
    plans = {}
    for index, patient_id in enumerate(patient_ids):
        v1, v2 = version_ids[2 * index], version_ids[2 * index + 1]
        plans[patient_id] = []
        for version_id, spec in ((v1, PROGRAMME_V1), (v2, PROGRAMME_V2)):
            plan = []
            for position, (slug, sets, reps, hold, times, days) in enumerate(spec):
                items.append(
                    {
                        "programme_id": version_id,
                        "position": position,
                        "exercise_id": exercise_ids[slug],
                        "sets": sets,
                        "reps": reps,
                        "hold_seconds": hold,
                        "times_per_day": times,
                        "weekday_mask": weekday_mask(list(days)),
                        "notes": "",
                    }
                )
                plan.append((exercise_ids[slug], times, set(days)))
            plans[patient_id].append(plan)
    db.session.execute(insert(ProgrammeItem), items)
    return plans


def _story(rng, index: int) -> dict:
    """How a patient behaves, so the demo shows every flag: the demo patient is a
    good adherer; then a poor adherer, one who went quiet, one with a flare."""
    story = {"adherence": rng.uniform(0.55, 0.98), "silent_days": 0, "flare": 0}
    if index == 0:
        story["adherence"] = 0.85
    elif index % 6 == 1:
        story["adherence"] = 0.3
    elif index % 6 == 2:
        story["silent_days"] = 6
    elif index % 6 == 3:
        story["flare"] = 3
    return story


TICK_COLUMNS = ("id", "patient_id", "exercise_id", "performed_on", "created_at")
PAIN_COLUMNS = (
    "id",
    "patient_id",
    "logged_on",
    "score",
    "location",
    "spasms",
    "created_at",
)


def _load_rows(model, columns: tuple[str, ...], rows: list[tuple]) -> None:
    """Append many rows to a model's table in the session's transaction. Only
    for history rows whose columns are all given.

    PostgreSQL: one `INSERT … SELECT FROM unnest(…)` per chunk, each column
    bound as one array, so a chunk is one statement and one round trip.
    SQLite (in-process, no round trips): one Core executemany."""
    table = model.__table__
    if db.session.get_bind().dialect.name != "postgresql":
        named = [dict(zip(columns, row, strict=True)) for row in rows]
        db.session.execute(insert(table), named)
        return
    arrays = [
        bindparam(name, list(values), type_=ARRAY(table.c[name].type))
        for name, values in zip(columns, zip(*rows, strict=True), strict=True)
    ]
    unnested = func.unnest(*arrays).table_valued(*columns).render_derived()
    db.session.execute(insert(table).from_select(columns, select(*unnested.c)))


def _bulk_history(
    rng, timezones, plans, first_day, switch_day, chunk: int = 50_000
) -> dict:
    ticks, pains = [], []
    counts = {"exercise_logs": 0, "pain_logs": 0}
    now = datetime.now(UTC)

    def new_id():
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    def flush():
        if ticks:
            _load_rows(ExerciseLog, TICK_COLUMNS, ticks)
            counts["exercise_logs"] += len(ticks)
            ticks.clear()
        if pains:
            _load_rows(PainLog, PAIN_COLUMNS, pains)
            counts["pain_logs"] += len(pains)
            pains.clear()

    for index, patient_id in enumerate(timezones):
        story = _story(rng, index)
        adherence = story["adherence"]
        pain = rng.uniform(6, 8)
        last_day = today_in(timezones[patient_id])  # never in their future
        for offset in range((last_day - first_day).days + 1):
            day = first_day + timedelta(days=offset)
            days_left = (last_day - day).days
            silent = days_left < story["silent_days"]
            plan = plans[patient_id][0 if day < switch_day else 1]
            weekday = day.weekday()
            for exercise_id, times, weekdays in plan:
                if weekday not in weekdays or silent:
                    continue
                for _ in range(times):
                    if rng.random() < adherence:
                        ticks.append((new_id(), patient_id, exercise_id, day, now))
            # pain eases with adherence and drifts back without it
            pain += rng.gauss(-0.08 * adherence + 0.03, 0.35)
            pain = min(9.0, max(1.0, pain))
            flare = story["flare"] if days_left < 7 else 0
            if rng.random() < 0.75 and not silent:
                score = min(10, round(pain + flare))
                pain_id = new_id()  # before the spasms: the same clinic as before
                spasms = max(0, round(rng.gauss(score / 3 - 1, 1)))
                pains.append(
                    (pain_id, patient_id, day, score, "lower back", spasms, now)
                )
            if len(ticks) >= chunk:
                flush()
    flush()
    return counts
