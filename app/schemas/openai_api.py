"""OpenAI's object shapes for the Files and Batch APIs and /v1/completions (what the official
client parses), with the bodies and queries that create and list them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any, ClassVar, Generic, Literal, Self, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from app.errors import UnsupportedParameter
from app.schemas.common import Input
from app.schemas.openai_params import OpenAIBody

MAX_METADATA_PAIRS = 16
ENDPOINT_NAMES = ("/v1/chat/completions", "/v1/completions", "/v1/embeddings")


class Identified(BaseModel):
    id: str


Item = TypeVar("Item", bound=Identified)


class CursorList(BaseModel, Generic[Item]):
    """A page of OpenAI objects, cursor by id (``after``)."""

    object: Literal["list"] = "list"
    data: list[Item]
    first_id: str | None
    last_id: str | None
    has_more: bool

    @classmethod
    def page(cls, data: Sequence[Item], has_more: bool) -> Self:
        return cls(
            data=list(data),
            first_id=data[0].id if data else None,
            last_id=data[-1].id if data else None,
            has_more=has_more,
        )


class FileObject(Identified):
    id: str = Field(examples=["file-12"])
    object: Literal["file"] = "file"
    bytes: int
    created_at: int = Field(description="Unix time, seconds")
    filename: str
    purpose: Literal["batch", "batch_output"]
    status: Literal["processed"] = "processed"
    expires_at: int | None = None
    status_details: str | None = None


class FileList(CursorList[FileObject]):
    pass


class FileDeleted(BaseModel):
    id: str
    object: Literal["file"] = "file"
    deleted: bool


class FileQuery(Input):
    model_config = ConfigDict(extra="forbid")

    purpose: str | None = Field(default=None, max_length=64)
    limit: int = Field(default=10_000, ge=1, le=10_000)
    order: Literal["asc", "desc"] = "desc"
    after: str | None = Field(default=None, pattern=r"^file-[1-9][0-9]{0,17}$")


class OpenAIBatchQuery(Input):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(default=20, ge=1, le=100)
    after: str | None = Field(default=None, pattern=r"^batch_[1-9][0-9]{0,17}$")


Metadata = dict[
    Annotated[str, StringConstraints(max_length=64)],
    Annotated[str, StringConstraints(max_length=512)],
]


class BatchCreateBody(OpenAIBody):
    UNSUPPORTED: ClassVar[dict[str, tuple[Any, ...]]] = {"output_expires_after": ()}

    input_file_id: str = Field(max_length=64, examples=["file-12"])
    endpoint: Literal["/v1/chat/completions", "/v1/completions", "/v1/embeddings"]
    completion_window: Literal["24h"]
    metadata: Metadata | None = Field(default=None, max_length=MAX_METADATA_PAIRS)

    @classmethod
    def refuse_forms(cls, data: dict[str, Any], where: str) -> None:
        """OpenAI's other endpoints and windows are parameters this server does not serve."""
        endpoint, window = data.get("endpoint"), data.get("completion_window")
        if isinstance(endpoint, str) and endpoint not in ENDPOINT_NAMES:
            raise UnsupportedParameter(
                f"endpoint {endpoint!r} is not served here: one of {', '.join(ENDPOINT_NAMES)}",
                param="endpoint",
            )
        if isinstance(window, str) and window != "24h":
            raise UnsupportedParameter(
                f"completion_window {window!r} is not supported: only '24h'",
                param="completion_window",
            )


class BatchError(BaseModel):
    code: str | None = None
    message: str | None = None
    param: str | None = None
    line: int | None = None


class BatchErrors(BaseModel):
    object: Literal["list"] = "list"
    data: list[BatchError]


class RequestCounts(BaseModel):
    total: int
    completed: int
    failed: int


class InputTokensDetails(BaseModel):
    cached_tokens: int = 0


class OutputTokensDetails(BaseModel):
    reasoning_tokens: int = 0


class BatchUsage(BaseModel):
    input_tokens: int
    input_tokens_details: InputTokensDetails = Field(default_factory=InputTokensDetails)
    output_tokens: int
    output_tokens_details: OutputTokensDetails = Field(default_factory=OutputTokensDetails)
    total_tokens: int


BatchStatusName = Literal[
    "validating",
    "failed",
    "in_progress",
    "finalizing",
    "completed",
    "expired",
    "cancelling",
    "cancelled",
]


class BatchObject(Identified):
    id: str = Field(examples=["batch_7"])
    object: Literal["batch"] = "batch"
    endpoint: str
    model: str | None
    errors: BatchErrors | None
    input_file_id: str
    completion_window: str
    status: BatchStatusName
    output_file_id: str | None
    error_file_id: str | None
    created_at: int
    in_progress_at: int | None
    expires_at: int | None
    finalizing_at: int | None
    completed_at: int | None
    failed_at: int | None
    expired_at: int | None
    cancelling_at: int | None
    cancelled_at: int | None
    request_counts: RequestCounts
    usage: BatchUsage
    metadata: dict[str, str] | None


class OpenAIBatchList(CursorList[BatchObject]):
    pass


class TextChoice(BaseModel):
    text: str
    index: int
    logprobs: None = None
    finish_reason: Literal["stop", "length"] | None


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class TextCompletionOut(BaseModel):
    id: str = Field(examples=["cmpl-12"])
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[TextChoice]
    usage: CompletionUsage | None = None


class ModelObject(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelObject]


class ChatMessageOut(BaseModel):
    role: Literal["assistant"]
    content: str | None


class ChatChoice(BaseModel):
    index: int
    message: ChatMessageOut
    finish_reason: str | None


class ChatCompletionOut(BaseModel):
    id: str = Field(examples=["chatcmpl-12"])
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: CompletionUsage


class EmbeddingOut(BaseModel):
    object: Literal["embedding"] = "embedding"
    index: int
    embedding: list[float] | str = Field(description="floats, or base64 of little-endian f32")


class EmbeddingUsage(BaseModel):
    prompt_tokens: int
    total_tokens: int


class EmbeddingsOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[EmbeddingOut]
    model: str
    usage: EmbeddingUsage
