"""What happens once a patient's data has arrived: the one hook that alerts
hang on.

Every view (and the sync) that stores a pain check-in, a flare-up report, a
message, a PSFS or an Oswestry questionnaire (and ticks too, and their undo)
calls `arrived` after its commit, with the kinds it newly stored; a replay
stores nothing and calls nothing. A view may ask `arriving` first, in the
transaction that stores the record, and pass its answer on: the views of a
single tick, check-in or flare-up report do, so that after a tick (which can
only end an open inactive spell) the request reads nothing more.
"""

import logging
from collections.abc import Iterable

from backend.extensions import db
from backend.services import alerts

log = logging.getLogger(__name__)


def data_arrived(
    patient_id: int, kinds: set[str], rules: set[str] | None = None
) -> None:
    """New records of `kinds` were just committed for the patient, in this
    request. The kinds are services/logs.py's Kind names ("exercise_log",
    "pain_log", "message", "flare_up"; "deleted_exercise_log" for an undone
    tick) and the questionnaires ("odi", "psfs").

    The alert rules those kinds can change (`rules`, from `arriving`, else
    found now) are judged (services/alerts.py). The session is clean when this
    is called; what it adds, it commits itself.
    """
    alerts.data_arrived(patient_id, kinds, rules)


def arriving(patient_id: int, kinds: Iterable[str]) -> set[str]:
    """In the transaction that will store new records of `kinds`: what
    `arrived` will need to judge after the commit (read now, so that when
    it is nothing no second transaction opens)."""
    return alerts.rules_for(patient_id, set(kinds))


def arrived(
    patient_id: int, kinds: Iterable[str], rules: set[str] | None = None
) -> None:
    """Call `data_arrived` when something new was stored (with `rules` from
    `arriving`, if the view asked). Its failure is logged and rolled back,
    never raised: the records are committed already, and a 500 would only
    make the phone send them again."""
    kinds = set(kinds)
    if not kinds:
        return
    try:
        data_arrived(patient_id, kinds, rules)
    except Exception:
        db.session.rollback()
        log.exception("data_arrived failed for patient %s (%s)", patient_id, kinds)
