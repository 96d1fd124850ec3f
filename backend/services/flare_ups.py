"""Flare-up reports read back: the markers on the progress chart and the
summary of what sets a patient's flare-ups off and what helps. (Storing a
report is idempotent by its UUID, as for the logs: services/logs.py FLARE_UP.)

"The 48 hours after a report" are counted in days: the two days after the
day its flare-up started (started_on + 1 and + 2). Pain check-ins carry a day,
not an hour, and a report made offline or some days later still counts from
the flare-up's start; the start day itself is left out, as its pain is the
flare-up's own, not what followed what helped.
"""

from collections import Counter
from datetime import date, timedelta

from sqlalchemy import func, select

from backend.extensions import db
from backend.models import HELPED, TRIGGERS, FlareUp, PainLog

AFTER_DAYS = (1, 2)  # the 48 hours after a flare-up's start, in days


def markers(patient_id: int, start: date, end: date) -> list:
    """The reports of flare-ups that started from `start` to `end`: id,
    started_on and severity, in order."""
    return db.session.execute(
        select(FlareUp.id, FlareUp.started_on, FlareUp.severity)
        .where(
            FlareUp.patient_id == patient_id,
            FlareUp.started_on.between(start, end),
        )
        .order_by(FlareUp.started_on, FlareUp.created_at)
    ).all()


def summary(patient_id: int) -> dict:
    """Counts of triggers and of what helped over all the patient's reports,
    and for each thing that helped the mean pain after the reports that
    named it (see `summarise`)."""
    reports = db.session.execute(
        select(FlareUp.started_on, FlareUp.triggers, FlareUp.helped).where(
            FlareUp.patient_id == patient_id
        )
    ).all()
    pain = {}
    if reports:
        first = min(r.started_on for r in reports) + timedelta(days=AFTER_DAYS[0])
        last = max(r.started_on for r in reports) + timedelta(days=AFTER_DAYS[-1])
        pain = {
            row.logged_on: (int(row.total), row.logs)
            for row in db.session.execute(
                select(
                    PainLog.logged_on,
                    func.sum(PainLog.score).label("total"),
                    func.count().label("logs"),
                )
                .where(
                    PainLog.patient_id == patient_id,
                    PainLog.logged_on.between(first, last),
                )
                .group_by(PainLog.logged_on)
            )
        }
    return summarise(reports, pain)


def summarise(reports, pain_by_day: dict[date, tuple[int, int]]) -> dict:
    """The summary of `reports` (each with started_on, triggers, helped) given
    {day: (sum of pain scores, number of check-ins)}.

    For each thing that helped: the mean of the pain check-ins logged in the
    two days after the start day of any report that named it, each check-in
    counted once however many of those reports it follows; null when there
    are none.
    """
    triggers = Counter(name for report in reports for name in report.triggers)
    helped = {}
    for name in HELPED:
        named = [report for report in reports if name in report.helped]
        days = {
            report.started_on + timedelta(days=offset)
            for report in named
            for offset in AFTER_DAYS
        }
        total = sum(pain_by_day[day][0] for day in days if day in pain_by_day)
        logs = sum(pain_by_day[day][1] for day in days if day in pain_by_day)
        helped[name] = {
            "reports": len(named),
            "pain_mean_48h": round(total / logs, 2) if logs else None,
            "pain_logs_48h": logs,
        }
    return {
        "reports": len(reports),
        "triggers": {name: triggers[name] for name in TRIGGERS},
        "helped": helped,
    }
