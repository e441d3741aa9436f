"""The app's one door to the engines: the store, the QA engine, ingest/remove, checks and evals.

Gradio callbacks call these methods and the pure adapters, nothing else. The service is shared by every
browser session and answers concurrently: the engine is rebuilt (under a lock) only when the store's
document set changed, and writes (ingest, remove) are serialised — across processes by the store's own
lock, which turns a concurrent CLI ingest into a clear message."""

from __future__ import annotations

import inspect
import json
import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from extractor.errors import BudgetQAError, StoreError
from extractor.models import BudgetDocument
from extractor.settings import Settings

from .adapters import scoped_question, upload_problem

log = logging.getLogger(__name__)

CATALOG_TTL_S = 2.0   # how often a question re-checks the store for documents ingested elsewhere
DOC_CACHE = 64        # extracted documents kept in memory (keyed by content hash, so never stale)
EMPTY_HINT = "在「文档」页上传预算文件，或运行 `budgetqa ingest data/samples`"

EngineFactory = Callable[[Path, Settings], Any]


def default_engine_factory(root: Path, settings: Settings) -> Any:
    """The QA engine over a store; passes only the options its `from_store` accepts (it may grow an LLM switch)."""
    from rag.qa.engine import Engine

    params = inspect.signature(Engine.from_store).parameters
    wanted = {"retriever": True, "settings": settings, "llm": settings.llm_configured}
    return Engine.from_store(root, **{k: v for k, v in wanted.items() if k in params})


@dataclass
class UploadResult:
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    replaced: int = 0
    errors: list[str] = field(default_factory=list)


