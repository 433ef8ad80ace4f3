"""Messages: list the shown branch, send, edit or regenerate (202 + queued reply), switch
versions, show, cancel, delete a pair."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import no_content, parse_body, respond, signed_in_user
from app.api.openapi import documented
from app.api.rate_limits import client_address, rate_limited, user_or_ip
from app.extensions import get_db, resources
from app.models import ChatSession
from app.schemas.messages import (
    CancelResult,
    MessageCreate,
    MessageList,
    MessageOut,
    RegenerateBody,
    ReplyQueued,
)
from app.services import branches, chat_files, replies
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
@documented(summary="The messages the chat shows (one branch), oldest first",
            response=MessageList)  # fmt: skip
def list_messages(session_id: int) -> tuple[Response, int]:
    return respond(shown_messages(owned_session(get_db(), signed_in_user().id, session_id)))


def shown_messages(chat: ChatSession) -> MessageList:
    db = get_db()
    messages = branches.shown_branch(db, chat)
    versions = branches.versions_of(db, chat.id, messages)
    files = chat_files.sent_files(db, chat.id)
    return MessageList(
        items=[
            MessageOut.model_validate(m).model_copy(
                update={"versions": versions[m.id], "files": files.get(m.id, [])}
            )
            for m in messages
        ]
    )


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
        file_ids=body.file_ids,
    )
    return queued(result)


@bp.post("/messages/<int:message_id>/edit")
@jwt_required()
@limited_like_a_message
@documented(summary="Send a new version of a question; the old one stays a version",
            body=MessageCreate, response=ReplyQueued, status=202)  # fmt: skip
def edit_message(message_id: int) -> tuple[Response, int]:
    body = parse_body(MessageCreate)
    user = signed_in_user()
    question = owned_message(get_db(), user.id, message_id)
    screen_input(resources(), get_db(), [body.content], chat=(user.id, question.session_id),
                 actor=user, ip=client_address())  # fmt: skip
    result = replies.edit_message(
        resources(), get_db(), user.id, message_id, body.content, sampling=body.as_stored(),
        use_knowledge_base=body.use_knowledge_base, file_ids=body.file_ids,
    )  # fmt: skip
    return queued(result)


@bp.post("/messages/<int:message_id>/show")
@jwt_required()
@documented(summary="Show the branch through this version (its newest continuation)",
            response=MessageList)  # fmt: skip
def show_version(message_id: int) -> tuple[Response, int]:
    chat = branches.show_version(get_db(), signed_in_user().id, message_id)
    return respond(shown_messages(chat))


@bp.post("/sessions/<int:session_id>/regenerate")
@jwt_required()
@limited_like_a_message
@documented(summary="A new version of the last reply shown", body=RegenerateBody,
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
    branches.delete_pair(get_db(), resources().streams, signed_in_user().id, message_id)
    return no_content()
