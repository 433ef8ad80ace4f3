"""What shapes a reply besides its history: template, few-shot examples, knowledge-base switch."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import ChatSession, Message, PromptTemplate
from app.prompting import DEFAULT_SYSTEM_PROMPT, Example


@dataclass(frozen=True)
class PromptSetup:
    system_prompt: str = DEFAULT_SYSTEM_PROMPT
    examples: list[Example] = field(default_factory=list)
    use_knowledge_base: bool = False


def load_prompt_setup(session: Session, message: Message) -> PromptSetup:
    """The chat's template if active, else the default template, else the built-in prompt."""
    chat = session.get_one(ChatSession, message.session_id)
    template = session.get(PromptTemplate, chat.template_id) if chat.template_id else None
    if template is None or not template.active:
        template = session.scalar(
            select(PromptTemplate).where(PromptTemplate.is_default, PromptTemplate.active)
        )
    use_kb = (
        chat.use_knowledge_base
        if message.use_knowledge_base is None
        else (message.use_knowledge_base)
    )
    if template is None:
        return PromptSetup(use_knowledge_base=use_kb)
    return PromptSetup(
        system_prompt=template.system_prompt,
        examples=[Example(e.user_input, e.assistant_output) for e in template.examples],
        use_knowledge_base=use_kb,
    )
