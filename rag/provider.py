"""The provider boundary: the only module that imports the `openai` SDK.

Client construction from settings (OPENAI_API_KEY / OPENAI_BASE_URL, timeout, retries) and the calls
budgetqa makes on an OpenAI-compatible endpoint. Every SDK failure leaves as an `LLMError` naming the
endpoint (never the key) and what to do."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ValidationError

from extractor.errors import ConfigError, LLMError
from extractor.settings import Settings, get_settings

# Servers such as vLLM or Ollama accept any key, but the SDK refuses to start without one.
_PLACEHOLDER_KEY = "not-needed"


def endpoint_name(settings: Settings) -> str:
    return settings.openai_base_url or "https://api.openai.com/v1"


def make_client(settings: Settings | None = None, *, timeout_s: float | None = None,
                max_retries: int | None = None) -> Any:
    """An `openai.OpenAI` client; the SDK retries 429/5xx/timeouts with backoff `max_retries` times."""
    import openai

    settings = settings or get_settings()
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not key and not settings.openai_base_url:
        raise ConfigError("no OpenAI-compatible endpoint configured",
                          hint="set OPENAI_BASE_URL (and OPENAI_API_KEY if the server needs one)")
    return openai.OpenAI(
        api_key=key or _PLACEHOLDER_KEY,
        base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_s if timeout_s is None else timeout_s,
        max_retries=settings.llm_max_retries if max_retries is None else max_retries,
    )


def _failure(exc: Exception, settings: Settings, what: str) -> LLMError:
    import openai

    where = endpoint_name(settings)
    if isinstance(exc, openai.APITimeoutError):
        reason = f"{what} timed out after {settings.llm_timeout_s:g}s"
        hint = "raise BUDGETQA_LLM_TIMEOUT_S or check the server"
    elif isinstance(exc, openai.APIConnectionError):
        reason = f"{what} could not connect"
        hint = "check OPENAI_BASE_URL and that the server is running"
    elif isinstance(exc, openai.APIStatusError):
        reason = f"{what} failed with HTTP {exc.status_code}"
        hint = ("check OPENAI_API_KEY" if exc.status_code in (401, 403)
                else "the server kept failing after retries; try again later or raise BUDGETQA_LLM_MAX_RETRIES")
    else:
        reason = f"{what} returned a malformed response ({type(exc).__name__})"
        hint = "check that the endpoint is OpenAI-compatible"
    return LLMError(reason, path=where, hint=hint)


def embed_texts(texts: list[str], model: str, *, client: Any | None = None,
                settings: Settings | None = None) -> list[list[float]]:
    """Embeddings for `texts` in order, validated (one vector per text, one dimension for all)."""
    import openai

    settings = settings or get_settings()
    if not texts:
        return []
    client = client or make_client(settings)
    try:
        response = client.embeddings.create(model=model, input=texts, encoding_format="float")
        data = sorted(response.data, key=lambda d: d.index)
        vectors = [[float(x) for x in d.embedding] for d in data]
    except openai.OpenAIError as exc:
        raise _failure(exc, settings, f"embedding request (model {model})") from None
    except (ValueError, TypeError, AttributeError, KeyError) as exc:
        raise _failure(exc, settings, f"embedding request (model {model})") from None
    if len(vectors) != len(texts) or not vectors[0] or len({len(v) for v in vectors}) != 1:
        raise LLMError(f"embedding response for model {model} has {len(vectors)} vector(s) for {len(texts)} "
                       "text(s) or uneven dimensions", path=endpoint_name(settings),
                       hint="check that the endpoint is OpenAI-compatible")
    return vectors


# ---------------------------------------------------------------------------------------------------------
# Structured chat: one pydantic model out, validated; cached; bounded concurrency.
# ---------------------------------------------------------------------------------------------------------

T = TypeVar("T", bound=BaseModel)

# Sent back to the model when its reply does not validate (instructor-style repair turn).
REPAIR_PROMPT = ("Your previous reply did not match the required JSON schema:\n{errors}\n"
                 "Reply again with the complete, corrected JSON object only.")
# JSON mode (servers without json_schema support): the schema travels in the system prompt instead.
JSON_MODE_PROMPT = ("Reply with one JSON object only, no prose, matching this JSON schema:\n{schema}")


@dataclass
class TokenUsage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    requests: int = 0
    cached: bool = False

    def add(self, body: dict[str, Any]) -> None:
        usage = body.get("usage") or {}
        self.prompt_tokens += int(usage.get("prompt_tokens") or 0)
        self.completion_tokens += int(usage.get("completion_tokens") or 0)
        self.requests += 1


@dataclass
class StructuredResult(Generic[T]):
    parsed: T
    usage: TokenUsage
    raw: str
    mode: str = "json_schema"             # json_schema | json_object | cache
    attempts: int = 1


class StructuredOutputError(LLMError):
    """The model's replies never validated against the schema (after the repair turns)."""

    def __init__(self, message: str, *, path: str, raw: str, errors: str, usage: TokenUsage):
        super().__init__(message, path=path, hint="the rule results stand; try another model or raise the retries")
        self.raw = raw
        self.errors = errors
        self.usage = usage


