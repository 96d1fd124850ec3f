"""Alerts: rules that watch each patient's data, raised once per episode.

A rule looks at one patient and says whether its condition holds now (with
what set it off). When it holds and the rule has no open episode for the
patient, an alert is raised (new); when it no longer holds, the episode ends
(the alert stays where the therapist put it). So pain of 8 on five check-ins
in a row raises one alert, not four; after it eases and flares again, a new
one. Acknowledging and resolving are the therapist's and do not end an
episode.

Rules run when data arrives (`judge_new_data`, on services/writes.py's
signal after the write's commit) and in a pass over every patient (`sweep`,
hourly in the worker) for the ones that depend on time passing. Each clinic
may change the numbers and switch rules off (Clinic.alert_settings over RULES).

A critical alert tells the patient's therapist by email, with no health
details: "A patient needs your attention".
"""

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_ngettext
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from backend import mail
from backend.extensions import db
from backend.links import public_url
from backend.models import (
    Alert,
    FlareUp,
    OdiResponse,
    PainLog,
    ProgrammeVersion,
    PsfsResponse,
    User,
)
from backend.services import patient_signals
from backend.services.adherence import adherence_by, pain_by
from backend.services.dates import now_utc, today_in
from backend.services.progress import each_day, pain_mean

log = logging.getLogger(__name__)

# The defaults every clinic starts from; each may change the numbers.
RULES = {
    "pain_high": {"on": True, "severity": "critical", "points": 7, "in_a_row": 2},
    "pain_rising": {"on": True, "severity": "warning", "points": 2},
    "flare_up": {"on": True, "severity": "critical", "points": 7, "days": 7},
    "inactive": {
        "on": True,
        "severity": "warning",
        "days": patient_signals.DEFAULT_INACTIVE_DAYS,
    },
    "no_programme": {"on": True, "severity": "warning", "days": 7},
    # the Oswestry's minimal clinically important difference (10 points)
    "odi_worse": {"on": True, "severity": "warning", "points": 10},
    # the PSFS average's minimal detectable change (2 points)
    "psfs_worse": {"on": True, "severity": "warning", "points": 2},
}
NUMBERS = {"points", "in_a_row", "days"}
# what each kind of data can change (the time-based rules also run in `sweep`)
TRIGGERED_BY = {
    "pain_log": {"pain_high", "pain_rising", "inactive"},
    "exercise_log": {"inactive"},
    "flare_up": {"flare_up"},
    "odi": {"odi_worse"},
    "psfs": {"psfs_worse"},
    "programme": {"no_programme", "inactive"},
}
# what a kind of data can only end, never start: a tick or a check-in ends an
# inactive spell (so on arrival the rule is judged only while one is open)
ONLY_ENDED_BY = {"pain_log": {"inactive"}, "exercise_log": {"inactive"}}
ALL_RULES = set(RULES)


def settings_for(clinic) -> dict:
    """The clinic's rules: the defaults with its own changes."""
    own = clinic.alert_settings or {}
    return {rule: base | own.get(rule, {}) for rule, base in RULES.items()}


@dataclass
class Finding:
    holds: bool
    detail: dict


def _pain_high(patient: User, today: date, rule: dict) -> Finding:
    scores = db.session.scalars(
        select(PainLog.score)
        .where(PainLog.patient_id == patient.id)
        .order_by(PainLog.logged_on.desc(), PainLog.created_at.desc())
        .limit(rule["in_a_row"])
    ).all()
    holds = len(scores) == rule["in_a_row"] and min(scores) >= rule["points"]
    return Finding(holds, {"scores": list(reversed(scores))})


def _pain_rising(patient: User, today: date, rule: dict) -> Finding:
    ids = select(User.id).where(User.id == patient.id)
    pain = pain_by(ids, today - timedelta(days=13), today)
    now = pain_mean(pain, patient.id, each_day(today - timedelta(days=6), today))
    before = pain_mean(
        pain,
        patient.id,
        each_day(today - timedelta(days=13), today - timedelta(days=7)),
    )
    holds = now is not None and before is not None and now - before >= rule["points"]
    return Finding(holds, {"mean_last_7_days": now, "mean_7_days_before": before})


