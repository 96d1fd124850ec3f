"""Changes to a patient's own record: name, timezone, condition, therapist."""

from backend.models import User


def apply_changes(patient: User, changes: dict) -> None:
    """Apply already authorised changes; the caller commits. (A new timezone
    changes no stored count: reads stop at the patient's today, wherever
    they are.)"""
    profile = patient.profile
    if "name" in changes:
        patient.name = changes["name"].strip()
    for field in ("timezone", "condition", "therapist_id"):
        if field in changes:
            setattr(profile, field, changes[field])
