"""What shapes a reply besides its history: template, few-shot examples, knowledge-base switch."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import ChatSession, PromptTemplate
from app.services.prompting import DEFAULT_SYSTEM_PROMPT, Example


@dataclass(frozen=True)
class PromptSetup:
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    examples: list[Example] = field(default_factory=list)
    use_knowledge_base: bool = False
    template_name: str | None = None  # the content policy may override per template


def load_prompt_setup(
    session: Session, session_id: int, use_knowledge_base: bool | None
) -> PromptSetup:
    """The chat's template if active, else the default template, else the built-in prompt.

    One query finds the chat's switch and the template; a template's text and examples take
    more only when there is one. ``use_knowledge_base`` is the message's own choice, if any.
    """
    chats_own = (
        select(PromptTemplate.id)
        .where(PromptTemplate.id == ChatSession.template_id, PromptTemplate.active)
        .scalar_subquery()
    )
    default = (
        select(PromptTemplate.id)
        .where(PromptTemplate.is_default, PromptTemplate.active)
        .order_by(PromptTemplate.id)
        .limit(1)
        .scalar_subquery()
    )
    chosen = func.coalesce(chats_own, default)
    chat_kb, template_id = session.execute(
        select(ChatSession.use_knowledge_base, chosen).where(ChatSession.id == session_id)
    ).one()
    use_kb = chat_kb if use_knowledge_base is None else use_knowledge_base
    template = session.get(PromptTemplate, template_id) if template_id is not None else None
    if template is None:
        return PromptSetup(use_knowledge_base=use_kb)
    return PromptSetup(
        system_prompt=template.system_prompt,
        examples=[Example(e.user_input, e.assistant_output) for e in template.examples],
        use_knowledge_base=use_kb,
        template_name=template.name,
    )