def _flare_up(patient: User, today: date, rule: dict) -> Finding:
    worst = db.session.scalar(
        select(func.max(FlareUp.severity)).where(
            FlareUp.patient_id == patient.id,
            FlareUp.started_on > today - timedelta(days=rule["days"]),
        )
    )
    return Finding(worst is not None and worst >= rule["points"], {"severity": worst})


def _inactive(patient: User, today: date, rule: dict) -> Finding:
    """services/patient_signals.py's `inactive`, over the rule's days."""
    days = rule["days"]
    ids = select(User.id).where(User.id == patient.id)
    due = adherence_by(ids, today - timedelta(days=days), today - timedelta(days=1))
    last = patient_signals.last_logged(ids).get(patient.id)

    def due_on(day: date) -> int:
        found = due.get((patient.id, day))
        return found.due if found is not None else 0

    return Finding(patient_signals.inactive(today, days, due_on, last), {"days": days})


def _no_programme(patient: User, today: date, rule: dict) -> Finding:
    enrolled = today_in(patient.profile.timezone, patient.created_at)
    waited = (today - enrolled).days
    has_one = db.session.scalar(
        select(ProgrammeVersion.id)
        .where(ProgrammeVersion.patient_id == patient.id)
        .limit(1)
    )
    return Finding(
        has_one is None and waited >= rule["days"], {"days_enrolled": waited}
    )


def _last_two(column, order, patient_id: int) -> list:
    return list(
        reversed(
            db.session.scalars(
                select(column)
                .where(order.class_.patient_id == patient_id)
                .order_by(order.desc(), order.class_.id.desc())
                .limit(2)
            ).all()
        )
    )


def _odi_worse(patient: User, today: date, rule: dict) -> Finding:
    scores = _last_two(OdiResponse.score_pct, OdiResponse.taken_on, patient.id)
    holds = len(scores) == 2 and scores[1] - scores[0] >= rule["points"]
    return Finding(holds, {"scores": scores})


def _psfs_worse(patient: User, today: date, rule: dict) -> Finding:
    means = _last_two(PsfsResponse.mean, PsfsResponse.taken_on, patient.id)
    holds = len(means) == 2 and means[0] - means[1] >= rule["points"]
    return Finding(holds, {"means": means})


CHECKS = {
    "pain_high": _pain_high,
    "pain_rising": _pain_rising,
    "flare_up": _flare_up,
    "inactive": _inactive,
    "no_programme": _no_programme,
    "odi_worse": _odi_worse,
    "psfs_worse": _psfs_worse,
}


def _open_episodes(patient_id: int) -> set[str]:
    return set(
        db.session.scalars(
            select(Alert.rule).where(Alert.patient_id == patient_id, Alert.episode_open)
        )
    )


def evaluate(
    patient: User,
    rules: set[str] = ALL_RULES,
    now: datetime | None = None,
    tell: bool = True,
):
    """Run `rules` for one patient: raise what starts an episode, end the
    episodes whose condition cleared. A critical alert raised queues an
    email to the therapist in the same transaction (unless `tell` is false:
    the sweep sends one email per therapist instead). Commits; returns the
    alerts raised."""
    now = now or now_utc()
    today = today_in(patient.profile.timezone, now)
    settings = settings_for(patient.clinic)
    open_rules = _open_episodes(patient.id)
    raised, cleared = [], []
    for name in sorted(rules):
        rule = settings[name]
        finding = (
            CHECKS[name](patient, today, rule) if rule["on"] else Finding(False, {})
        )
        if finding.holds and name not in open_rules:
            raised.append(
                Alert(
                    clinic_id=patient.clinic_id,
                    patient_id=patient.id,
                    rule=name,
                    severity=rule["severity"],
                    detail=finding.detail,
                    raised_at=now,
                )
            )
        elif not finding.holds and name in open_rules:
            cleared.append(name)
    if cleared:
        db.session.execute(
            update(Alert)
            .where(
                Alert.patient_id == patient.id,
                Alert.rule.in_(cleared),
                Alert.episode_open,
            )
            .values(episode_open=False)
        )
    kept = []
    for alert in raised:
        try:
            with db.session.begin_nested():  # another writer raised it first: fine
                db.session.add(alert)
            kept.append(alert)
        except IntegrityError:
            log.info(
                "alert %s of patient %s raised by another writer",
                alert.rule,
                patient.id,
            )
    if tell and any(alert.severity == "critical" for alert in kept):
        _tell_therapist(patient.profile.therapist, 1)
    db.session.commit()
    return kept


