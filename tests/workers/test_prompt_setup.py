"""Which template a reply uses, on the real database (SQLite and PostgreSQL).

Everything happens in one session that is rolled back, so other tests' templates are left
as they were.
"""

from __future__ import annotations

import uuid

from flask import Flask
from sqlalchemy import update

from app.models import ChatSession, PromptExample, PromptTemplate, User
from app.services.prompt_setup import load_prompt_setup
from app.services.prompting import DEFAULT_SYSTEM_PROMPT, Example


def test_the_chats_template_then_the_default_then_the_built_in_prompt(app: Flask) -> None:
    db = app.extensions["queuechat"].db
    session = db.sessions()
    try:
        tag = uuid.uuid4().hex[:8]
        user = User(username=f"setup{tag}", password_hash="x")
        own = PromptTemplate(name=f"own{tag}", system_prompt="You are a pirate.")
        own.examples = [
            PromptExample(position=1, user_input="Hi", assistant_output="Arr!"),
            PromptExample(position=0, user_input="Who?", assistant_output="A pirate."),
        ]
        fallback = PromptTemplate(name=f"default{tag}", system_prompt="You are terse.")
        session.add_all([user, own, fallback])
        session.flush()
        session.execute(update(PromptTemplate).values(is_default=False))
        fallback.is_default = True
        chat = ChatSession(owner=user, title="t", template_id=own.id, use_knowledge_base=True)
        session.add(chat)
        session.flush()
        session.expire_all()  # as a worker sees them: loaded from the database

        setup = load_prompt_setup(session, chat.id, None)
        assert setup.system_prompt == "You are a pirate."
        assert setup.examples == [Example("Who?", "A pirate."), Example("Hi", "Arr!")]
        assert setup.use_knowledge_base is True
        assert load_prompt_setup(session, chat.id, False).use_knowledge_base is False

        own.active = False
        session.flush()
        setup = load_prompt_setup(session, chat.id, None)
        assert (setup.system_prompt, setup.examples) == ("You are terse.", [])

        fallback.active = False
        session.flush()
        assert load_prompt_setup(session, chat.id, None).system_prompt == DEFAULT_SYSTEM_PROMPT

        chat.template_id = None
        fallback.active = True
        session.flush()
        assert load_prompt_setup(session, chat.id, None).system_prompt == "You are terse."
    finally:
        session.rollback()
        session.close()
