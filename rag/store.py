"""The store: Chroma for vectors, JSON records beside it, kept consistent through crashes.

Layout of a store directory:

    store.json            manifest: store id, Chroma collection name, the embedding it was built with
    chroma/               embedded Chroma (PersistentClient); unused when BUDGETQA_CHROMA_URL names a server
    records/<doc_id>.json the document record (extracted BudgetDocument + source text) — the commit marker
    chunks/<doc_id>.json  the document's chunks with their lexical tokens (what BM25 and citations read)
    pending/<doc_id>.json write-ahead intent of a document being indexed
    catalog.json          a cache of the records' headers (rebuilt from records when it disagrees)

A document is keyed by the hash of its text (`doc_id`): ingesting it again is a no-op. Writing one goes
pending marker -> chunks file -> Chroma upserts (deterministic ids) -> record (atomic rename = commit) ->
drop the document it replaces (same source name) -> remove the marker. A writer that opens the store
first finishes or rolls back whatever a killed run left behind, so a run killed at any point and run
again leaves exactly the state of one clean run."""

from __future__ import annotations

import json
import os
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from extractor.errors import BudgetQAError, StoreError
from extractor.models import BudgetDocument
from extractor.settings import Settings, get_settings

from .chunk import Chunk
from .embed import BudgetEmbedding, embedding_from_settings
from .lexical import LEXICON_VERSION

FORMAT = 1
UPSERT_BATCH = 1000        # chunks per Chroma upsert call
GROUP_CHUNKS = 3000        # documents are committed in groups of about this many chunks


def _chroma_settings() -> Any:
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _write_json(path: Path, data: Any, *, durable: bool = True) -> None:
    """Atomic write: a reader (or a crash) sees the old file or the new one, never half of one.
    `data` may be pre-encoded JSON text (str)."""
    tmp = path.with_name(path.name + ".tmp")
    # json.dumps runs the C encoder in one shot; json.dump would stream through the Python one
    payload = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(payload)
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)


def _read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def resolve_store_dir(store: str | Path | None, settings: Settings | None = None) -> Path:
    """--store, else BUDGETQA_HOME, else ./.budgetqa."""
    if store:
        return Path(store)
    return Path((settings or get_settings()).home)


@dataclass
class Prepared:
    """One input file, extracted and chunked (picklable: produced in worker processes)."""

    path: Path
    document: BudgetDocument | None = None
    text: str = ""
    chunks: list[Chunk] = field(default_factory=list)
    tokens: list[list[str]] = field(default_factory=list)
    error: str | None = None

    @property
    def n_values(self) -> int:
        d = self.document
        return 0 if d is None else sum(1 for _ in d.amounts()) + len(d.facts) + len(d.indicators)


@dataclass
class IngestStats:
    documents: int = 0
    chunks: int = 0
    records: int = 0
    skipped: int = 0
    replaced: int = 0
    failed: list[dict[str, str]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"documents": self.documents, "chunks": self.chunks, "records": self.records,
                "skipped": self.skipped, "failed": self.failed}


