"""Search: the signed-in user's messages, by their words."""

from __future__ import annotations

from flask import Blueprint, Response
from flask_jwt_extended import jwt_required

from app.api.deps import parse_query, respond, signed_in_user
from app.api.openapi import documented
from app.extensions import get_db
from app.schemas.search import SearchQuery, SearchResults
from app.services import search

bp = Blueprint("search", __name__, url_prefix="/api")


@bp.get("/search")
@jwt_required()
@documented(
    summary="Search your messages (every word, as a prefix; best matches first)",
    query=SearchQuery,
    response=SearchResults,
)
def search_messages() -> tuple[Response, int]:
    query = parse_query(SearchQuery)
    hits = search.search_messages(get_db(), signed_in_user().id, query.terms, query.limit)
    return respond(SearchResults(items=hits))
