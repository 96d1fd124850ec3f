"""The Patient-Specific Functional Scale (PSFS): scoring and storing it.

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

from datetime import date

from sqlalchemy import select

from backend.extensions import db
from backend.models import PsfsResponse

MINIMAL_DETECTABLE_CHANGE = 2.0  # points of the mean (90 % confidence)


def mean(activities: list[dict]) -> float:
    """Σ activity scores / number of activities, to two decimals."""
    if not activities:
        raise ValueError("a PSFS needs at least one activity")
    return round(sum(a["score"] for a in activities) / len(activities), 2)


def record(
    patient_id: int, taken_on: date, activities: list[dict], created_by: int
) -> PsfsResponse:
    """Score and store a questionnaire (checked by the schema), and commit."""
    response = PsfsResponse(
        patient_id=patient_id,
        taken_on=taken_on,
        activities=[{"name": a["name"], "score": a["score"]} for a in activities],
        mean=mean(activities),
        created_by=created_by,
    )
    db.session.add(response)
    db.session.commit()
    return response


def history(patient_id: int, start: date | None = None, end: date | None = None):
    """The patient's questionnaires, oldest first (from `start` to `end`
    when given)."""
    query = select(PsfsResponse).where(PsfsResponse.patient_id == patient_id)
    if start is not None and end is not None:
        query = query.where(PsfsResponse.taken_on.between(start, end))
    return db.session.scalars(
        query.order_by(PsfsResponse.taken_on, PsfsResponse.id)
    ).all()
