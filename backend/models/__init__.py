"""SQLAlchemy models, one module per aggregate, all imported here for Alembic."""

from backend.models.alerts import Alert
from backend.models.clinical import HELPED, TRIGGERS, FlareUp, Message, PsfsResponse
from backend.models.exercises import CATEGORIES, Exercise, ExerciseMedia
from backend.models.jobs import ExportJob
from backend.models.logs import AdherenceDay, ExerciseLog, PainLog
from backend.models.outbox import OutboxMail, OutboxPush
from backend.models.outcomes import OdiResponse
from backend.models.oversight import ApiToken, AuditEvent
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
    "Alert",
    "CHANNELS",
    "PushSubscription",
    "ReminderSend",
    "ReminderSettings",
    "AdherenceDay",
    "ApiToken",
    "AuditEvent",
    "CATEGORIES",
    "HELPED",
    "ROLES",
    "STAFF_ROLES",
    "TRIGGERS",
    "Clinic",
    "Exercise",
    "FlareUp",
    "ExerciseMedia",
    "ExerciseLog",
    "ExportJob",
    "OutboxMail",
    "OutboxPush",
    "Invitation",
    "Message",
    "OdiResponse",
    "PainLog",
    "PatientProfile",
    "ProgrammeItem",
    "ProgrammeVersion",
    "PsfsResponse",
    "RecoveryCode",
    "User",
    "UserSession",
    "weekday_mask",
]
