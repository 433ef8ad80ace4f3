"""A chat as a file and back: QueueChat's JSON and Markdown out; QueueChat's JSON and ChatGPT's
export in. What is imported is stored as finished turns of a new chat of the importing user,
as text (never as template syntax or special tokens: prompts encode every content as text)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app.enums import FINAL_STATUSES, MessageRole, MessageStatus
from app.errors import InvalidInput
from app.models import ChatSession, Message, utcnow
from app.schemas.chat_export import (
    ChatExport,
    ChatGptConversation,
    ChatImport,
    ExportedMessage,
    QueueChatImport,
)
from app.services.branches import shown_branch
from app.services.ownership import owned_session

IMPORTED_TITLE = "Imported chat"
STATUS_NOTE = {"cancelled": " (stopped)", "error": " (failed)", "filtered": " (withheld)"}
Turn = tuple[MessageRole, str, datetime | None]


def export_chat(db: Session, user_id: int, session_id: int) -> ChatExport:
    """The user's chat as it shows (one branch), with its finished turns (a reply still running
    is left out)."""
    chat = owned_session(db, user_id, session_id)
    rows = shown_branch(db, chat)
    messages = [
        ExportedMessage(
            role="user" if row.role == MessageRole.USER else "assistant",
            content=row.content,
            status=str(row.status),
            created_at=row.created_at,
            model_name=row.model_name,
            finish_reason=row.finish_reason,
            citations=row.citations or [],
        )
        for row in rows
        if row.role == MessageRole.USER or row.status in FINAL_STATUSES
    ]
    return ChatExport(
        title=chat.title, created_at=chat.created_at, exported_at=utcnow(), messages=messages
    )


def as_markdown(export: ChatExport) -> str:
    """The chat as a Markdown document: a heading per turn, the sources under each reply."""
    lines = [f"# {export.title}", "", f"Exported from QueueChat on {moment(export.exported_at)}."]
    for message in export.messages:
        who = "You" if message.role == "user" else "Assistant"
        if message.model_name:
            who += f" · {message.model_name}"
        note = STATUS_NOTE.get(message.status, "")
        lines += ["", f"### {who}{note} · {moment(message.created_at)}", "", message.content]
        sources = [source_line(n, c) for n, c in enumerate(message.citations, start=1)]
        if sources:
            lines += ["", "Sources:", *sources]
    return "\n".join(lines) + "\n"


def source_line(number: int, citation: dict[str, object]) -> str:
    where = [str(citation.get("title") or "document")]
    if citation.get("page") is not None:
        where.append(f"page {citation['page']}")
    if citation.get("heading"):
        where.append(str(citation["heading"]))
    return f"- [{number}] {', '.join(where)}"


def moment(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def import_chats(db: Session, user_id: int, body: ChatImport) -> list[ChatSession]:
    """New chats of the user's, one per conversation given; 422 when none has a message."""
    given = body.root
    conversations = given if isinstance(given, list) else [given]
    chats = []
    for conversation in conversations:
        if isinstance(conversation, QueueChatImport):
            title = conversation.title
            turns: list[Turn] = [
                (MessageRole(m.role), m.content, m.created_at) for m in conversation.messages
            ]
        else:
            title, turns = conversation.title or "", chatgpt_thread(conversation)
        turns = [turn for turn in turns if turn[1].strip()]
        if not turns:
            continue
        chat = ChatSession(owner_id=user_id, title=chat_title(title))
        previous: Message | None = None
        for role, text, when in turns:
            previous = Message(
                session=chat, parent=previous, role=role, content=text,
                status=MessageStatus.DONE, created_at=when or utcnow(),
            )  # fmt: skip
        db.add(chat)
        chats.append(chat)
    if not chats:
        raise InvalidInput("nothing to import: no conversation has a user or assistant message")
    db.commit()
    return chats


def chat_title(title: str) -> str:
    cleaned = " ".join(title.split())[:200].strip()
    return cleaned or IMPORTED_TITLE


def chatgpt_thread(conversation: ChatGptConversation) -> list[Turn]:
    """The branch ChatGPT shows (from ``current_node`` up to the root), oldest first: its user
    and assistant text parts. A parent chain that loops or leaves the mapping ends the walk."""
    mapping = conversation.mapping
    node_id = conversation.current_node
    if node_id not in mapping:
        node_id = next(reversed(mapping))  # no current node given: the last one written
    turns: list[Turn] = []
    seen: set[str] = set()
    while node_id is not None and node_id in mapping and node_id not in seen:
        seen.add(node_id)
        node = mapping[node_id]
        message = node.message
        if message is not None and message.author.role in ("user", "assistant"):
            parts = message.content.parts if message.content and message.content.parts else []
            text = "\n".join(part for part in parts if isinstance(part, str))
            when = (
                datetime.fromtimestamp(message.create_time, UTC)
                if message.create_time is not None
                else None
            )
            turns.append((MessageRole(message.author.role), text, when))
        node_id = node.parent
    turns.reverse()
    return turns
