"""Changes to a patient's own record (name, timezone, condition, therapist),
and the staff's patient list, a page at a time with each patient's summary."""

from dataclasses import dataclass

from sqlalchemy import Select, literal, select, tuple_
from sqlalchemy.orm import selectinload

from backend.extensions import db
from backend.models import Alert, PatientProfile, User
from backend.services import alerts, messages
from backend.services.progress import summaries

# A flag computed from the logs cannot be a WHERE: the list reads up to this
# many pages of candidates for one page of answers, then returns what it found
# with a cursor to go on from (so a rare flag never costs a whole clinic's read).
FLAG_SCANS = 5


@dataclass(frozen=True)
class Sort:
    columns: tuple
    descending: bool = False

    def key(self, patient: User) -> tuple:
        return tuple(getattr(patient, column.key) for column in self.columns)

    def ordered(self, query: Select, after: tuple | None) -> Select:
        if after is not None:
            row, key = tuple_(*self.columns), tuple_(*map(literal, after))
            query = query.where(row < key if self.descending else row > key)
        columns = [c.desc() if self.descending else c for c in self.columns]
        return query.order_by(*columns)


SORTS = {"name": Sort((User.name, User.id)), "newest": Sort((User.id,), True)}


@dataclass
class Page:
    rows: list[tuple[User, dict]]  # (patient, summary), in the sort's order
    after: tuple | None  # the last row's key when there is more, else None


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


def summarised(patients: list[User]) -> dict[int, dict]:
    """{patient id: summary, unread messages, open alerts} for these patients
    only, in the same few statements however many there are."""
    ids = select(User.id).where(User.id.in_([patient.id for patient in patients]))
    inactive_days = {
        patient.id: alerts.settings_for(patient.clinic)["inactive"]["days"]
        for patient in patients
    }
    summary = summaries(patients, ids, inactive_days)
    unread = messages.unread_from_patients(ids)
    alerts_open = alerts.open_counts(ids)
    return {
        patient.id: summary[patient.id]
        | {
            "unread_messages": unread.get(patient.id, 0),
            "open_alerts": alerts_open.get(patient.id, 0),
        }
        for patient in patients
    }


def filtered(patients: Select, query: dict) -> Select:
    """The visible patients narrowed by the list's search and filters (all
    but the flags computed from the logs)."""
    if query.get("q"):
        needle = query["q"].strip()
        patients = patients.where(
            User.name.icontains(needle, autoescape=True)
            | User.email.icontains(needle, autoescape=True)
        )
    if "therapist_id" in query:
        patients = patients.where(PatientProfile.therapist_id == query["therapist_id"])
    if query.get("alert") == "open":
        patients = patients.where(
            User.id.in_(select(Alert.patient_id).where(Alert.state != "resolved"))
        )
    if query.get("flag") == "invite_pending":
        patients = patients.where(User.password_hash.is_(None))
    return patients


def page(patients: Select, query: dict) -> Page:
    """One page of `patients` (a visible_patients query) by keyset: at most
    `limit` rows after the key `after`, each with its summary."""
    sort, limit = SORTS[query["sort"]], query["limit"]
    flag = query.get("flag")
    computed = flag is not None and flag != "invite_pending"
    candidates = filtered(patients, query).options(
        selectinload(User.profile).selectinload(PatientProfile.therapist)
    )
    rows, after = [], query.get("after")
    for _ in range(FLAG_SCANS if computed else 1):
        batch = db.session.scalars(
            sort.ordered(candidates, after).limit(limit + 1)
        ).all()
        more = len(batch) > limit
        batch = batch[:limit]
        summary = summarised(batch)
        for position, patient in enumerate(batch):
            if computed and flag not in summary[patient.id]["flags"]:
                continue
            rows.append((patient, summary[patient.id]))
            if len(rows) == limit:
                left = more or position < len(batch) - 1
                return Page(rows, sort.key(patient) if left else None)
        if not more:
            return Page(rows, None)
        after = sort.key(batch[-1])
    return Page(rows, after)
