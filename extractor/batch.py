"""Bulk extraction: many files, a process pool, bad files reported and skipped.

Workers send back what the caller needs in its cheapest form: a document object (in-process), its JSON as
UTF-8 bytes (pickling a whole BudgetDocument across processes cost more than extracting it; bytes cross the
pipe without being decoded and re-encoded), its JSON written to a temporary file in the output directory
(only its name crosses the pipe; the caller names and moves the file), or tidy rows."""

from __future__ import annotations

import gc
import os
import tempfile
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Literal

from .errors import BudgetQAError
from .models import BudgetDocument

Shape = Literal["document", "json", "file", "tidy"]


@dataclass
class Outcome:
    path: Path
    document: BudgetDocument | None = None
    json: bytes | None = None  # the document's JSON, UTF-8 (what `extract --format json` writes)
    json_file: Path | None = None  # that JSON in a temporary file (shape "file"), for the caller to rename
    tidy: list[dict] | None = None
    summary: dict | None = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def get_document(self) -> BudgetDocument:
        if self.document is None and self.json_file is not None:
            self.document = BudgetDocument.model_validate_json(self.json_file.read_bytes())
        if self.document is None and self.json is not None:
            self.document = BudgetDocument.model_validate_json(self.json)
        assert self.document is not None, "no document in a failed outcome"
        return self.document


def _summary(doc: BudgetDocument) -> dict:
    return {"source": doc.source, "doc_id": doc.doc_id, "department": doc.department, "year": doc.year,
            "tables": len(doc.tables), "values": sum(1 for _ in doc.amounts()) + sum(1 for f in doc.facts if f.amount),
            "findings": len(doc.findings)}


def _to_json(doc: BudgetDocument) -> bytes:
    """`doc.model_dump_json()` encoded as UTF-8, without building the str in between."""
    return BudgetDocument.__pydantic_serializer__.to_json(doc)


def _write_temporary(data: bytes, out_dir: Path) -> Path:
    fd, name = tempfile.mkstemp(suffix=".json", dir=out_dir)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return Path(name)


def _extract_one(path: Path, shape: Shape = "document", out_dir: Path | None = None) -> Outcome:
    from .export import tidy_rows
    from .pipeline import extract_file

    try:
        doc = extract_file(path)
    except BudgetQAError as exc:
        return Outcome(path, error=str(exc))
    except Exception as exc:  # a parser bug must not stop a bulk run; it is reported with the file
        return Outcome(path, error=f"{path}: internal error while extracting ({type(exc).__name__}: {exc})")
    if shape == "json":
        return Outcome(path, json=_to_json(doc), summary=_summary(doc))
    if shape == "file":
        assert out_dir is not None, "shape 'file' needs out_dir"
        return Outcome(path, json_file=_write_temporary(_to_json(doc), out_dir), summary=_summary(doc))
    if shape == "tidy":
        return Outcome(path, tidy=tidy_rows(doc), summary=_summary(doc))
    return Outcome(path, document=doc, summary=_summary(doc))


_GC_THRESHOLD = 10_000  # allocations between young-generation collections (CPython's default: 700)


def _worker_init() -> None:
    """Pool workers: import the extractor once, then keep the cyclic garbage collector off the objects
    that live as long as the process (modules, compiled patterns) and let it run less often — extraction
    allocates tens of thousands of short-lived, acyclic records per document."""
    from . import export, pipeline  # noqa: F401

    gc.freeze()
    gc.set_threshold(_GC_THRESHOLD, 20, 20)


def extract_many(paths: list[Path], workers: int = 1, shape: Shape = "document",
                 out_dir: Path | None = None) -> Iterator[Outcome]:
    """Yield one Outcome per input path, in input order. With workers > 1 a process pool is used and
    'document' results travel as JSON (call `Outcome.get_document()`). Shape 'file' writes each document's
    JSON to a temporary file in `out_dir` (`Outcome.json_file`), which the caller renames or removes."""
    if workers <= 1 or len(paths) < 2:
        # in-process: the same collector setting as the pool workers, restored when the caller is done
        threshold = gc.get_threshold()
        gc.set_threshold(_GC_THRESHOLD, *threshold[1:])
        try:
            for p in paths:
                yield _extract_one(p, shape, out_dir)
        finally:
            gc.set_threshold(*threshold)
        return
    wire_shape: Shape = "json" if shape == "document" else shape
    from . import export, pipeline  # noqa: F401  imported once here: forked workers inherit them (~0.3 s each)

    with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
        # small chunks: a round trip costs ~0.1 ms, while the last chunk keeps one worker busy alone (a
        # chunk of 16 documents is ~0.25 s of a 500-document run with one core idle)
        chunk = max(1, min(4, len(paths) // (workers * 4) or 1))
        yield from pool.map(partial(_extract_one, shape=wire_shape, out_dir=out_dir), paths, chunksize=chunk)
