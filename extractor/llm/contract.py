"""The contract between the extraction stage and whatever model serves it (see `rag.llm_adapter`)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from ..errors import LLMError

T = TypeVar("T", bound=BaseModel)


@dataclass
class Usage:
    """Tokens of one `extract` call, all its HTTP requests (repair turns included) summed."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    cached: bool = False

    def __iadd__(self, other: Usage) -> Usage:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.requests += other.requests
        return self


class InvalidOutput(LLMError):
    """The model answered, but its reply never validated: `raw` is the last reply (parts may be salvaged)."""

    def __init__(self, message: str, *, raw: str, errors: str, usage: Usage, path: str | None = None):
        super().__init__(message, path=path)
        self.raw = raw
        self.errors = errors
        self.usage = usage


class StructuredLLM(Protocol):
    """A chat model that answers with one pydantic object.

    `extract` raises `InvalidOutput` when the reply never validated (after its own repair turns) and
    `LLMError` when the endpoint failed (timeouts, HTTP errors after retries, unreachable)."""

    model: str
    concurrency: int

    def extract(self, messages: list[dict[str, Any]], schema: type[T]) -> tuple[T, Usage]: ...

    def cost(self, usage: Usage) -> Decimal | None:
        """Price of `usage` (None when no price is configured)."""
        ...
