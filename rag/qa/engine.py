"""The QA engine: `Engine(documents).answer(question, conversation_id)` -> `Answer`.

Built once from extracted records (and their source texts when known) — directly from documents, or from a
store directory (`records/<doc_id>.json`, as `rag.store` writes them) — then answers in milliseconds.
With `llm=True` (an OpenAI-compatible endpoint configured) a tool-calling agent (rag.qa.agent) answers
instead, over the same records; the offline answer is its fallback."""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from extractor.errors import ConfigError, StoreError
from extractor.models import BudgetDocument
from extractor.settings import Settings

from .conversation import Conversations, merge
from .corpus import Corpus
from .fallback import PassageSearch, RetrieverSearch, SentenceSearch
from .models import Answer
from .ops import TurnState, run
from .question import parse
from .view import DocView

log = logging.getLogger(__name__)
INGEST_HINT = "run `budgetqa ingest data/samples` first (or ingest your own files), or pass --store DIR"
LLM_HINT = "set OPENAI_BASE_URL (and OPENAI_API_KEY if the server needs one) and BUDGETQA_LLM_MODEL"


class Engine:
    def __init__(self, documents: Iterable[BudgetDocument], texts: dict[str, str] | None = None,
                 retriever: Any = None, search: PassageSearch | None = None, *, llm: bool = False,
                 settings: Settings | None = None, chat: Any = None):
        texts = texts or {}
        self.views = [DocView(d, texts.get(d.doc_id)) for d in documents]
        self.corpus = Corpus(self.views)
        self.search: PassageSearch = search or (RetrieverSearch(retriever) if retriever is not None else SentenceSearch())
        self.conversations = Conversations()
        self.agent: Any = None
        if llm:
            self.enable_llm(settings, chat=chat)

    def enable_llm(self, settings: Settings | None = None, *, chat: Any = None) -> None:
        """Answer with the LLM agent from now on (`chat`: a langchain chat model, else the configured one)."""
        from extractor.settings import get_settings

        from .agent import LLMAgent

        settings = settings or get_settings()
        if chat is None and not settings.llm_configured:
            raise ConfigError("the LLM mode needs an OpenAI-compatible endpoint and a model", hint=LLM_HINT)
        self.agent = LLMAgent(self, settings, chat=chat)

    @property
    def mode(self) -> str:
        return self.agent.mode if self.agent is not None else "offline"

    # ---- loading -------------------------------------------------------------------------------------
    @classmethod
    def from_store(cls, store_dir: str | Path, retriever: bool = False, *, llm: bool = False,
                   settings: Settings | None = None) -> Engine:
        """Load every committed record of a store. A store without records is a user error with the fix."""
        root = Path(store_dir)
        records = root / "records"
        files = sorted(records.glob("*.json")) if records.is_dir() else []
        if not files:
            raise StoreError("the store holds no documents", path=str(root), hint=INGEST_HINT)
        docs, texts = [], {}
        for f in files:
            data = json.loads(f.read_text(encoding="utf-8"))
            if isinstance(data, dict) and "document" in data:
                doc = BudgetDocument.model_validate(data["document"])
                if isinstance(data.get("text"), str):
                    texts[doc.doc_id] = data["text"]
            else:
                doc = BudgetDocument.model_validate(data)
            docs.append(doc)
        engine = cls(docs, texts)
        if retriever:
            # the hybrid retriever opens Chroma; only a question the records cannot answer needs it
            engine.search = RetrieverSearch(lambda: _open_retriever(root), fallback=engine.search)
        if llm:
            engine.enable_llm(settings)
        return engine

    @classmethod
    def from_paths(cls, paths: Iterable[str | Path]) -> Engine:
        """Extract documents directly (tests, benchmarks, a store-less run)."""
        from extractor.load import load_document
        from extractor.pipeline import extract_text

        docs, texts = [], {}
        for p in paths:
            loaded = load_document(p)
            doc = extract_text(loaded)
            docs.append(doc)
            texts[doc.doc_id] = loaded.text
        return cls(docs, texts)

    # ---- answering -----------------------------------------------------------------------------------
    def answer(self, question: str, conversation_id: str | None = None, qid: str | None = None) -> Answer:
        """The LLM agent's answer when enabled (the offline answer, computed first, keeps the conversation's
        state and is the fallback), else the offline engine's."""
        t0 = time.perf_counter()
        ans = self.offline_answer(question, conversation_id, qid)
        if self.agent is None or not (question or "").strip():
            return ans
        ans = self.agent.answer(question.strip(), conversation_id, qid, ans)
        ans.latency_ms = int(round((time.perf_counter() - t0) * 1000))
        return ans

    def replay(self, question: str, conversation_id: str | None) -> None:
        """An earlier turn of a conversation, restored without asking the LLM again."""
        self.offline_answer(question, conversation_id)
        if self.agent is not None:
            self.agent.remember(conversation_id, question)

    def offline_answer(self, question: str, conversation_id: str | None = None, qid: str | None = None) -> Answer:
        t0 = time.perf_counter()
        question = (question or "").strip()
        if not question:
            return Answer(id=qid, question=question, answer="请输入问题。", abstained=True)
        prev = self.conversations.get(conversation_id)
        try:
            p = parse(question, self.corpus, prev.views if prev else None)
            merge(p, prev)
            b, state = run(p, self.corpus, self.search)
            ans = b.answer(question, qid)
        except Exception as exc:  # noqa: BLE001 — one bad question must not end a batch or a chat session
            log.exception("question failed: %s", question)
            ans = Answer(id=qid, question=question, abstained=True,
                         answer=f"抱歉，这个问题无法回答（内部错误：{type(exc).__name__}），请换一种问法。")
            state = prev or TurnState()
        if conversation_id is not None:
            self.conversations.put(conversation_id, _keep(state, prev))
        ans.latency_ms = int(round((time.perf_counter() - t0) * 1000))
        return ans

    def batch(self, items: Iterable[dict[str, Any]]) -> Iterator[Answer]:
        """Lines {"id", "q", "conversation"}: lines sharing a conversation are successive turns, in order."""
        for i, item in enumerate(items):
            qid = item.get("id")
            conv = item.get("conversation")
            cid = f"batch:{conv}" if conv not in (None, "") else None
            yield self.answer(str(item.get("q") or item.get("question") or ""), cid,
                              str(qid) if qid is not None else str(i + 1))

    @property
    def documents(self) -> list[BudgetDocument]:
        return [v.doc for v in self.views]


