"""A chat is a tree of messages: a question's parent is the reply it follows, a reply's parent is
its question. Editing a question or regenerating a reply adds a sibling (a version); the chat
shows one branch, from its first question to ``ChatSession.leaf_id``.

Ids grow along every branch (a message is written after its parent), so a branch read by id is
in order. Switching versions shows the newest message written under the chosen one.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import ColumnElement, delete, func, literal, or_, select, update
from sqlalchemy.orm import Session, aliased

from app.enums import OPEN_STATUSES, MessageRole
from app.errors import Conflict
from app.models import ChatSession, Message
from app.services.ownership import owned_message
from app.streams import TokenStreams


def ancestor_ids(db: Session, message_id: int, depth: int | None = None) -> list[int]:
    """The message and the messages it follows, oldest first; ``depth`` bounds how far back."""
    path = (
        select(Message.id, Message.parent_id, literal(0).label("depth"))
        .where(Message.id == message_id)
        .cte("path", recursive=True)
    )
    parent = aliased(Message)
    step = select(parent.id, parent.parent_id, path.c.depth + 1).join(
        path, parent.id == path.c.parent_id
    )
    if depth is not None:
        step = step.where(path.c.depth < depth)
    path = path.union_all(step)
    return sorted(db.scalars(select(path.c.id)))


def subtree_ids(db: Session, message_id: int) -> list[int]:
    """The message and every message under it."""
    tree = select(Message.id).where(Message.id == message_id).cte("tree", recursive=True)
    child = aliased(Message)
    tree = tree.union_all(select(child.id).join(tree, child.parent_id == tree.c.id))
    return [int(row) for row in db.scalars(select(tree.c.id))]


def newest_under(db: Session, message_id: int) -> int:
    """The newest message of the subtree under this one (itself when it has no children)."""
    return max(subtree_ids(db, message_id), default=message_id)


def shown_leaf(db: Session, chat: ChatSession) -> int | None:
    """The last message of the branch the chat shows: its leaf while that is one of its
    messages, else its newest message (None: an empty chat)."""
    newest = select(func.max(Message.id)).where(Message.session_id == chat.id)
    if chat.leaf_id is None:
        return db.scalar(newest)
    owned = select(Message.id).where(Message.id == chat.leaf_id, Message.session_id == chat.id)
    return db.scalar(owned) or db.scalar(newest)


def shown_branch(db: Session, chat: ChatSession) -> list[Message]:
    """The messages the chat shows, oldest first."""
    leaf = shown_leaf(db, chat)
    if leaf is None:
        return []
    ids = ancestor_ids(db, leaf)
    return list(db.scalars(select(Message).where(Message.id.in_(ids)).order_by(Message.id)))


def versions_of(db: Session, chat_id: int, messages: Sequence[Message]) -> dict[int, list[int]]:
    """Each message's versions (its siblings and itself), oldest first."""
    parents = {m.parent_id for m in messages if m.parent_id is not None}
    rows = db.execute(
        select(Message.id, Message.parent_id).where(
            Message.session_id == chat_id,
            or_(Message.parent_id.in_(parents), Message.parent_id.is_(None)),
        )
    )
    by_parent: dict[int | None, list[int]] = defaultdict(list)
    for message_id, parent_id in rows:
        by_parent[parent_id].append(int(message_id))
    return {m.id: sorted(by_parent[m.parent_id]) for m in messages}


def has_open_reply(db: Session, chat_id: int) -> bool:
    found = select(Message.id).where(Message.session_id == chat_id, is_open_reply()).exists()
    return bool(db.scalar(select(found)))


def show_version(db: Session, user_id: int, message_id: int) -> ChatSession:
    """Shows the branch through this message (its newest continuation); 409 while a reply in
    the chat is being generated (it belongs to the branch shown now)."""
    message = owned_message(db, user_id, message_id)
    chat = message.session
    if has_open_reply(db, chat.id):
        raise Conflict("a reply is still being generated in this chat; wait or cancel it")
    chat.leaf_id = newest_under(db, message.id)
    db.commit()
    return chat


def delete_pair(db: Session, streams: TokenStreams, user_id: int, message_id: int) -> list[int]:
    """Deletes a question and its replies (either may be given): every version of the reply
    and what followed the versions not shown; what followed the given (or shown) reply moves up
    to the question's place. 409 while a reply to delete runs. The ids deleted, oldest first."""
    message = owned_message(db, user_id, message_id)
    chat = message.session
    head = message  # the question, or a reply that has none (an import's opening reply)
    if message.role == MessageRole.ASSISTANT and message.parent_id is not None:
        head = db.get(Message, message.parent_id) or message
    kept = message if message.role == MessageRole.ASSISTANT else shown_child(db, chat, head)
    moved = db.scalars(select(Message.id).where(Message.parent_id == kept.id)).all() if kept else []
    staying = {i for child in moved for i in subtree_ids(db, child)}
    gone = sorted(set(subtree_ids(db, head.id)) - staying)
    if db.scalar(select(select(Message.id).where(Message.id.in_(gone), is_open_reply()).exists())):
        raise Conflict("the reply is still being generated; stop it first")
    db.execute(update(Message).where(Message.id.in_(moved)).values(parent_id=head.parent_id))
    db.execute(delete(Message).where(Message.id.in_(gone)))
    if chat.leaf_id in gone:
        chat.leaf_id = newest_under(db, head.parent_id) if head.parent_id else None
    db.commit()
    streams.delete(*gone)
    return gone


def shown_child(db: Session, chat: ChatSession, question: Message) -> Message | None:
    """The question's reply on the branch the chat shows, else its newest reply."""
    leaf = shown_leaf(db, chat)
    on_branch = set(ancestor_ids(db, leaf)) if leaf is not None else set()
    replies = db.scalars(
        select(Message).where(Message.parent_id == question.id).order_by(Message.id.desc())
    ).all()
    return next((r for r in replies if r.id in on_branch), replies[0] if replies else None)


def is_open_reply() -> ColumnElement[bool]:
    return Message.status.in_(list(OPEN_STATUSES))
