"""A streamed reply as OpenAI chunk deltas: its text as ``content``, or, when it is tool calls,
``tool_calls`` deltas (id and name once, then the arguments as they come) that the official
client assembles into the same calls a non-streamed reply carries."""

from __future__ import annotations

from typing import Any

from app.services.tool_calls import call_id, scan_calls, starts_a_call, tool_format


class ReplyDeltas:
    def __init__(self, request: dict[str, Any], item_id: int) -> None:
        self.request = request
        self.item_id = item_id
        self.text = ""
        self.is_calls: bool | None = None if request.get("tools") else False
        self.sent = 0  # content characters sent
        self.arguments_sent: list[int] = []  # per announced call

    def feed(self, piece: str) -> list[dict[str, Any]]:
        self.text += piece
        if self.is_calls is None:
            self.is_calls = starts_a_call(self.request, self.text)
        if self.is_calls is None:
            return []
        return self._calls() if self.is_calls else self._content()

    def finish(self) -> list[dict[str, Any]]:
        """What is still held when the reply ends (a start that never became a call)."""
        if self.is_calls is None:
            self.is_calls = False
            return self._content()
        return []

    def _content(self) -> list[dict[str, Any]]:
        new, self.sent = self.text[self.sent :], len(self.text)
        return [{"content": new}] if new else []

    def _calls(self) -> list[dict[str, Any]]:
        deltas: list[dict[str, Any]] = []
        for index, call in enumerate(scan_calls(self.text, tool_format(self.request)) or []):
            if call.name is None:
                break
            if index == len(self.arguments_sent):
                self.arguments_sent.append(0)
                function = {"name": call.name, "arguments": ""}
                announced = {"index": index, "id": call_id(self.item_id, index),
                             "type": "function", "function": function}  # fmt: skip
                deltas.append({"tool_calls": [announced]})
            new = call.arguments[self.arguments_sent[index] :]
            if new:
                self.arguments_sent[index] = len(call.arguments)
                deltas.append({"tool_calls": [{"index": index, "function": {"arguments": new}}]})
        return deltas