_SEMAPHORES: dict[int, threading.BoundedSemaphore] = {}
_SEM_LOCK = threading.Lock()
# (endpoint, model) pairs that rejected response_format json_schema: JSON mode from then on.
_JSON_MODE_ONLY: set[tuple[str, str]] = set()


def llm_semaphore(limit: int) -> threading.BoundedSemaphore:
    """One process-wide semaphore per limit: BUDGETQA_LLM_CONCURRENCY requests in flight at most."""
    limit = max(1, int(limit))
    with _SEM_LOCK:
        if limit not in _SEMAPHORES:
            _SEMAPHORES[limit] = threading.BoundedSemaphore(limit)
        return _SEMAPHORES[limit]


class LLMCache:
    """Validated replies keyed by sha256(model, schema, messages): a re-run sends nothing.

    One small SQLite file under the store (<store>/llm_cache/cache.sqlite); a connection per call keeps
    it safe across threads and processes."""

    def __init__(self, directory: str | Path):
        self.dir = Path(directory)
        self.path = self.dir / "cache.sqlite"

    def _connect(self) -> sqlite3.Connection:
        self.dir.mkdir(parents=True, exist_ok=True)
        con = sqlite3.connect(self.path, timeout=30)
        con.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, model TEXT, content TEXT, "
                    "prompt_tokens INTEGER, completion_tokens INTEGER, created REAL)")
        return con

    @staticmethod
    def key(model: str, schema: type[BaseModel], messages: list[dict[str, Any]]) -> str:
        payload = json.dumps({"model": model, "schema": schema.model_json_schema(), "messages": messages},
                             ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()

    def get(self, key: str) -> tuple[str, int, int] | None:
        try:
            with self._connect() as con:
                row = con.execute("SELECT content, prompt_tokens, completion_tokens FROM replies WHERE key = ?",
                                  (key,)).fetchone()
        except sqlite3.Error:
            return None  # an unreadable cache costs a request, never the run
        return (row[0], int(row[1]), int(row[2])) if row else None

    def put(self, key: str, model: str, content: str, usage: TokenUsage) -> None:
        try:
            with self._connect() as con:
                con.execute("INSERT OR REPLACE INTO replies VALUES (?, ?, ?, ?, ?, ?)",
                            (key, model, content, usage.prompt_tokens, usage.completion_tokens, time.time()))
        except sqlite3.Error:
            pass


def _errors_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        lines = []
        for err in exc.errors(include_url=False)[:20]:
            loc = ".".join(str(p) for p in err.get("loc", ())) or "(root)"
            lines.append(f"- {loc}: {err.get('msg', '')}")
        return "\n".join(lines)
    return f"- (root): not valid JSON ({exc})"


def _rejects_json_schema(exc: Exception) -> bool:
    """A 400/422 about response_format: the server has no json_schema support (DeepSeek, older vLLM …)."""
    import openai

    if not isinstance(exc, openai.APIStatusError) or exc.status_code not in (400, 404, 415, 422):
        return False
    text = f"{exc.message} {exc.body}".lower()
    return any(w in text for w in ("response_format", "json_schema", "schema", "structured"))


def _content_of(body: dict[str, Any]) -> str:
    choice = (body.get("choices") or [{}])[0]
    message = choice.get("message") or {}
    if message.get("refusal"):
        raise ValueError(f"the model refused: {message['refusal']}")
    if choice.get("finish_reason") == "length":
        raise ValueError("the reply was cut off (finish_reason=length)")
    content = message.get("content")
    if not isinstance(content, str) or not content.strip():
        raise ValueError("the reply has no content")
    return content


def _strip_fences(content: str) -> str:
    # JSON-mode servers sometimes wrap the object in a markdown fence.
    s = content.strip()
    if s.startswith("```"):
        s = s.split("\n", 1)[1] if "\n" in s else ""
        s = s.rsplit("```", 1)[0]
    return s.strip()


def chat_structured(messages: list[dict[str, Any]], schema: type[T], *, model: str,
                    settings: Settings | None = None, client: Any | None = None,
                    validation_retries: int = 2, cache_dir: str | Path | None = None,
                    temperature: float | None = 0.0) -> StructuredResult[T]:
    """Chat completion whose reply is `schema`, validated by pydantic.

    Sends `response_format` json_schema built from the model (`chat.completions.parse`'s format); a server
    that rejects it gets JSON mode (`{"type": "json_object"}`, schema in the prompt) from then on. A reply
    that is not valid JSON or fails validation is sent back with the errors for `validation_retries` repair
    turns; after that `StructuredOutputError` carries the last raw reply (callers may salvage parts).
    Timeouts, 429 and 5xx are retried with backoff by the SDK (BUDGETQA_LLM_MAX_RETRIES); what still fails
    leaves as `LLMError`. Validated replies are cached under `cache_dir` when given."""
    import openai

    settings = settings or get_settings()
    where = endpoint_name(settings)
    cache = LLMCache(cache_dir) if cache_dir else None
    key = LLMCache.key(model, schema, messages) if cache else ""
    if cache and (hit := cache.get(key)) is not None:
        content, p_tok, c_tok = hit
        try:
            parsed = schema.model_validate_json(_strip_fences(content))
            return StructuredResult(parsed, TokenUsage(p_tok, c_tok, 0, cached=True), content, "cache", 0)
        except (ValidationError, ValueError):
            pass  # the schema changed since: ask again
    client = client or make_client(settings)
    usage = TokenUsage()
    convo = [dict(m) for m in messages]
    what = f"chat request (model {model})"
    last_raw, last_errors = "", ""
    for attempt in range(validation_retries + 1):
        json_mode = (where, model) in _JSON_MODE_ONLY
        try:
            with llm_semaphore(settings.llm_concurrency):
                body, json_mode = _call(client, convo, schema, model, where, temperature, json_mode)
        except openai.OpenAIError as exc:
            raise _failure(exc, settings, what) from None
        except (ValueError, TypeError, AttributeError, KeyError) as exc:  # a body that is not JSON at all
            raise _failure(exc, settings, what) from None
        if not isinstance(body, dict):
            raise LLMError(f"{what} returned a malformed response (not a JSON object)", path=where,
                           hint="check that the endpoint is OpenAI-compatible")
        usage.add(body)
        try:
            last_raw = _content_of(body)
            parsed = schema.model_validate_json(_strip_fences(last_raw))
        except (ValidationError, ValueError) as exc:
            last_errors = _errors_text(exc)
            convo += [{"role": "assistant", "content": last_raw or "(empty)"},
                      {"role": "user", "content": REPAIR_PROMPT.format(errors=last_errors)}]
            continue
        if cache:
            cache.put(key, model, last_raw, usage)
        return StructuredResult(parsed, usage, last_raw, "json_object" if json_mode else "json_schema",
                                attempt + 1)
    raise StructuredOutputError(
        f"{what}: the reply did not match the {schema.__name__} schema after {validation_retries + 1} "
        f"attempt(s)", path=where, raw=last_raw, errors=last_errors, usage=usage)


# (endpoint, model) pairs that refuse a temperature (reasoning models): sent without one from then on.
_NO_TEMPERATURE: set[tuple[str, str]] = set()


def _call(client: Any, convo: list[dict[str, Any]], schema: type[BaseModel], model: str, where: str,
          temperature: float | None, json_mode: bool) -> tuple[Any, bool]:
    """One request (json_schema, else JSON mode); adapts once to a server that rejects json_schema or a
    temperature, and remembers it for the endpoint."""
    import openai

    for _ in range(3):
        extra = {} if temperature is None or (where, model) in _NO_TEMPERATURE else {"temperature": temperature}
        try:
            if json_mode:
                return _json_mode_call(client, convo, schema, model, extra), True
            raw = client.chat.completions.with_raw_response.parse(
                model=model, messages=convo, response_format=schema, **extra)
            return raw.http_response.json(), False
        except openai.APIStatusError as exc:
            text = f"{exc.message} {exc.body}".lower()
            if extra and exc.status_code == 400 and "temperature" in text:
                _NO_TEMPERATURE.add((where, model))
            elif not json_mode and _rejects_json_schema(exc):
                _JSON_MODE_ONLY.add((where, model))
                json_mode = True
            else:
                raise
    raise LLMError("the endpoint rejected every request format", path=where,
                   hint="check that the endpoint is OpenAI-compatible")


def _json_mode_call(client: Any, convo: list[dict[str, Any]], schema: type[BaseModel], model: str,
                    extra: dict[str, Any]) -> Any:
    hint = JSON_MODE_PROMPT.format(schema=json.dumps(schema.model_json_schema(), ensure_ascii=False))
    msgs = [{"role": "system", "content": hint}] + convo
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=msgs, response_format={"type": "json_object"}, **extra)
    return raw.http_response.json()


