"""The extraction stage's `StructuredLLM` (extractor.llm.contract) on top of `rag.provider.chat_structured`.

The extractor never imports `openai` or `rag`; the CLI (and the ingest command) build this adapter and pass
it to `extractor.llm.apply_llm`."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from extractor.errors import ConfigError
from extractor.llm.contract import InvalidOutput, Usage
from extractor.settings import Settings, get_settings

from . import provider

T = TypeVar("T", bound=BaseModel)
MILLION = Decimal(1_000_000)


def _price(settings: Settings, name: str) -> Decimal | None:
    # Optional settings (per million tokens); absent until the settings object defines them.
    value = getattr(settings, name, None)
    return None if value is None else Decimal(str(value))


class ProviderLLM:
    """Structured extraction over the configured OpenAI-compatible endpoint, cached under the store."""

    def __init__(self, settings: Settings | None = None, *, store: str | Path | None = None,
                 client: Any | None = None, validation_retries: int = 2, cache: bool = True):
        self.settings = settings or get_settings()
        if not self.settings.llm_configured or not self.settings.llm_model:
            raise ConfigError("no LLM endpoint configured",
                              hint="set OPENAI_BASE_URL (or OPENAI_API_KEY) and BUDGETQA_LLM_MODEL")
        self.model: str = self.settings.llm_model
        self.concurrency = max(1, self.settings.llm_concurrency)
        self.client = client or provider.make_client(self.settings)
        self.validation_retries = validation_retries
        home = Path(store) if store is not None else self.settings.home
        self.cache_dir: Path | None = home / "llm_cache" if cache else None
        self.price_in = _price(self.settings, "llm_price_input")
        self.price_out = _price(self.settings, "llm_price_output")

    def extract(self, messages: list[dict[str, Any]], schema: type[T]) -> tuple[T, Usage]:
        try:
            result = provider.chat_structured(messages, schema, model=self.model, settings=self.settings,
                                              client=self.client, validation_retries=self.validation_retries,
                                              cache_dir=self.cache_dir)
        except provider.StructuredOutputError as exc:
            u = exc.usage
            raise InvalidOutput(exc.reason, raw=exc.raw, errors=exc.errors, path=exc.path,
                                usage=Usage(u.prompt_tokens, u.completion_tokens, u.requests)) from None
        u = result.usage
        return result.parsed, Usage(u.prompt_tokens, u.completion_tokens, u.requests, cached=u.cached)

    def cost(self, usage: Usage) -> Decimal | None:
        if self.price_in is None or self.price_out is None:
            return None
        return (usage.prompt_tokens * self.price_in + usage.completion_tokens * self.price_out) / MILLION
