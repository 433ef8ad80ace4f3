"""Does a new message fit the model's context? Told before the message is queued, in tokens,
with how much to cut: a message that cannot fit is never stored, so no reply fails in the
worker and no Regenerate is offered that can only fail again.

The worker fits each prompt as it builds it (app/services/prompting.py): older turns and
retrieved passages give way first, so what must fit is the chat's template (system prompt and
examples), the new message and the room its reply asks for (``max_tokens``).
"""

from __future__ import annotations

import math

from app.errors import ApiError
from app.services.chat_tokens import ChatTokenizer
from app.services.prompt_setup import PromptSetup
from app.services.prompting import ChatMessage


class MessageTooLong(ApiError, status=422, code="context_length_exceeded"):
    """The message (with its template and the reply's room) is longer than the context."""


def template_head(setup: PromptSetup) -> list[ChatMessage]:
    head = [{"role": "system", "content": setup.system_prompt}] if setup.system_prompt else []
    for example in setup.examples:
        head.append({"role": "user", "content": example.user_input})
        head.append({"role": "assistant", "content": example.assistant_output})
    return head


def check_fit(
    tokenizer: ChatTokenizer, setup: PromptSetup, content: str, reply_tokens: int
) -> None:
    """MessageTooLong (422, ``content``) saying how many tokens to cut; nothing when it fits."""
    head = template_head(setup)
    total = len(tokenizer.encode([*head, {"role": "user", "content": content}])[0])
    if total + reply_tokens <= tokenizer.n_ctx:
        return
    message_tokens = len(tokenizer.tokenize_text(content))
    room = tokenizer.n_ctx - reply_tokens - (total - message_tokens)
    if room <= 0:
        named = f" ({setup.template_name})" if setup.template_name else ""
        text = (
            f"the chat's template{named} and a reply of up to {reply_tokens} tokens fill the"
            f" model's context window ({tokenizer.n_ctx} tokens): ask for a shorter reply, or an"
            " admin must shorten the template"
        )
        raise MessageTooLong(text, param="content", details=[{"field": "content", "message": text}])
    cut = message_tokens - room
    characters = math.ceil(cut * len(content) / max(message_tokens, 1))
    text = (
        f"the message is {message_tokens} tokens and {room} fit (the model's context window is"
        f" {tokenizer.n_ctx} tokens, with this chat's template and a reply of up to"
        f" {reply_tokens} tokens): cut about {cut} tokens, roughly {characters} characters"
    )
    detail = {
        "field": "content",
        "message": text,
        "tokens": message_tokens,
        "room": room,
        "cut_tokens": cut,
        "cut_characters": characters,
    }
    raise MessageTooLong(text, param="content", details=[detail])
