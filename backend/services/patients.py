"""Changes to a patient's own record: name, timezone, condition, therapist."""

from backend.models import User
from backend.services.adherence import note_changed
from backend.services.dates import today_in


def apply_changes(patient: User, changes: dict) -> None:
    """Apply already authorised changes; the caller commits.

    A new timezone can move the patient's today back (a move west): stored
    sessions done are recounted from the earlier of the two todays, so none is
    kept for a day that is now in their future.
    """
    profile = patient.profile
    if "name" in changes:
        patient.name = changes["name"].strip()
    if "timezone" in changes and changes["timezone"] != profile.timezone:
        before, after = today_in(profile.timezone), today_in(changes["timezone"])
        note_changed(patient.id, min(before, after))
    for field in ("timezone", "condition", "therapist_id"):
        if field in changes:
            setattr(profile, field, changes[field])
