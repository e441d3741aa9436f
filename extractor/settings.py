"""All settings in one pydantic-settings object (env prefix BUDGETQA_), documented in the README."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import AliasChoices, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="BUDGETQA_", extra="ignore")

    home: Path = Field(default=Path(".budgetqa"), description="Store directory (Chroma + records); --store wins.")
    max_file_mb: float = Field(default=20.0, description="Files larger than this are refused when loading.")
    workers: int = Field(default=1, description="Default number of extraction worker processes.")
    chroma_url: str | None = Field(default=None, description="URL of a Chroma server; embedded Chroma when unset.")
    embedding_model: str | None = Field(
        default=None, description="Embedding model name on the OpenAI-compatible endpoint; offline hashed n-grams when unset.")
    llm_model: str | None = Field(default=None, description="Chat model name; enables the LLM paths with an endpoint.")
    openai_api_key: SecretStr | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_API_KEY", "BUDGETQA_OPENAI_API_KEY"),
        description="API key of the OpenAI-compatible endpoint (never logged).")
    openai_base_url: str | None = Field(
        default=None, validation_alias=AliasChoices("OPENAI_BASE_URL", "BUDGETQA_OPENAI_BASE_URL"),
        description="Base URL of the OpenAI-compatible endpoint (OpenAI, DeepSeek, DashScope, vLLM, Ollama).")
    llm_timeout_s: float = Field(default=30.0, description="Per-request timeout for LLM calls, seconds.")
    llm_max_retries: int = Field(default=2, description="Retries with backoff on 429/5xx/timeouts.")
    llm_concurrency: int = Field(default=4, description="Maximum concurrent LLM requests.")
    llm_price_input: float | None = Field(
        default=None, description="Price per million input tokens, for the cost line of `extract --llm`.")
    llm_price_output: float | None = Field(
        default=None, description="Price per million output tokens, for the cost line of `extract --llm`.")
    top_k: int = Field(default=8, description="Chunks retrieved per question.")
    host: str = Field(default="127.0.0.1", description="Address the web app binds to.")
    port: int = Field(default=7860, description="Port of the web app.")
    auth_user: str | None = Field(default=None, description="Basic-auth user for the web app (optional).")
    auth_password: SecretStr | None = Field(default=None, description="Basic-auth password for the web app.")
    max_upload_mb: float = Field(default=20.0, description="Largest upload accepted by the web app.")

    @property
    def llm_configured(self) -> bool:
        return bool(self.llm_model and (self.openai_base_url or self.openai_api_key))


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
