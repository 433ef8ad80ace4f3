"""Messages: list, send (202 + queued reply), regenerate, show, cancel, delete a pair."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import no_content, parse_body, respond, signed_in_user
from app.api.openapi import documented
from app.api.rate_limits import client_address, rate_limited, user_or_ip
from app.extensions import get_db, resources
from app.schemas.messages import (
    CancelResult,
    MessageCreate,
    MessageList,
    MessageOut,
    RegenerateBody,
    ReplyQueued,
)
from app.services import chats, replies
from app.services.ownership import owned_message, owned_session
from app.services.screening import screen_input

bp = Blueprint("messages", __name__, url_prefix="/api")


def queued(result: replies.QueuedReply) -> tuple[Response, int]:
    body = ReplyQueued(
        user_message_id=result.user_message_id,
        assistant_message_id=result.reply.id,
        status=result.reply.status,
    )
    return respond(body, 202)


@bp.get("/sessions/<int:session_id>/messages")
@jwt_required()
@documented(summary="Messages of a chat session, oldest first", response=MessageList)
def list_messages(session_id: int) -> tuple[Response, int]:
    chat = owned_session(get_db(), signed_in_user().id, session_id)
    return respond(MessageList(items=[MessageOut.model_validate(m) for m in chat.messages]))


# sending and regenerating both queue a reply: one limit, one answer
limited_like_a_message = rate_limited("rate_limit_messages", by=user_or_ip, what="messages")


@bp.post("/sessions/<int:session_id>/messages")
@jwt_required()
@limited_like_a_message
@documented(summary="Send a message; the reply is queued", body=MessageCreate,
            response=ReplyQueued, status=202)  # fmt: skip
def send_message(session_id: int) -> tuple[Response, int]:
    body = parse_body(MessageCreate)
    user = signed_in_user()
    screen_input(resources(), get_db(), [body.content], chat=(user.id, session_id), actor=user,
                 ip=client_address())  # fmt: skip
    result = replies.send_message(
        resources(),
        get_db(),
        signed_in_user().id,
        session_id,
        body.content,
        sampling=body.as_stored(),
        use_knowledge_base=body.use_knowledge_base,
    )
    return queued(result)


@bp.post("/sessions/<int:session_id>/regenerate")
@jwt_required()
@limited_like_a_message
@documented(summary="Replace the last reply with a new one", body=RegenerateBody,
            response=ReplyQueued, status=202)  # fmt: skip
def regenerate(session_id: int) -> tuple[Response, int]:
    body = parse_body(RegenerateBody)
    result = replies.regenerate(
        resources(), get_db(), signed_in_user().id, session_id, body.as_stored()
    )
    return queued(result)


@bp.get("/messages/<int:message_id>")
@jwt_required()
@documented(summary="Show one message", response=MessageOut)
def show_message(message_id: int) -> tuple[Response, int]:
    message = owned_message(get_db(), signed_in_user().id, message_id)
    return respond(MessageOut.model_validate(message))


@bp.post("/messages/<int:message_id>/cancel")
@jwt_required()
@documented(summary="Stop a queued or generating reply", response=CancelResult, status=202)
def cancel(message_id: int) -> tuple[Response, int]:
    db = get_db()
    message = owned_message(db, signed_in_user().id, message_id)
    status = replies.cancel_reply(db, resources().streams, message)
    return respond(CancelResult(message_id=message.id, status=status), 202)


@bp.delete("/messages/<int:message_id>")
@jwt_required()
@documented(summary="Delete a question and its reply (either id); 409 while it runs", status=204)
def delete_pair(message_id: int) -> tuple[Response, int]:
    chats.delete_pair(get_db(), resources().streams, signed_in_user().id, message_id)
    return no_content()