def open_counts(patient_ids) -> dict[int, int]:
    """{patient id: alerts not resolved}, in one grouped query."""
    return dict(
        db.session.execute(
            select(Alert.patient_id, func.count())
            .where(Alert.patient_id.in_(patient_ids), Alert.state != "resolved")
            .group_by(Alert.patient_id)
        ).all()
    )


def rules_for(patient_id: int, kinds: set[str]) -> set[str]:
    """The rules new data of `kinds` can change. One that all of them can
    only end is among them only while its episode is open (after nearly
    every tick the answer is none, and nothing more is read)."""
    rules = set().union(*(TRIGGERED_BY.get(kind, set()) for kind in kinds))
    if_open = {
        rule
        for rule in rules
        if all(
            rule in ONLY_ENDED_BY.get(kind, set())
            for kind in kinds
            if rule in TRIGGERED_BY.get(kind, set())
        )
    }
    if if_open:
        rules -= if_open - _open_episodes(patient_id)
    return rules


def judge_new_data(_app, news) -> None:
    """Receiver of services/writes.py `data_stored`: judge the rules the new
    data (`news.kinds`, committed) can change. Commits what it raises or
    ends; a critical alert's email is queued, never sent here."""
    rules = rules_for(news.patient_id, news.kinds)
    if rules:
        evaluate(db.session.get(User, news.patient_id), rules)


def sweep(now: datetime | None = None, batch: int = 200) -> int:
    """Every active patient's rules (the time-based ones need it: a day with
    nothing logged raises no write). Each therapist with patients newly
    needing attention (a critical alert) gets one email saying how many.
    Returns how many alerts were raised."""
    now = now or now_utc()
    raised = 0
    last_id = 0
    critical: dict[int, set[int]] = {}  # therapist id: patient ids
    while True:
        patients = db.session.scalars(
            select(User)
            .where(User.role == "patient", User.active.is_(True), User.id > last_id)
            .order_by(User.id)
            .limit(batch)
        ).all()
        if not patients:
            break
        for patient in patients:
            kept = evaluate(patient, ALL_RULES, now, tell=False)
            raised += len(kept)
            therapist_id = patient.profile.therapist_id
            if therapist_id and any(a.severity == "critical" for a in kept):
                critical.setdefault(therapist_id, set()).add(patient.id)
        last_id = patients[-1].id
        db.session.expunge_all()
    for therapist_id, patient_ids in critical.items():
        _tell_therapist(
            db.session.get(User, therapist_id), len(patient_ids), sweep=True
        )
    db.session.commit()
    return raised


def _tell_therapist(therapist: User | None, patients: int, sweep: bool = False) -> None:
    """Queue "`patients` need your attention" for the therapist (the caller
    commits). On arrival, at most one such email waits and one goes per 15
    minutes (mail.py); the hourly sweep sends one with its count."""
    if therapist is None or not therapist.active:
        return
    mail.queue(
        therapist,
        lazy_ngettext(
            "A patient needs your attention",
            "%(num)d patients need your attention",
            patients,
        ),
        "alert",
        kind="alert",
        coalesce_key=None if sweep else f"alerts:{therapist.id}",
        name=therapist.name,
        clinic_name=therapist.clinic.name,
        patients=patients,
        link=public_url("/#/alerts"),
    )
