"""Content filtering: the operator's policy (CONTENT_POLICY_PATH, a JSON file) applied to user
input, to retrieved chunks and to model output while it streams.

A policy blocks text that contains one of its words (whole words, any case), matches one of its
regular expressions, or that its classifier flags. The classifier is a hook: a dotted path
``package.module:function`` to a callable ``(text, stage) -> reason | None``. A template may
override the policy: its entry under ``templates`` (by template name) replaces the fields it names.
The file is read again when it changes, so a change needs no restart. Every decision is counted
(``queuechat_content_filter_decisions_total{stage, decision}``).
"""

from __future__ import annotations

import importlib
import json
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import regex
from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.metrics import observe_content_decision

logger = logging.getLogger(__name__)
Stage = Literal["input", "retrieval", "output"]
STAGES: tuple[Stage, ...] = ("input", "retrieval", "output")
Classifier = Callable[[str, str], "str | None"]
MATCH_TIMEOUT_S = 0.05  # a pattern that backtracks without end is cut off (and blocks)
DEFAULT_MESSAGE = "This content is not allowed by the content policy."


class PolicyFields(BaseModel):
    """The fields a policy, or a template's override, may set."""

    model_config = ConfigDict(extra="forbid")

    message: str | None = Field(default=None, max_length=500)
    words: list[str] | None = Field(default=None, max_length=1000)
    patterns: list[str] | None = Field(default=None, max_length=200)
    classifier: str | None = Field(default=None, pattern=r"^[\w.]+:\w+$")
    apply_to: list[Stage] | None = None

    @field_validator("words")
    @classmethod
    def _plain_words(cls, words: list[str] | None) -> list[str] | None:
        if words is not None and any(not w.strip() or len(w) > 100 for w in words):
            raise ValueError("words must be 1 to 100 characters")
        return words

    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: list[str] | None) -> list[str] | None:
        for pattern in patterns or []:
            if len(pattern) > 300:
                raise ValueError("a pattern is at most 300 characters")
            try:
                regex.compile(pattern)
            except regex.error as exc:  # the file is refused whole
                raise ValueError(f"pattern {pattern!r}: {exc}") from exc
        return patterns


class PolicyFile(PolicyFields):
    templates: dict[str, PolicyFields] = Field(default_factory=dict)


@dataclass(frozen=True)
class Decision:
    blocked: bool
    reason: str = ""  # for the log: which rule (never the text)


ALLOWED = Decision(False)


@dataclass
class ContentPolicy:
    message: str = DEFAULT_MESSAGE
    words: Sequence[str] = ()
    patterns: Sequence[str] = ()
    classifier: Classifier | None = None
    apply_to: frozenset[Stage] = frozenset(STAGES)
    _compiled: list[Any] = field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        if self.words:
            alternatives = "|".join(regex.escape(word.strip()) for word in self.words)
            self._compiled.append(regex.compile(rf"\b(?:{alternatives})\b", regex.IGNORECASE))
        self._compiled += [regex.compile(pattern) for pattern in self.patterns]

    @property
    def active(self) -> bool:
        return bool(self._compiled or self.classifier)

    def applies(self, stage: Stage) -> bool:
        return self.active and stage in self.apply_to

    def decide(self, text: str, stage: Stage, *, classify: bool = True) -> Decision:
        """Whether ``text`` may pass at ``stage`` (uncounted: see ``check``); ``classify``:
        ask the classifier too (else the word list and patterns only)."""
        if not self.applies(stage):
            return ALLOWED
        for index, compiled in enumerate(self._compiled):
            try:
                if compiled.search(text, timeout=MATCH_TIMEOUT_S):
                    return Decision(True, "word list" if self.words and index == 0 else "pattern")
            except TimeoutError:
                logger.warning("a content pattern timed out; the text is blocked")
                return Decision(True, "pattern timed out")
        if classify and self.classifier is not None:
            reason = self.classifier(text, stage)
            if reason:
                return Decision(True, f"classifier: {reason}"[:200])
        return ALLOWED

    def check(self, text: str, stage: Stage) -> Decision:
        """``decide``, counted in the metrics and logged when it blocks."""
        decision = self.decide(text, stage)
        self.count(stage, decision.blocked, decision.reason)
        return decision

    def count(self, stage: Stage, blocked: bool, reason: str = "") -> None:
        """One decision in the metrics (and the log, when it blocks: the rule, never the text)."""
        if not self.applies(stage):
            return
        observe_content_decision(stage, "blocked" if blocked else "allowed")
        if blocked:
            logger.info("content policy blocked %s (%s)", stage, reason)


NO_POLICY = ContentPolicy()


def load_classifier(path: str) -> Classifier:
    module_name, _, name = path.partition(":")
    found = getattr(importlib.import_module(module_name), name)
    if not callable(found):
        raise TypeError(f"{path} is not callable")
    classifier: Classifier = found
    return classifier


def build(fields: PolicyFields, override: PolicyFields | None = None) -> ContentPolicy:
    merged = fields.model_dump()
    if override is not None:
        merged.update(override.model_dump(exclude_unset=True))
    return ContentPolicy(
        message=merged["message"] or DEFAULT_MESSAGE,
        words=merged["words"] or (),
        patterns=merged["patterns"] or (),
        classifier=load_classifier(merged["classifier"]) if merged["classifier"] else None,
        apply_to=frozenset(merged["apply_to"] if merged["apply_to"] is not None else STAGES),
    )


class PolicySource:
    """The policy file of a process, read again when its modification time changes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._stamp: float | None = None
        self._policies: dict[str | None, ContentPolicy] = {}

    def for_template(self, template_name: str | None = None) -> ContentPolicy:
        """The policy for a chat with this template (None: the global policy)."""
        if self.path is None:
            return NO_POLICY
        with self._lock:
            self._reload()
            return self._policies.get(template_name) or self._policies.get(None, NO_POLICY)

    def _reload(self) -> None:
        assert self.path is not None
        try:
            stamp = self.path.stat().st_mtime
        except OSError:
            logger.error("content policy %s is missing: nothing is filtered", self.path)
            self._stamp, self._policies = None, {}
            return
        if stamp == self._stamp:
            return
        try:
            parsed = PolicyFile.model_validate(json.loads(self.path.read_text()))
            policies: dict[str | None, ContentPolicy] = {None: build(parsed)}
            for name, override in parsed.templates.items():
                policies[name] = build(parsed, override)
        except (ValueError, ImportError, AttributeError, TypeError):
            # a broken edit keeps the policy that was in force (none at start: then it fails)
            logger.exception("content policy %s is invalid; keeping the previous one", self.path)
            if self._stamp is None:
                raise
            return
        self._stamp, self._policies = stamp, policies
        logger.info("content policy loaded from %s", self.path)