class AppService:
    def __init__(self, root: Path, settings: Settings, engine_factory: EngineFactory | None = None):
        self.root = Path(root)
        self.settings = settings
        self._engine_factory = engine_factory or default_engine_factory
        self._engine: Any = None
        self._engine_key: tuple[str, ...] | None = None
        self._lock = threading.RLock()        # engine (re)build and catalog refresh
        self._write_lock = threading.Lock()   # ingest / remove / eval within this process
        self._store: Any = None
        self._catalog: dict[str, dict[str, Any]] = {}
        self._checked_at = 0.0
        self._docs: OrderedDict[str, BudgetDocument] = OrderedDict()
        self._texts: OrderedDict[str, str] = OrderedDict()
        self._n_findings: dict[str, int] = {}

    # ------------------------------------------------------------------------------------------ store

    def _read_store(self) -> Any:
        if self._store is None:
            from rag.store import Store

            try:
                self._store = Store.open(self.root, settings=self.settings)
            except StoreError as exc:
                if "no budgetqa store" in str(exc) or "store is empty" in str(exc):
                    return None  # nothing ingested yet: an empty app, not an error
                raise
        return self._store

    def catalog(self, fresh: bool = False) -> dict[str, dict[str, Any]]:
        """doc_id -> header (source, department, year, doc_kind, n_values …) of the committed documents."""
        with self._lock:
            if fresh or time.monotonic() - self._checked_at > CATALOG_TTL_S:
                store = self._read_store()
                if store is not None:
                    store.refresh()
                    self._catalog = dict(store.catalog())
                else:
                    self._catalog = {}
                self._checked_at = time.monotonic()
            return dict(self._catalog)

    def invalidate(self) -> None:
        with self._lock:
            self._checked_at = 0.0
            self._store = None  # a new collection may exist now (first ingest)

    def document(self, doc_id: str) -> BudgetDocument:
        with self._lock:
            if doc_id in self._docs:
                self._docs.move_to_end(doc_id)
                return self._docs[doc_id]
        if doc_id not in self.catalog():
            raise BudgetQAError("该文档不在库中（可能已被删除）", hint="刷新页面后重新选择")
        record = self._record(doc_id)
        doc = BudgetDocument.model_validate(record["document"])
        with self._lock:
            self._docs[doc_id] = doc
            self._texts[doc_id] = str(record.get("text") or "")
            self._n_findings[doc_id] = len(doc.findings)
            while len(self._docs) > DOC_CACHE:
                old, _ = self._docs.popitem(last=False)
                self._texts.pop(old, None)
        return doc

    def text(self, doc_id: str) -> str:
        with self._lock:
            if doc_id in self._texts:
                return self._texts[doc_id]
        self.document(doc_id)
        with self._lock:
            return self._texts.get(doc_id, "")

    def _record(self, doc_id: str) -> dict[str, Any]:
        path = self.root / "records" / f"{doc_id}.json"
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise StoreError(f"cannot read the record of document {doc_id} ({exc})", path=str(path),
                             hint="re-ingest the file") from None

    def documents(self) -> list[BudgetDocument]:
        return [self.document(k) for k in self.catalog()]

    def document_rows(self) -> list[dict[str, Any]]:
        """One row per document for the 文档 list (findings counted once per content hash)."""
        rows = []
        for doc_id, e in self.catalog().items():
            if doc_id not in self._n_findings:
                try:
                    self.document(doc_id)
                except BudgetQAError:
                    continue
            rows.append({**e, "doc_id": doc_id, "n_findings": self._n_findings.get(doc_id, 0)})
        return rows

    # ------------------------------------------------------------------------------------------ QA

    def engine(self) -> Any:
        with self._lock:
            key = tuple(sorted(self.catalog()))
            if not key:
                raise StoreError("库中还没有文档", hint=EMPTY_HINT)
            if self._engine is None or key != self._engine_key:
                self._engine = self._engine_factory(self.root, self.settings)
                self._engine_key = key
            return self._engine

    def ask(self, question: str, conversation_id: str | None = None, department: str | None = None,
            year: Any = None) -> Any:
        q = (question or "").strip()
        if not q:
            raise BudgetQAError("请输入问题")
        return self.engine().answer(scoped_question(q, department, year), conversation_id)

    def mode(self) -> str:
        s = self.settings
        return f"llm:{s.llm_model}" if s.llm_configured else "offline"

    # ------------------------------------------------------------------------------------------ writes

    def ingest(self, paths: Sequence[Path], on_progress: Callable[[int, int, str], None] | None = None
               ) -> UploadResult:
        """Check (type, size), extract, check and index uploaded files; one bad file does not stop the rest."""
        from extractor.load import SUPPORTED_SUFFIXES
        from rag.store import Store, prepare

        result = UploadResult()
        ok: list[Path] = []
        for p in paths:
            p = Path(p)
            size = p.stat().st_size if p.exists() else -1
            problem = upload_problem(p.name, size, self.settings.max_upload_mb, SUPPORTED_SUFFIXES)
            if problem:
                result.errors.append(problem)
            else:
                ok.append(p)
        if not ok:
            return result

        seen: list[tuple[str, str | None]] = []  # (file name, doc_id) in input order

        def items() -> Iterator[Any]:
            for i, p in enumerate(ok):
                if on_progress:
                    on_progress(i, len(ok), p.name)
                prepared = prepare(p)
                seen.append((p.name, prepared.document.doc_id if prepared.document else None))
                yield prepared
            if on_progress:
                on_progress(len(ok), len(ok), "")

        with self._write_lock:
            try:
                with Store.open(self.root, write=True, settings=self.settings) as store:
                    before = set(store.catalog())
                    stats = store.ingest(items())
                    after = store.catalog()
            finally:
                self.invalidate()
        result.added = [after[k]["source"] for k in after if k not in before]
        result.replaced = stats.replaced
        result.skipped = [name for name, doc_id in seen if doc_id in before]
        names = {str(p): p.name for p in ok}
        for f in stats.failed:
            path = str(f.get("path") or "")
            # the loader names the (temporary) upload path; the user knows the file by its name
            result.errors.append(str(f.get("error") or "").replace(path, names.get(path, Path(path).name)))
        return result

    def remove(self, doc_id: str) -> str:
        from rag.store import Store

        with self._write_lock:
            try:
                with Store.open(self.root, write=True, settings=self.settings) as store:
                    entry = store.catalog().get(doc_id)
                    if entry is None:
                        raise BudgetQAError("该文档不在库中（可能已被删除）", hint="刷新页面")
                    remover = getattr(store, "remove", None)
                    if callable(remover):
                        remover(doc_id)
                    else:  # the store's own crash-safe drop: record first, then vectors, then chunks
                        store._drop(doc_id)
            finally:
                self.invalidate()
        with self._lock:
            self._docs.pop(doc_id, None)
            self._texts.pop(doc_id, None)
            self._n_findings.pop(doc_id, None)
        return str(entry.get("source") or doc_id)

    # ------------------------------------------------------------------------------------------ evals

    def eval_path(self, suite: str) -> Path:
        return self.root / "evals" / f"last-{suite}.json"

    def last_eval(self, suite: str) -> dict[str, Any] | None:
        path = self.eval_path(suite)
        if not path.exists():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None

    def run_eval(self, suite: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
        """(this run, the previous run of the same suite or None); this run becomes the next baseline.
        Evals score the bundled samples against the fixtures (their own temporary store), so the figures
        do not depend on what users uploaded."""
        from evals.runner import SUITES, RunOptions
        from evals.runner import run as run_suites

        if suite not in (*SUITES, "all"):
            raise BudgetQAError(f"unknown eval suite '{suite}'", hint="choose one of " + ", ".join((*SUITES, "all")))
        with self._write_lock:
            previous = self.last_eval(suite)
            result = run_suites([suite], RunOptions())
            path = self.eval_path(suite)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(result, ensure_ascii=False, default=str), encoding="utf-8")
            except OSError as exc:
                log.warning("cannot keep the eval run as the next baseline: %s", exc)
        return result, previous
