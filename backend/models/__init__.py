"""SQLAlchemy models, one module per aggregate, all imported here for Alembic."""

from backend.models.access import ApiToken, AuditEvent
from backend.models.exercises import CATEGORIES, Exercise, ExerciseMedia
from backend.models.logs import AdherenceDay, ExerciseLog, PainLog
from backend.models.outcomes import OdiResponse
from backend.models.programmes import ProgrammeItem, ProgrammeVersion, weekday_mask
from backend.models.reminders import (
    CHANNELS,
    PushSubscription,
    ReminderSend,
    ReminderSettings,
)
from backend.models.sessions import UserSession
from backend.models.users import (
    ROLES,
    STAFF_ROLES,
    Clinic,
    Invitation,
    PatientProfile,
    RecoveryCode,
    User,
)

__all__ = [
    "CHANNELS",
    "PushSubscription",
    "ReminderSend",
    "ReminderSettings",
    "AdherenceDay",
    "ApiToken",
    "AuditEvent",
    "CATEGORIES",
    "ROLES",
    "STAFF_ROLES",
    "Clinic",
    "Exercise",
    "ExerciseMedia",
    "ExerciseLog",
    "Invitation",
    "OdiResponse",
    "PainLog",
    "PatientProfile",
    "ProgrammeItem",
    "ProgrammeVersion",
    "RecoveryCode",
    "User",
    "UserSession",
    "weekday_mask",
]
