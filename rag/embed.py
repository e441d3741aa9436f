"""Embeddings that work offline, registered with Chroma so a reopened collection rebuilds its function.

The default is a hashed character n-gram vectoriser (numpy, no model, no download): Chinese budget text
is matched well by shared characters and character pairs (经费, 支出, 公务用车 …), and hashing keeps it
stateless, so the same text always gets the same vector in every process. With BUDGETQA_EMBEDDING_MODEL
set, vectors come from the OpenAI-compatible endpoint instead (through `rag.provider`).

Chroma's own default embedding function downloads a model at first use: it is never used here."""

from __future__ import annotations

from typing import Any

import numpy as np
from chromadb.api.types import Documents, EmbeddingFunction, Embeddings, Space
from chromadb.utils.embedding_functions import register_embedding_function

from extractor.numbers import fold_width
from extractor.settings import Settings, get_settings

# Chosen by benchmarks/retrieval_bench.py (embedding candidates): see the report in the store issue.
DEFAULT_NGRAMS = (1, 2)
DEFAULT_DIM = 1024

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_MULT = np.uint64(0x100000001B3)  # FNV-style multiplier for rolling the n-gram key


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: spreads consecutive keys over all buckets (stable across processes)."""
    h = h ^ (h >> np.uint64(30))
    h = h * np.uint64(0xBF58476D1CE4E5B9)
    h = h ^ (h >> np.uint64(27))
    h = h * np.uint64(0x94D049BB133111EB)
    return h ^ (h >> np.uint64(31))


def _normalise(text: str) -> str:
    # Width-folded, lower-case, no whitespace: "201 03 01" and "2010301" share their n-grams.
    return "".join(fold_width(text).lower().split())


def hashed_ngram_matrix(texts: list[str], ngram_min: int, ngram_max: int, dim: int) -> np.ndarray:
    """One L2-normalised row per text: sublinear counts of hashed character n-grams."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    if not texts:
        return out
    norm = [_normalise(t) for t in texts]
    lengths = np.fromiter((len(t) for t in norm), dtype=np.int64, count=len(norm))
    # All texts in one array, each followed by a 0 separator, so every n-gram is computed at once.
    joined = "\x00".join(norm) + "\x00"
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), lengths + 1)
    is_sep = codes == 0
    flat = np.zeros(len(texts) * dim, dtype=np.float64)
    for n in range(ngram_min, ngram_max + 1):
        m = len(codes) - n + 1
        if m <= 0:
            continue
        key = np.full(m, np.uint64(n), dtype=np.uint64)
        bad = np.zeros(m, dtype=bool)
        for j in range(n):
            key = key * _MULT + codes[j:j + m]
            bad |= is_sep[j:j + m]
        bucket = (_mix(key) % np.uint64(dim)).astype(np.int64)
        keep = ~bad
        flat += np.bincount(owner[:m][keep] * dim + bucket[keep], minlength=len(texts) * dim)
    counts = flat.reshape(len(texts), dim)
    weights = np.where(counts > 0, 1.0 + np.log(np.maximum(counts, 1.0)), 0.0)
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    empty = norms[:, 0] == 0
    weights[empty, 0] = 1.0  # an empty text still gets a valid unit vector
    norms[empty] = 1.0
    out[:] = weights / norms
    return out


@register_embedding_function
class HashedNgramEmbedding(EmbeddingFunction[Documents]):
    """Offline default: hashed character n-grams (numpy)."""

    def __init__(self, ngram_min: int = DEFAULT_NGRAMS[0], ngram_max: int = DEFAULT_NGRAMS[1],
                 dim: int = DEFAULT_DIM):
        if not (1 <= ngram_min <= ngram_max <= 5) or dim < 16:
            raise ValueError(f"bad hashed n-gram settings: {ngram_min}-{ngram_max}, dim {dim}")
        self.ngram_min, self.ngram_max, self.dim = ngram_min, ngram_max, dim

    def __call__(self, input: Documents) -> Embeddings:
        return list(hashed_ngram_matrix(list(input), self.ngram_min, self.ngram_max, self.dim))

    @staticmethod
    def name() -> str:
        return "budgetqa-hashed-ngram"

    def get_config(self) -> dict[str, Any]:
        return {"ngram_min": self.ngram_min, "ngram_max": self.ngram_max, "dim": self.dim}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> HashedNgramEmbedding:
        return HashedNgramEmbedding(int(config["ngram_min"]), int(config["ngram_max"]), int(config["dim"]))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    @property
    def identity(self) -> str:
        return f"hashed-char-ngram:{self.ngram_min}-{self.ngram_max}:{self.dim}"


@register_embedding_function
class OpenAICompatibleEmbedding(EmbeddingFunction[Documents]):
    """Vectors from an OpenAI-compatible /embeddings endpoint (OPENAI_BASE_URL / OPENAI_API_KEY)."""

    def __init__(self, model: str, batch_size: int = 64, settings: Settings | None = None):
        if not model:
            raise ValueError("an embedding model name is required")
        self.model, self.batch_size = model, max(1, batch_size)
        self.settings = settings  # endpoint, key, timeout, retries; the environment's when None
        self._client: Any = None

    def __call__(self, input: Documents) -> Embeddings:
        from . import provider

        settings = self.settings or get_settings()
        if self._client is None:
            self._client = provider.make_client(settings)
        texts = list(input)
        vectors: list[list[float]] = []
        for i in range(0, len(texts), self.batch_size):
            vectors.extend(provider.embed_texts(texts[i:i + self.batch_size], self.model,
                                                client=self._client, settings=settings))
        return [np.asarray(v, dtype=np.float32) for v in vectors]

    @staticmethod
    def name() -> str:
        return "budgetqa-openai-compatible"

    def get_config(self) -> dict[str, Any]:
        # The key and URL come from the environment when rebuilt; they are never written to the store.
        return {"model": self.model, "batch_size": self.batch_size}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> OpenAICompatibleEmbedding:
        return OpenAICompatibleEmbedding(str(config["model"]), int(config.get("batch_size", 64)))

    def default_space(self) -> Space:
        return "cosine"

    def supported_spaces(self) -> list[Space]:
        return ["cosine", "ip", "l2"]

    @property
    def identity(self) -> str:
        return f"openai:{self.model}"


BudgetEmbedding = HashedNgramEmbedding | OpenAICompatibleEmbedding


def embedding_from_settings(settings: Settings | None = None) -> BudgetEmbedding:
    settings = settings or get_settings()
    if settings.embedding_model:
        return OpenAICompatibleEmbedding(settings.embedding_model, settings=settings)
    return HashedNgramEmbedding()


def as_langchain(ef: EmbeddingFunction[Documents]) -> Any:
    """The same embedding as a LangChain `Embeddings` (for the naive baseline pipeline)."""
    from langchain_core.embeddings import Embeddings as LCEmbeddings

    class _Adapter(LCEmbeddings):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            return [np.asarray(v, dtype=float).tolist() for v in ef(texts)]

        def embed_query(self, text: str) -> list[float]:
            return self.embed_documents([text])[0]

    return _Adapter()