class Store:
    """Open with `Store.open(dir)` (read) or `Store.open(dir, write=True)` (ingest; takes the write lock)."""

    def __init__(self, root: Path, settings: Settings, embedding: BudgetEmbedding, write: bool):
        self.root, self.settings, self.embedding, self.write = root, settings, embedding, write
        self.records_dir, self.chunks_dir, self.pending_dir = root / "records", root / "chunks", root / "pending"
        self._lock_fh: Any = None
        self.manifest: dict[str, Any] = {}
        self.client: Any = None
        self.collection: Any = None
        self._catalog: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------------------------------ opening

    @classmethod
    def open(cls, root: str | Path | None = None, *, write: bool = False, settings: Settings | None = None,
             embedding: BudgetEmbedding | None = None, reindex: bool = False) -> Store:
        settings = settings or get_settings()
        root = resolve_store_dir(root, settings)
        store = cls(root, settings, embedding or embedding_from_settings(settings), write or reindex)
        try:
            store._open(reindex)
        except BaseException:
            store.close()
            raise
        return store

    def _open(self, reindex: bool) -> None:
        manifest_path = self.root / "store.json"
        if not self.write and not manifest_path.exists():
            raise StoreError("no budgetqa store here", path=str(self.root),
                             hint=f"build one with: budgetqa ingest PATH... --store {self.root}")
        if self.write:
            for d in (self.root, self.records_dir, self.chunks_dir, self.pending_dir):
                d.mkdir(parents=True, exist_ok=True)
            self._take_lock()
        if manifest_path.exists():
            self.manifest = _read_json(manifest_path)
        else:
            store_id = uuid.uuid4().hex[:12]
            self.manifest = {"format": FORMAT, "store_id": store_id, "collection": f"budgetqa_{store_id}",
                             "embedding": self.embedding.identity, "embedding_function": self.embedding.name(),
                             "embedding_config": self.embedding.get_config(), "state": "ok",
                             "created": time.strftime("%Y-%m-%dT%H:%M:%S")}
            _write_json(manifest_path, self.manifest)
        if reindex:
            self._reindex()
            return
        if self.manifest.get("state") == "reindexing":
            raise StoreError("a re-index of this store was interrupted", path=str(self.root),
                             hint=f"finish it with: budgetqa ingest --reindex --store {self.root}")
        self._check_embedding(self.manifest.get("embedding"))
        self.client = self._client()
        self.collection = self._get_collection(create=self.write and not self._committed_ids())
        self._check_embedding((self.collection.metadata or {}).get("budgetqa_embedding"))
        self._load_catalog()
        if self.write:
            self._recover()

    def _take_lock(self) -> None:
        try:
            import fcntl
        except ImportError:  # pragma: no cover - non-POSIX: no inter-process lock
            return
        self._lock_fh = open(self.root / ".lock", "a+")
        try:
            fcntl.flock(self._lock_fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock_fh.close()
            self._lock_fh = None
            raise StoreError("another budgetqa process is writing to this store", path=str(self.root),
                             hint="wait for it to finish") from None

    def _check_embedding(self, built_with: str | None) -> None:
        if built_with and built_with != self.embedding.identity:
            hint = (f"re-index it with the current embedding: budgetqa ingest --reindex --store {self.root}"
                    + ("; or unset BUDGETQA_EMBEDDING_MODEL to use the store as built"
                       if self.settings.embedding_model else
                       "; or set BUDGETQA_EMBEDDING_MODEL to the model it was built with"
                       if built_with.startswith("openai:") else ""))
            raise StoreError(f"the store was built with embedding '{built_with}' but the current setting is "
                             f"'{self.embedding.identity}'; vectors of different embeddings cannot be mixed",
                             path=str(self.root), hint=hint)

    def _client(self) -> Any:
        import chromadb

        url = self.settings.chroma_url
        if not url:
            return chromadb.PersistentClient(path=str(self.root / "chroma"), settings=_chroma_settings())
        parsed = urlparse(url if "://" in url else f"http://{url}")
        try:
            client = chromadb.HttpClient(host=parsed.hostname or "localhost",
                                         port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                                         ssl=parsed.scheme == "https", settings=_chroma_settings())
            client.heartbeat()
        except Exception as exc:
            raise StoreError(f"cannot reach the Chroma server at {url} ({type(exc).__name__})",
                             hint="start one with `chroma run --path DIR --host 127.0.0.1 --port N`, "
                                  "or unset BUDGETQA_CHROMA_URL to use the embedded store") from None
        return client

    def _get_collection(self, create: bool) -> Any:
        from chromadb.errors import NotFoundError

        name = self.manifest["collection"]
        try:
            return self.client.get_collection(name, embedding_function=self.embedding)
        except (NotFoundError, ValueError) as exc:
            if isinstance(exc, ValueError) and "does not exist" not in str(exc):
                raise StoreError(f"cannot open the Chroma collection {name}: {exc}", path=str(self.root),
                                 hint=f"re-index it: budgetqa ingest --reindex --store {self.root}") from None
        if not create:
            if self._committed_ids():
                raise StoreError(f"the records are here but Chroma has no collection {name} "
                                 f"({self.settings.chroma_url or 'embedded'})", path=str(self.root),
                                 hint=f"rebuild the index from the records: budgetqa ingest --reindex --store {self.root}")
            if not self.write:
                raise StoreError("the store is empty", path=str(self.root),
                                 hint=f"add documents with: budgetqa ingest PATH... --store {self.root}")
        return self.client.create_collection(
            name, embedding_function=self.embedding, configuration={"hnsw": {"space": "cosine"}},
            metadata={"budgetqa_embedding": self.embedding.identity, "budgetqa_store": self.manifest["store_id"]})

    def close(self) -> None:
        if self._lock_fh is not None:
            with suppress(OSError):
                self._lock_fh.close()
            self._lock_fh = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------------------------------ reading

    def _committed_ids(self) -> list[str]:
        if not self.records_dir.exists():
            return []
        return sorted(p.name[:-5] for p in self.records_dir.iterdir()
                      if p.name.endswith(".json") and not p.name.endswith(".tmp"))

    def _load_catalog(self) -> None:
        path = self.root / "catalog.json"
        cached: dict[str, dict[str, Any]] = {}
        if path.exists():
            with suppress(ValueError, OSError):
                cached = _read_json(path)
        self._catalog = {}
        changed = False
        for doc_id in self._committed_ids():
            record_path = self.records_dir / f"{doc_id}.json"
            try:
                st = record_path.stat()
            except FileNotFoundError:
                continue
            stamp = [st.st_mtime_ns, st.st_size]
            entry = cached.get(doc_id)
            if entry is None or entry.get("stamp") != stamp:  # the cache is trusted only for unchanged files
                changed = True
                try:
                    entry = {**self._header(_read_json(record_path)), "stamp": stamp}
                except (ValueError, OSError):
                    continue
            self._catalog[doc_id] = entry
        if self.write and (changed or set(cached) != set(self._catalog)):
            _write_json(path, self._catalog, durable=False)

    @staticmethod
    def _header(record: dict[str, Any]) -> dict[str, Any]:
        keys = ("doc_id", "source", "path", "department", "region", "year", "doc_kind", "n_chunks", "n_values",
                "replaces", "ingested_at")
        return {k: record.get(k) for k in keys}

    def catalog(self) -> dict[str, dict[str, Any]]:
        """doc_id -> header (source, department, region, year, doc_kind, n_chunks …) of committed documents."""
        replaced = {o for e in self._catalog.values() for o in (e.get("replaces") or [])}
        return {k: v for k, v in self._catalog.items() if k not in replaced}

    def refresh(self) -> bool:
        """Re-read the catalog (another process may have ingested); True when the document set changed."""
        before = set(self._catalog)
        self._load_catalog()
        return set(self._catalog) != before

    def record(self, doc_id: str) -> dict[str, Any]:
        return _read_json(self.records_dir / f"{doc_id}.json")

    def document(self, doc_id: str) -> BudgetDocument:
        return BudgetDocument.model_validate(self.record(doc_id)["document"])

    def text(self, doc_id: str) -> str:
        return self.record(doc_id)["text"]

    def documents(self) -> Iterator[BudgetDocument]:
        for doc_id in self.catalog():
            yield self.document(doc_id)

    def chunk_file(self, doc_id: str) -> dict[str, Any]:
        """{"doc_id", "lexicon", "chunks": [{id, text, metadata, tokens}]} of one committed document."""
        return _read_json(self.chunks_dir / f"{doc_id}.json")

    def chunk_records(self, doc_id: str) -> list[dict[str, Any]]:
        return self.chunk_file(doc_id)["chunks"]

    def count(self) -> int:
        return int(self.collection.count())

    # ------------------------------------------------------------------------------------------ recovery

    def _recover(self) -> None:
        """Finish or roll back what a killed writer left: pending markers, orphan files, temp files."""
        for marker in sorted(self.pending_dir.glob("*.json")):
            try:
                info = _read_json(marker)
            except (ValueError, OSError):
                info = {"doc_id": marker.name[:-5], "replaces": []}
            doc_id = info["doc_id"]
            if (self.records_dir / f"{doc_id}.json").exists():
                for old in info.get("replaces") or []:
                    self._drop(old)
            else:
                self.collection.delete(where={"doc_id": doc_id})
                with suppress(FileNotFoundError):
                    (self.chunks_dir / f"{doc_id}.json").unlink()
            marker.unlink()
        committed = set(self._committed_ids())
        for d in (self.records_dir, self.chunks_dir, self.pending_dir):
            for p in d.glob("*.tmp"):
                p.unlink()
        for p in self.chunks_dir.glob("*.json"):
            if p.name[:-5] not in committed:
                self.collection.delete(where={"doc_id": p.name[:-5]})
                p.unlink()
        self._load_catalog()

    def _drop(self, doc_id: str) -> None:
        """Remove a document: its record first (un-commit), then its vectors, then its chunks file."""
        with suppress(FileNotFoundError):
            (self.records_dir / f"{doc_id}.json").unlink()
        self.collection.delete(where={"doc_id": doc_id})
        with suppress(FileNotFoundError):
            (self.chunks_dir / f"{doc_id}.json").unlink()
        self._catalog.pop(doc_id, None)

    # ------------------------------------------------------------------------------------------ writing

    def ingest(self, items: Iterable[Prepared], on_item: Callable[[Prepared], None] | None = None) -> IngestStats:
        """Index prepared documents; skips known ones, replaces older versions of the same source name."""
        if not self.write:
            raise StoreError("the store was opened read-only", path=str(self.root))
        stats = IngestStats()
        by_source = {e["source"]: k for k, e in self.catalog().items()}
        seen_sources: dict[str, Path] = {}
        group: list[Prepared] = []
        for item in items:
            if on_item:
                on_item(item)
            doc = item.document
            if item.error or doc is None:
                stats.failed.append({"path": str(item.path), "error": item.error or "no document"})
                continue
            if doc.doc_id in self._catalog or any(g.document and g.document.doc_id == doc.doc_id for g in group):
                stats.skipped += 1
                continue
            if doc.source in seen_sources:
                stats.failed.append({"path": str(item.path), "error": (
                    f"{item.path}: another file with the same name ({seen_sources[doc.source]}) was given in this "
                    "run; a document is identified by its file name, so rename one of them")})
                continue
            seen_sources[doc.source] = item.path
            group.append(item)
            if sum(len(g.chunks) for g in group) >= GROUP_CHUNKS:
                self._commit(group, by_source, stats)
                group = []
        if group:
            self._commit(group, by_source, stats)
        return stats

    def _commit(self, group: list[Prepared], by_source: dict[str, str], stats: IngestStats) -> None:
        replaces: dict[str, list[str]] = {}
        for item in group:  # 1. intent, durable before anything else is written
            doc = item.document
            assert doc is not None
            old = [by_source[doc.source]] if doc.source in by_source else []
            replaces[doc.doc_id] = old
            _write_json(self.pending_dir / f"{doc.doc_id}.json", {"doc_id": doc.doc_id, "replaces": old})
        ids = [g.document.doc_id for g in group if g.document]
        self.collection.delete(where={"doc_id": {"$in": ids}} if len(ids) > 1 else {"doc_id": ids[0]})
        for item in group:  # 2. chunks file (what BM25 reads), then vectors
            assert item.document is not None
            _write_json(self.chunks_dir / f"{item.document.doc_id}.json", {
                "doc_id": item.document.doc_id, "lexicon": LEXICON_VERSION,
                # tokens as one space-joined string: a tenth of the JSON to parse when a retriever loads
                "chunks": [{"id": c.id, "text": c.text, "metadata": c.metadata, "tokens": " ".join(t),
                            **({"index_text": c.index_text} if c.index_text else {})}
                           for c, t in zip(item.chunks, item.tokens, strict=True)]}, durable=False)
        self._upsert([c for g in group for c in g.chunks])
        now = time.strftime("%Y-%m-%dT%H:%M:%S")
        for item in group:  # 3. the record: its atomic rename commits the document
            doc = item.document
            assert doc is not None
            record = {"format": FORMAT, "doc_id": doc.doc_id, "source": doc.source, "path": str(item.path),
                      "department": doc.department, "region": doc.region, "year": doc.year, "doc_kind": doc.kind,
                      "embedding": self.embedding.identity, "n_chunks": len(item.chunks),
                      "n_values": item.n_values, "replaces": replaces[doc.doc_id], "ingested_at": now,
                      "text": item.text}
            head = json.dumps(record, ensure_ascii=False, separators=(",", ":"))
            record_path = self.records_dir / f"{doc.doc_id}.json"
            # the document is serialised by pydantic's own (fast) encoder and spliced in
            _write_json(record_path, f'{head[:-1]},"document":{doc.model_dump_json()}}}')
            st = record_path.stat()
            self._catalog[doc.doc_id] = {**self._header(record), "stamp": [st.st_mtime_ns, st.st_size]}
            for old in replaces[doc.doc_id]:  # 4. the replaced version goes
                self._drop(old)
                stats.replaced += 1
            by_source[doc.source] = doc.doc_id
            (self.pending_dir / f"{doc.doc_id}.json").unlink()
            stats.documents += 1
            stats.chunks += len(item.chunks)
            stats.records += item.n_values
        _write_json(self.root / "catalog.json", self._catalog, durable=False)

    def _upsert(self, chunks: list[Chunk]) -> None:
        for i in range(0, len(chunks), UPSERT_BATCH):
            batch = chunks[i:i + UPSERT_BATCH]
            texts = [c.text for c in batch]
            vectors = self.embedding(texts)
            self.collection.upsert(ids=[c.id for c in batch], documents=texts, embeddings=vectors,
                                   metadatas=[c.metadata for c in batch])

    def _reindex(self) -> None:
        """Rebuild the Chroma collection from the records with the current embedding (no source files needed)."""
        self.manifest.update(state="reindexing")
        _write_json(self.root / "store.json", self.manifest)
        self.client = self._client()
        from chromadb.errors import NotFoundError

        with suppress(NotFoundError, ValueError):
            self.client.delete_collection(self.manifest["collection"])
        self.manifest.update(embedding=self.embedding.identity, embedding_function=self.embedding.name(),
                             embedding_config=self.embedding.get_config())
        self.collection = self._get_collection(create=True)
        self._recover()
        for doc_id in self._committed_ids():
            chunks = [Chunk(c["id"], c["text"], c["metadata"], c.get("index_text", ""))
                      for c in self.chunk_records(doc_id)]
            self._upsert(chunks)
        self.manifest.update(state="ok")
        _write_json(self.root / "store.json", self.manifest)


def prepare(path: Path) -> Prepared:
    """Load, extract (with its numeric checks) and chunk one file; runs in worker processes and never
    raises for a bad file."""
    from extractor.load import load_document
    from extractor.pipeline import extract_text

    from .chunk import chunk_document
    from .lexical import tokenize

    try:
        loaded = load_document(path)
        doc = extract_text(loaded)  # runs the numeric checks (extractor.checks) when they are installed
        chunks = chunk_document(doc, loaded.text)
        return Prepared(path, doc, loaded.text, chunks, [tokenize(c.lexical_text) for c in chunks])
    except BudgetQAError as exc:
        return Prepared(path, error=str(exc))
    except Exception as exc:  # a parser bug must not stop a bulk run; it is reported with the file
        return Prepared(path, error=f"{path}: internal error while extracting ({type(exc).__name__}: {exc})")


def prepare_many(paths: list[Path], workers: int = 1) -> Iterator[Prepared]:
    """Prepared documents in input order; `workers` > 1 uses a process pool."""
    if workers <= 1 or len(paths) < 2:
        for p in paths:
            yield prepare(p)
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(prepare, paths, chunksize=max(1, min(8, len(paths) // (workers * 4) or 1)))
