"""The models an operator lists (``MODELS``): a name each, its GGUF file and its settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class ModelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", protected_namespaces=())

    # a queue name's suffix and the OpenAI ``model``: letters, digits, dot, dash, underscore
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    path: Path
    n_ctx: int | None = Field(default=None, ge=256)
    n_threads: int | None = Field(default=None, ge=1)
    n_gpu_layers: int | None = None

    def completed(self, n_ctx: int, n_threads: int, n_gpu_layers: int) -> ModelSpec:
        """The spec with the deployment's settings where it names none."""
        return self.model_copy(
            update={
                "n_ctx": self.n_ctx or n_ctx,
                "n_threads": self.n_threads or n_threads,
                "n_gpu_layers": n_gpu_layers if self.n_gpu_layers is None else self.n_gpu_layers,
            }
        )


def served_spec(models: list[ModelSpec], worker_model: str) -> ModelSpec:
    """The listed model a process serves: ``worker_model``'s, or the first."""
    names = [spec.name for spec in models]
    if len(set(names)) != len(names):
        raise ValueError(f"MODELS names a model twice: {names}")
    if not worker_model:
        return models[0]
    for spec in models:
        if spec.name == worker_model:
            return spec
    raise ValueError(f"WORKER_MODEL {worker_model!r} is not in MODELS {names}")
