"""The content policy on user input: a text it blocks is refused (422, the policy's message)
before anything is stored or queued, and the refusal goes to the audit log (who, which rule and
stage, the chat; never the text)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.errors import ContentBlocked
from app.models import ChatSession, PromptTemplate, User
from app.resources import Resources
from app.services import audit
from app.services.audit import Action
from app.services.ownership import owned_session


def chat_template_name(db: Session, owner_id: int, session_id: int) -> str | None:
    """The template a reply in this chat uses: its own if active, else the default one (None
    also for a chat that is not the owner's: the request goes on to its 404)."""
    own = (
        select(PromptTemplate.name)
        .where(PromptTemplate.id == ChatSession.template_id, PromptTemplate.active)
        .scalar_subquery()
    )
    default = (
        select(PromptTemplate.name)
        .where(PromptTemplate.is_default, PromptTemplate.active)
        .order_by(PromptTemplate.id)
        .limit(1)
        .scalar_subquery()
    )
    name: str | None = db.scalar(
        select(func.coalesce(own, default)).where(
            ChatSession.id == session_id, ChatSession.owner_id == owner_id
        )
    )
    return name


def screen_input(
    res: Resources, db: Session, texts: Iterable[str], *, chat: tuple[int, int] | None = None,
    template_name: str | None = None, actor: User | None = None, ip: str | None = None,
) -> None:  # fmt: skip
    """Raises ContentBlocked when the policy blocks one of ``texts``: the policy of the chat's
    template (``chat``: owner id, chat id), or of the template named; the request costs
    nothing more when no policy is configured."""
    if res.content_policy.path is None:
        return
    if chat is not None:
        owned_session(db, *chat)  # another user's chat is 404 whatever its text
        template_name = chat_template_name(db, *chat)
    policy = res.content_policy.for_template(template_name)
    for text in texts:
        decision = policy.check(text, "input")
        if decision.blocked:
            audit.record(db, Action.CONTENT_BLOCKED, actor, ip=ip,
                         target_type="chat" if chat else None, target=chat[1] if chat else None,
                         details={"stage": "input", "rule": decision.reason,
                                  "template": template_name})  # fmt: skip
            db.commit()  # the refusal is recorded; nothing else was written
            raise ContentBlocked(policy.message)