def store_dir(store: str | Path | None) -> Path:
    """--store, else BUDGETQA_HOME, else ./.budgetqa (the store's own rule when it is importable)."""
    # the same rule as rag.store.resolve_store_dir, without importing Chroma for a question the records answer
    from extractor.settings import get_settings

    return Path(store) if store else Path(get_settings().home)


def answer_batch(items: Iterable[dict[str, Any]], *, store: str | Path | None = None, llm: bool = False,
                 settings: Settings | None = None) -> list[Answer]:
    """`budgetqa ask --batch` as a function (the eval runner's entry point): the store is loaded once.
    `llm`: answer with the LLM agent on the configured endpoint (offline fallback per question)."""
    engine = Engine.from_store(store_dir(store), retriever=True, llm=llm, settings=settings)
    return list(engine.batch(items))


def _keep(state: TurnState, prev: TurnState | None) -> TurnState:
    """A turn that resolved nothing (a clarification, an abstention) keeps the earlier context."""
    if prev is None:
        return state
    return TurnState(state.views or prev.views, state.units if state.views else prev.units,
                     state.targets or prev.targets, state.whole, state.op, state.years or prev.years,
                     state.fund)


def _open_retriever(root: Path) -> Any:
    try:
        from rag.retrieve import Retriever
        from rag.store import Store
    except ImportError:
        return None
    try:
        return Retriever(Store.open(root))
    except Exception:  # noqa: BLE001 — the lexical sentence search still answers
        return None


def doc_label(doc: BudgetDocument) -> str:
    return re.sub(r"\s+", "", f"{doc.department}{doc.year or ''}年{doc.kind}")