# ---------------------------------------------------------------------------------------------------------
# Tool-calling chat (the QA agent): a langchain ChatOpenAI on the configured endpoint, and its failures
# classified so the agent can fall back without knowing the SDK's exception types.
# ---------------------------------------------------------------------------------------------------------

class ChatFailure(LLMError):
    """A chat request that failed. `kind`: timeout | rate_limit | server | connection | auth | rejected |
    malformed."""

    def __init__(self, message: str, *, kind: str, path: str, hint: str | None = None):
        super().__init__(message, path=path, hint=hint)
        self.kind = kind


def make_chat_model(settings: Settings | None = None, *, model: str | None = None, timeout_s: float | None = None,
                    max_retries: int | None = None, temperature: float | None = 0.0) -> Any:
    """A `langchain_openai.ChatOpenAI` on OPENAI_BASE_URL (chat completions API, not the Responses API, which
    OpenAI-compatible servers such as vLLM, Ollama or DeepSeek do not offer). The SDK underneath retries
    429/5xx/timeouts with backoff `max_retries` times. The key is passed explicitly (never read from the
    environment behind the settings' back) and kept as a SecretStr by langchain."""
    from langchain_openai import ChatOpenAI

    settings = settings or get_settings()
    name = model or settings.llm_model
    if not name:
        raise ConfigError("no chat model configured", hint="set BUDGETQA_LLM_MODEL")
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    if not key and not settings.openai_base_url:
        raise ConfigError("no OpenAI-compatible endpoint configured",
                          hint="set OPENAI_BASE_URL (and OPENAI_API_KEY if the server needs one)")
    kwargs: dict[str, Any] = {} if temperature is None else {"temperature": temperature}
    return ChatOpenAI(
        model=name, api_key=key or _PLACEHOLDER_KEY, base_url=settings.openai_base_url,
        timeout=settings.llm_timeout_s if timeout_s is None else timeout_s,
        max_retries=settings.llm_max_retries if max_retries is None else max_retries,
        use_responses_api=False, **kwargs)


