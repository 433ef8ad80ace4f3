"""Feedback: a user rates their replies (thumbs up or down, a comment); admins list it with
filters and export it as CSV."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, Response, stream_with_context
from flask_jwt_extended import jwt_required

from app.api.deps import no_content, parse_body, parse_query, require_admin, respond, signed_in_user
from app.api.openapi import documented
from app.enums import Rating
from app.extensions import get_db
from app.schemas.feedback import (
    FeedbackAdminOut,
    FeedbackIn,
    FeedbackOut,
    FeedbackPage,
    FeedbackQuery,
)
from app.services import feedback

bp = Blueprint("feedback", __name__, url_prefix="/api")


@bp.put("/messages/<int:message_id>/feedback")
@jwt_required()
@documented(summary="Rate your reply (again: the rating changes)", body=FeedbackIn,
            response=FeedbackOut)  # fmt: skip
def rate_reply(message_id: int) -> tuple[Response, int]:
    body = parse_body(FeedbackIn)
    rating = Rating(body.rating)
    row = feedback.rate_reply(get_db(), signed_in_user().id, message_id, rating, body.comment)
    return respond(FeedbackOut.model_validate(row))


@bp.delete("/messages/<int:message_id>/feedback")
@jwt_required()
@documented(summary="Withdraw your rating of a reply", status=204)
def withdraw_rating(message_id: int) -> tuple[Response, int]:
    feedback.withdraw_rating(get_db(), signed_in_user().id, message_id)
    return no_content()


def _filter(query: FeedbackQuery) -> feedback.FeedbackFilter:
    return feedback.FeedbackFilter(
        rating=Rating(query.rating) if query.rating else None,
        template_id=query.template_id,
        model=query.model,
        since=query.since,
        until=query.until,
    )


@bp.get("/admin/feedback")
@jwt_required()
@documented(summary="Feedback on replies, newest first, filtered (admins only)",
            query=FeedbackQuery, response=FeedbackPage)  # fmt: skip
def list_feedback() -> tuple[Response, int]:
    require_admin()
    query = parse_query(FeedbackQuery)
    db, where = get_db(), _filter(query)
    rows = feedback.list_feedback(db, where, query.limit, query.offset)
    up, down = feedback.count_feedback(db, where)
    items = [
        FeedbackAdminOut(
            **{k: getattr(r.feedback, k) for k in ("id", "message_id", "rating", "comment",
               "template_id", "template_name", "model_name", "created_at")},
            username=r.username, question=r.question, reply=r.reply,
        )  # fmt: skip
        for r in rows
    ]
    return respond(FeedbackPage(items=items, up=up, down=down, models=feedback.rated_models(db)))


@bp.get("/admin/feedback/export")
@jwt_required()
@documented(summary="The filtered feedback as CSV (admins only)", query=FeedbackQuery)
def export_feedback() -> Response:
    require_admin()
    where = _filter(parse_query(FeedbackQuery))
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        stream_with_context(feedback.feedback_csv(get_db(), where)),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="feedback-{stamp}.csv"'},
    )
