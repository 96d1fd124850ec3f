"""Progress of one patient, and the summary line of each patient in a list."""

from datetime import date, timedelta

from sqlalchemy import Select, select

from backend.extensions import db
from backend.models import OdiResponse, PainLog, User
from backend.services import flare_ups, patient_signals, questionnaires
from backend.services.adherence import Totals, adherence_by, pain_by
from backend.services.dates import today_in

PAIN_RISING_POINTS = 2
LOW_ADHERENCE = 0.5


def each_day(start: date, end: date):
    for offset in range((end - start).days + 1):
        yield start + timedelta(days=offset)


def pain_mean(pain: dict, patient_id: int, days) -> float | None:
    """The mean of every pain log on these days (not a mean of daily means)."""
    total = count = 0
    for day in days:
        row = pain.get((patient_id, day))
        if row is not None:
            total += float(row.pain_mean) * row.pain_logs
            count += row.pain_logs
    return round(total / count, 2) if count else None


def _totals(adherence: dict, patient_id: int, days) -> Totals:
    totals = Totals()
    for day in days:
        found = adherence.get((patient_id, day))
        if found is not None:
            totals.due += found.due
            totals.done += found.done
    return totals


def progress(patient: User, start: date, end: date) -> dict:
    """Day by day adherence and pain from `start` to `end` (capped at today),
    with the questionnaires and the flare-ups of those days."""
    today = today_in(patient.profile.timezone)
    end = min(end, today)
    ids = select(User.id).where(User.id == patient.id)
    adherence = adherence_by(ids, start, end) if start <= end else {}
    pain = pain_by(ids, start, end) if start <= end else {}
    all_days = list(each_day(start, end))
    days = []
    for day in all_days:
        totals = adherence.get((patient.id, day), Totals())
        logged = pain.get((patient.id, day))
        days.append(
            {
                "date": day,
                "sessions_due": totals.due,
                "sessions_done": totals.done,
                "adherence": totals.adherence,
                "pain_mean": round(float(logged.pain_mean), 2) if logged else None,
                "pain_max": logged.pain_max if logged else None,
                "spasms": int(logged.spasms) if logged else None,
            }
        )
    return {
        "from": start,
        "to": end,
        "days": days,
        "summary": {
            "adherence": _totals(adherence, patient.id, all_days).adherence,
            "pain_first_7d_mean": pain_mean(pain, patient.id, all_days[:7]),
            "pain_last_7d_mean": pain_mean(pain, patient.id, all_days[-7:]),
        },
        "odi": list(
            db.session.scalars(
                select(OdiResponse)
                .where(
                    OdiResponse.patient_id == patient.id,
                    OdiResponse.taken_on.between(start, end),
                )
                .order_by(OdiResponse.taken_on, OdiResponse.id)
            )
        ),
        "psfs": questionnaires.psfs_history(patient.id, start, end),
        "flare_ups": flare_ups.markers(patient.id, start, end),
    }


def _latest_pain(patient_ids: Select) -> dict:
    """{patient id: the score of their latest pain check-in}: one index probe
    per patient (by ix_pain_logs_patient_day, newest first), however long
    their history."""
    latest = (
        select(PainLog.score)
        .where(PainLog.patient_id == User.id)
        .order_by(PainLog.logged_on.desc(), PainLog.created_at.desc())
        .limit(1)
        .scalar_subquery()
    )
    rows = db.session.execute(select(User.id, latest).where(User.id.in_(patient_ids)))
    return {patient_id: score for patient_id, score in rows if score is not None}


def summaries(
    patients: list[User], patient_ids: Select, inactive_days: dict[int, int]
) -> dict[int, dict]:
    """{patient id: adherence_7d, pain_latest, last_activity, flags}.

    Flags (see README): pain_rising when the last 7 days' mean pain is at least
    2 points above the 7 days before; low_adherence when 7-day adherence is
    below 50 %; inactive as services/patient_signals.py defines it, over
    each patient's clinic's `inactive_days`.
    """
    if not patients:
        return {}
    todays = {p.id: today_in(p.profile.timezone) for p in patients}
    start = min(todays.values()) - timedelta(days=max(13, *inactive_days.values()))
    end = max(todays.values())
    adherence = adherence_by(patient_ids, start, end)
    pain = pain_by(patient_ids, start, end)
    latest_pain = _latest_pain(patient_ids)
    last_activity = patient_signals.last_logged(patient_ids)
    result = {}
    for patient_id, today in todays.items():
        last7 = list(each_day(today - timedelta(days=6), today))
        prev7 = list(each_day(today - timedelta(days=13), today - timedelta(days=7)))
        week = _totals(adherence, patient_id, last7)
        flags = []
        pain_now = pain_mean(pain, patient_id, last7)
        pain_before = pain_mean(pain, patient_id, prev7)
        if (
            pain_now is not None
            and pain_before is not None
            and pain_now - pain_before >= PAIN_RISING_POINTS
        ):
            flags.append("pain_rising")
        if week.adherence is not None and week.adherence < LOW_ADHERENCE:
            flags.append("low_adherence")
        active = last_activity.get(patient_id)
        if patient_signals.inactive(
            today,
            inactive_days[patient_id],
            lambda day, patient_id=patient_id: (
                _totals(adherence, patient_id, [day]).due
            ),
            active,
        ):
            flags.append("inactive")
        result[patient_id] = {
            "adherence_7d": week.adherence,
            "pain_latest": latest_pain.get(patient_id),
            "last_activity": active,
            "flags": flags,
        }
    return result
