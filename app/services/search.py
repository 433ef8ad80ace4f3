"""Full-text search over a user's own messages: SQLite FTS5 (``messages_fts``) or PostgreSQL's
``to_tsvector('simple', content)``, both made by the migration ``a3f6c8e1d205``.

Every query word matches as a prefix ("deplo" finds "deployment"), all words must match, and
the best matches come first. The query is built from the words alone (letters and digits), so
nothing a user types reaches either engine as query syntax. The snippet and its highlights are
cut here, not by the database, so they are plain text for the client to mark up.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import DateTime, Row, text
from sqlalchemy.orm import Session

from app.models import as_utc
from app.schemas.search import Highlight, SearchHit

SNIPPET_CHARS = 160
LEAD_CHARS = 50  # context kept before the first match
ELLIPSIS = "…"

_SQLITE = text(
    "SELECT m.id, m.session_id, s.title, m.role, m.content, m.created_at"
    " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
    " JOIN chat_sessions s ON s.id = m.session_id"
    " WHERE messages_fts MATCH :match AND s.owner_id = :owner"
    " ORDER BY bm25(messages_fts), m.id DESC LIMIT :limit"
).columns(created_at=DateTime(timezone=True))
_POSTGRESQL = text(
    "SELECT m.id, m.session_id, s.title, m.role, m.content, m.created_at"
    " FROM messages m JOIN chat_sessions s ON s.id = m.session_id"
    " WHERE to_tsvector('simple'::regconfig, m.content)"
    " @@ to_tsquery('simple'::regconfig, :match) AND s.owner_id = :owner"
    " ORDER BY ts_rank(to_tsvector('simple'::regconfig, m.content),"
    " to_tsquery('simple'::regconfig, :match)) DESC, m.id DESC LIMIT :limit"
).columns(created_at=DateTime(timezone=True))


def search_messages(
    db: Session, owner_id: int, terms: Sequence[str], limit: int
) -> list[SearchHit]:
    """The owner's messages holding every term (a prefix each), best first."""
    if not terms:
        return []
    if db.get_bind().dialect.name == "sqlite":
        statement, match = _SQLITE, " ".join(f'"{term}"*' for term in terms)
    else:
        statement, match = _POSTGRESQL, " & ".join(f"{term}:*" for term in terms)
    rows = db.execute(statement, {"match": match, "owner": owner_id, "limit": limit}).all()
    return [_hit(row, terms) for row in rows]


def _hit(row: Row[int, int, str, str, str, datetime], terms: Sequence[str]) -> SearchHit:
    message_id, session_id, title, role, content, created_at = row
    snippet, highlights = cut_snippet(content, terms)
    return SearchHit(
        message_id=message_id,
        session_id=session_id,
        session_title=title,
        role=role,
        snippet=snippet,
        highlights=highlights,
        created_at=as_utc(created_at),
    )


def cut_snippet(content: str, terms: Sequence[str]) -> tuple[str, list[Highlight]]:
    """About ``SNIPPET_CHARS`` of ``content`` on one line around its first match, and where the
    words starting with a term lie in it."""
    words = re.compile(
        r"(?<![^\W_])(?:" + "|".join(re.escape(term) for term in terms) + r")[^\W_]*",
        re.IGNORECASE,
    )
    first = words.search(content)
    start = 0 if first is None else max(0, first.start() - LEAD_CHARS)
    if start > 0:  # begin at a word, not inside one
        space = content.rfind(" ", 0, start)
        start = space + 1 if space >= 0 and start - space < 20 else start
    window = re.sub(r"\s", " ", content[start : start + SNIPPET_CHARS])
    lead = ELLIPSIS if start > 0 else ""
    tail = ELLIPSIS if start + SNIPPET_CHARS < len(content) else ""
    marks = [
        Highlight(start=len(lead) + found.start(), end=len(lead) + found.end())
        for found in words.finditer(window)
    ]
    return f"{lead}{window}{tail}", marks
