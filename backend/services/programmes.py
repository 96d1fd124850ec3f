"""Versioned programmes: which version is in force on a day, and making a new one."""

from datetime import date, timedelta

from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from backend.extensions import db
from backend.models import ProgrammeItem, ProgrammeVersion, weekday_mask
from backend.services import writes
from backend.services.adherence import note_changed


class ProgrammeError(ValueError):
    """A programme change that would rewrite history; `field` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


# Built once: the patient app asks for it every time it opens.
_IN_FORCE = (
    select(ProgrammeVersion)
    .options(joinedload(ProgrammeVersion.items))
    .where(
        ProgrammeVersion.patient_id == bindparam("patient_id"),
        ProgrammeVersion.in_force_on(bindparam("day")),
    )
)


def version_in_force(patient_id: int, day: date) -> ProgrammeVersion | None:
    """The version in force on `day`, its items and their exercises loaded with
    it in one statement."""
    params = {"patient_id": patient_id, "day": day}
    return db.session.scalars(_IN_FORCE, params).unique().one_or_none()


def history(patient_id: int) -> list[ProgrammeVersion]:
    return list(
        db.session.scalars(
            select(ProgrammeVersion)
            .where(ProgrammeVersion.patient_id == patient_id)
            .order_by(ProgrammeVersion.version.desc())
        )
    )


def latest_version(patient_id: int) -> ProgrammeVersion | None:
    return db.session.scalar(
        select(ProgrammeVersion)
        .where(ProgrammeVersion.patient_id == patient_id)
        .order_by(ProgrammeVersion.version.desc())
        .limit(1)
        .with_for_update()
    )


def create_version(
    patient_id: int,
    items: list[dict],
    starts_on: date,
    note: str,
    created_by: int | None,
    today: date | None = None,
) -> ProgrammeVersion:
    """Add a version starting on `starts_on`; the previous one ends the day before.

    `today` (the patient's) forbids back-dating when given. A second version on
    the same start day leaves the first in the history with an empty range.
    The caller commits.
    """
    if today is not None and starts_on < today:
        raise ProgrammeError(
            "starts_on", _("A new programme cannot start in the past.")
        )
    previous = latest_version(patient_id)
    if previous is not None:
        if starts_on < previous.starts_on:
            raise ProgrammeError(
                "starts_on",
                _(
                    "Must not be before %(day)s, when version %(version)s starts.",
                    day=previous.starts_on.isoformat(),
                    version=previous.version,
                ),
            )
        previous.ends_on = starts_on - timedelta(days=1)
    version = ProgrammeVersion(
        patient_id=patient_id,
        version=(previous.version + 1) if previous else 1,
        starts_on=starts_on,
        ends_on=None,
        note=note,
        created_by=created_by,
        items=[
            ProgrammeItem(
                position=position,
                exercise_id=item["exercise_id"],
                sets=item["sets"],
                reps=item["reps"],
                hold_seconds=item["hold_seconds"],
                times_per_day=item["times_per_day"],
                weekday_mask=weekday_mask(item["days_of_week"]),
                notes=item.get("notes") or "",
            )
            for position, item in enumerate(items)
        ],
    )
    db.session.add(version)
    note_changed(patient_id, starts_on)  # its first day's sessions done may change
    writes.stored(patient_id, {"programme"}, created_by)  # the alert rules judge it
    return version
