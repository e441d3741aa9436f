"""A rich progress bar on a TTY, nothing otherwise (CI logs stay clean)."""

from __future__ import annotations

import sys
from contextlib import contextmanager


@contextmanager
def progress(total: int, label: str):
    if not sys.stderr.isatty() or total <= 1:
        yield lambda n=1: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  transient=True) as bar:
        task = bar.add_task(label, total=total)
        yield lambda n=1: bar.advance(task, n)
