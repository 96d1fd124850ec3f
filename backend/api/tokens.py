"""API tokens: an admin makes one for a script (of one scope, for at most 90
days), sees its secret once, can revoke it."""

from flask_babel import gettext as _
from flask_smorest import Blueprint

from backend.access import clinic_record_or_404, clinic_tokens, require_role
from backend.api.common import documents
from backend.extensions import db
from backend.models import ApiToken
from backend.schemas.progress import NewTokenSchema, TokenInSchema, TokenSchema
from backend.services import tokens
from backend.services.dates import now_utc

blp = Blueprint("tokens", __name__, url_prefix="/api/tokens", description="API tokens")


def token_view(token: ApiToken) -> dict:
    return {
        "id": token.id,
        "name": token.name,
        "created_at": token.created_at,
        "last_used_at": token.last_used_at,
        "revoked_at": token.revoked_at,
        "expires_at": token.expires_at,
        "scopes": [token.scope],
    }


@blp.route("", methods=["POST"])
@blp.arguments(TokenInSchema())
@blp.response(201, NewTokenSchema)
@documents(blp, 401, 403)
def create_token(body):
    """A token for a script, working `expires_in_days` days (at most 90)."""
    admin = require_role("admin")
    token, secret = tokens.create(
        admin,
        body["name"].strip(),
        scope=body["scopes"][0],
        days=body["expires_in_days"],
        now=now_utc(),
    )
    db.session.commit()
    return token_view(token) | {"token": secret}


@blp.route("", methods=["GET"])
@blp.response(200, TokenSchema(many=True))
@documents(blp, 401, 403)
def list_tokens():
    admin = require_role("admin")
    found = db.session.scalars(
        clinic_tokens(admin).order_by(ApiToken.created_at.desc())
    )
    return [token_view(token) for token in found]


@blp.route("/<int:token_id>", methods=["DELETE"])
@blp.response(204)
@documents(blp, 401, 403, 404)
def revoke_token(token_id):
    token = clinic_record_or_404(ApiToken, token_id, _("No such token."))
    if token.revoked_at is None:
        token.revoked_at = now_utc()
        db.session.commit()
