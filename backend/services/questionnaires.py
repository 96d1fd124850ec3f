"""The questionnaires a patient fills in (or their therapist with them):
scoring them and adding them to the session. The caller commits with
services/writes.py `commit` (the alert rules then judge them).

## Oswestry Disability Index (ODI)

Oswestry Disability Index scoring, exactly as the API contract defines it.

score = Σ answers / (5 × answered sections) × 100, with at least 8 of the 10
sections answered; bands 0–20 minimal, 21–40 moderate, 41–60 severe,
61–80 crippling, 81–100 bed-bound. A score between two bands' integers (e.g.
20.5) belongs to the higher band, since it is above the lower band's top.

## Patient-Specific Functional Scale (PSFS)

The Patient-Specific Functional Scale (PSFS): scoring and storing it.

The patient names up to three activities they find hard because of their
problem and scores each on an 11-point scale: 0 is "unable to perform the
activity", 10 "able to perform the activity at the same level as before the
injury or problem". The score is the mean: the sum of the activity scores
divided by the number of activities. Later questionnaires ask about the same
activities (the PWA prefills them from the latest of the history), so their
means can be compared.

The minimal detectable change (90 % confidence) is about 2 points for the
mean and 3 points for a single activity: a mean 2 points below the one
before is a real worsening, not noise (alerts use that drop).

Sources: Stratford P, Gill C, Westaway M, Binkley J. "Assessing disability
and change on individual patients: a report of a patient specific measure."
Physiotherapy Canada 1995;47:258–263; the scale sheet's public description
in the Shirley Ryan AbilityLab Rehabilitation Measures Database
(https://www.sralab.org/rehabilitation-measures/patient-specific-functional-scale).
"""

from dataclasses import dataclass
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from backend.extensions import db
from backend.models import OdiResponse, PsfsResponse
from backend.services import writes

# ---- Oswestry ---------------------------------------------------------------

SECTIONS = 10
MIN_ANSWERED = 8
BANDS = ((20, "minimal"), (40, "moderate"), (60, "severe"), (80, "crippling"))


class TooFewAnswers(ValueError):
    pass


@dataclass(frozen=True)
class OdiScore:
    score_pct: float
    band: str
    answered: int


def band_for(score_pct: float) -> str:
    for top, band in BANDS:
        if score_pct <= top:
            return band
    return "bed-bound"


def score(answers: list[int | None]) -> OdiScore:
    """Score ten answers (0..5 or None for a skipped section)."""
    if len(answers) != SECTIONS:
        raise ValueError(f"expected {SECTIONS} answers, got {len(answers)}")
    given = [answer for answer in answers if answer is not None]
    if len(given) < MIN_ANSWERED:
        raise TooFewAnswers(
            _(
                "At least %(least)s of %(sections)s sections must be answered.",
                least=MIN_ANSWERED,
                sections=SECTIONS,
            )
        )
    pct = round(sum(given) / (5 * len(given)) * 100, 1)
    return OdiScore(score_pct=pct, band=band_for(pct), answered=len(given))


def record_odi(
    patient_id: int, taken_on: date, answers: list[int | None], created_by: int
) -> OdiResponse:
    """Score and add an Oswestry questionnaire to the session (TooFewAnswers
    when fewer than 8 sections are answered); the caller commits."""
    result = score(answers)
    response = OdiResponse(
        patient_id=patient_id,
        taken_on=taken_on,
        answers=answers,
        answered=result.answered,
        score_pct=result.score_pct,
        band=result.band,
        created_by=created_by,
    )
    db.session.add(response)
    writes.stored(patient_id, {"odi"}, created_by)
    return response


def odi_history(patient_id: int):
    """Every Oswestry questionnaire of the patient, oldest first."""
    return db.session.scalars(
        select(OdiResponse)
        .where(OdiResponse.patient_id == patient_id)
        .order_by(OdiResponse.taken_on, OdiResponse.id)
    ).all()


# ---- PSFS ---------------------------------------------------------------------

MINIMAL_DETECTABLE_CHANGE = 2.0  # points of the mean (90 % confidence)


def mean(activities: list[dict]) -> float:
    """Σ activity scores / number of activities, to two decimals."""
    if not activities:
        raise ValueError("a PSFS needs at least one activity")
    return round(sum(a["score"] for a in activities) / len(activities), 2)


def record_psfs(
    patient_id: int, taken_on: date, activities: list[dict], created_by: int
) -> PsfsResponse:
    """Score and add a questionnaire (checked by the schema) to the session;
    the caller commits (`writes.commit`)."""
    response = PsfsResponse(
        patient_id=patient_id,
        taken_on=taken_on,
        activities=[{"name": a["name"], "score": a["score"]} for a in activities],
        mean=mean(activities),
        created_by=created_by,
    )
    db.session.add(response)
    writes.stored(patient_id, {"psfs"}, created_by)
    return response


def psfs_history(patient_id: int, start: date | None = None, end: date | None = None):
    """The patient's questionnaires, oldest first (from `start` to `end`
    when given)."""
    query = select(PsfsResponse).where(PsfsResponse.patient_id == patient_id)
    if start is not None and end is not None:
        query = query.where(PsfsResponse.taken_on.between(start, end))
    return db.session.scalars(
        query.order_by(PsfsResponse.taken_on, PsfsResponse.id)
    ).all()
