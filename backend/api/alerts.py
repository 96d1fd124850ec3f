"""The alerts inbox: a therapist's own patients' alerts (an admin's: the
whole clinic's), most severe first then oldest; acknowledge and resolve."""

from flask_babel import gettext as _
from flask_smorest import Blueprint, abort
from sqlalchemy import case

from backend.access import alert_or_404, require_role, visible_alerts
from backend.api.common import documents
from backend.extensions import db
from backend.models import Alert
from backend.schemas.alerts import AlertQuerySchema, AlertSchema, ResolveSchema
from backend.services.dates import now_utc

blp = Blueprint("alerts", __name__, url_prefix="/api/alerts", description="Alerts")

SEVERITY_ORDER = case({"critical": 0}, value=Alert.severity, else_=1)


@blp.route("", methods=["GET"])
@blp.arguments(AlertQuerySchema(), location="query")
@blp.response(200, AlertSchema(many=True))
@documents(blp, 401, 403)
def list_alerts(query):
    """Alerts by state (default: new and acknowledged), critical first, then
    the longest waiting; `patient_id` narrows to one patient."""
    user = require_role("therapist", "admin")
    statement = visible_alerts(user)
    if query.get("state"):
        statement = statement.where(Alert.state == query["state"])
    else:
        statement = statement.where(Alert.state != "resolved")
    if query.get("patient_id"):
        statement = statement.where(Alert.patient_id == query["patient_id"])
    statement = statement.order_by(SEVERITY_ORDER, Alert.raised_at, Alert.id)
    return db.session.scalars(statement.limit(query["limit"])).all()


@blp.route("/<int:alert_id>/acknowledge", methods=["POST"])
@blp.response(200, AlertSchema)
@documents(blp, 401, 403, 404, 409)
def acknowledge(alert_id):
    """Someone is on it (an alert already acknowledged keeps its first)."""
    user, alert = alert_or_404(alert_id)
    if alert.state == "resolved":
        abort(409, message=_("This alert is resolved already."))
    if alert.state == "new":
        alert.state = "acknowledged"
        alert.acknowledged_by = user.id
        alert.acknowledged_at = now_utc()
        db.session.commit()
    return alert


@blp.route("/<int:alert_id>/resolve", methods=["POST"])
@blp.arguments(ResolveSchema())
@blp.response(200, AlertSchema)
@documents(blp, 401, 403, 404, 409)
def resolve(body, alert_id):
    """Dealt with, with an optional note (acknowledged on the way if it was new)."""
    user, alert = alert_or_404(alert_id)
    if alert.state == "resolved":
        abort(409, message=_("This alert is resolved already."))
    now = now_utc()
    if alert.acknowledged_at is None:
        alert.acknowledged_by, alert.acknowledged_at = user.id, now
    alert.state = "resolved"
    alert.resolved_by, alert.resolved_at = user.id, now
    alert.note = body.get("note") or None
    db.session.commit()
    return alert
