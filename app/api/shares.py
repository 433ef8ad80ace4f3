"""Shared chats: a read-only link to a chat as it was when shared, for signed-in colleagues."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import no_content, respond, signed_in_user
from app.api.openapi import documented
from app.api.rate_limits import client_address
from app.extensions import get_db
from app.schemas.shares import SharedChat, ShareList, ShareOut
from app.services import audit, shares
from app.services.audit import Action
from app.workspace_models import ChatShare

bp = Blueprint("shares", __name__, url_prefix="/api")


@bp.post("/sessions/<int:session_id>/shares")
@jwt_required()
@documented(summary="Share your chat as a read-only link (the chat as it is now)",
            response=ShareOut, status=201)  # fmt: skip
def share_chat(session_id: int) -> tuple[Response, int]:
    user = signed_in_user()
    audit.record(get_db(), Action.CHAT_SHARED, user, target_type="chat_share", target=ChatShare,
                 details={"chat": session_id}, ip=client_address())  # fmt: skip
    share = shares.share_chat(get_db(), user.id, session_id)
    return respond(ShareOut.model_validate(share), 201)


@bp.get("/sessions/<int:session_id>/shares")
@jwt_required()
@documented(summary="The links to your chat, newest first", response=ShareList)
def list_shares(session_id: int) -> tuple[Response, int]:
    rows = shares.chat_shares(get_db(), signed_in_user().id, session_id)
    return respond(ShareList(items=[ShareOut.model_validate(row) for row in rows]))


@bp.delete("/shares/<int:share_id>")
@jwt_required()
@documented(summary="Revoke a link to your chat (it stops working at once)", status=204)
def revoke_share(share_id: int) -> tuple[Response, int]:
    user = signed_in_user()
    audit.record(get_db(), Action.SHARE_REVOKED, user, target_type="chat_share", target=share_id,
                 ip=client_address())  # fmt: skip
    shares.revoke_share(get_db(), user.id, share_id)
    return no_content()


@bp.get("/shared/<token>")
@jwt_required()
@documented(summary="Read a chat shared with a link (any signed-in user)", response=SharedChat)
def read_shared(token: str) -> tuple[Response, int]:
    return respond(shares.shared_chat(get_db(), token))
