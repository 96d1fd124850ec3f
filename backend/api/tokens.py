"""API tokens: an admin makes one for a script, sees its secret once, can revoke it."""

from flask_babel import gettext as _
from flask_smorest import Blueprint
from sqlalchemy import select

from backend.api.common import documents
from backend.auth import clinic_record_or_404, require_role
from backend.extensions import db
from backend.models import ApiToken
from backend.schemas.progress import NewTokenSchema, TokenInSchema, TokenSchema
from backend.services import tokens
from backend.services.dates import now_utc

blp = Blueprint("tokens", __name__, url_prefix="/api/tokens", description="API tokens")


@blp.route("", methods=["POST"])
@blp.arguments(TokenInSchema())
@blp.response(201, NewTokenSchema)
@documents(blp, 401, 403)
def create_token(body):
    admin = require_role("admin")
    token, secret = tokens.create(admin, body["name"].strip())
    db.session.commit()
    return {
        "id": token.id,
        "name": token.name,
        "token": secret,
        "created_at": token.created_at,
        "last_used_at": None,
        "revoked_at": None,
    }


@blp.route("", methods=["GET"])
@blp.response(200, TokenSchema(many=True))
@documents(blp, 401, 403)
def list_tokens():
    admin = require_role("admin")
    return db.session.scalars(
        select(ApiToken)
        .where(ApiToken.clinic_id == admin.clinic_id)
        .order_by(ApiToken.created_at.desc())
    ).all()


@blp.route("/<int:token_id>", methods=["DELETE"])
@blp.response(204)
@documents(blp, 401, 403, 404)
def revoke_token(token_id):
    token = clinic_record_or_404(ApiToken, token_id, _("No such token."))
    if token.revoked_at is None:
        token.revoked_at = now_utc()
        db.session.commit()