def chat_failure(exc: BaseException, settings: Settings | None = None, what: str = "chat request") -> ChatFailure:
    """Any exception out of a ChatOpenAI call as a `ChatFailure` naming the endpoint (never the key).
    A body that is not JSON, or JSON that is not a chat completion, comes out of langchain as a
    JSONDecodeError / TypeError / IndexError / KeyError: all `malformed`."""
    import openai

    settings = settings or get_settings()
    where = endpoint_name(settings)
    if isinstance(exc, openai.APITimeoutError):
        kind = "timeout"
    elif isinstance(exc, openai.APIConnectionError):
        kind = "connection"
    elif isinstance(exc, openai.RateLimitError):
        kind = "rate_limit"
    elif isinstance(exc, openai.APIStatusError) and exc.status_code in (401, 403):
        kind = "auth"
    elif isinstance(exc, openai.APIStatusError) and exc.status_code >= 500:
        kind = "server"
    elif isinstance(exc, openai.APIStatusError):
        kind = "rejected"   # 400/404/422: the server refused the request (model name, tools unsupported …)
    else:
        kind = "malformed"
    if isinstance(exc, Exception):
        base = _failure(exc, settings, what)
        return ChatFailure(base.reason, kind=kind, path=where, hint=base.hint)
    return ChatFailure(f"{what} failed ({type(exc).__name__})", kind=kind, path=where)
