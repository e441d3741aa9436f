"""Bulk extraction: many files, a process pool, bad files reported and skipped."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from .errors import BudgetQAError
from .models import BudgetDocument


@dataclass
class Outcome:
    path: Path
    document: BudgetDocument | None = None
    error: str | None = None


def _extract_one(path: Path) -> Outcome:
    from .pipeline import extract_file

    try:
        return Outcome(path, extract_file(path))
    except BudgetQAError as exc:
        return Outcome(path, error=str(exc))
    except Exception as exc:  # a parser bug must not stop a bulk run; it is reported with the file
        return Outcome(path, error=f"{path}: internal error while extracting ({type(exc).__name__}: {exc})")


def extract_many(paths: list[Path], workers: int = 1) -> Iterator[Outcome]:
    """Yield one Outcome per input path, in input order."""
    if workers <= 1 or len(paths) < 2:
        for p in paths:
            yield _extract_one(p)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_extract_one, paths, chunksize=max(1, min(16, len(paths) // (workers * 4) or 1)))
