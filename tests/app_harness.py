"""Serving the app for the browser and concurrency tests: a store with the bundled samples, the app launched
in-process on 127.0.0.1 with a free port, closed afterwards."""

from __future__ import annotations

import os
import socket
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.conftest import SAMPLES

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_sample_store(root: Path) -> Path:
    """The samples ingested into `root` through the same code path as `budgetqa demo`."""
    from ui.commands.demo import ensure_samples

    ensure_samples(SAMPLES, root)
    return root


@contextmanager
def served_app(root: Path, engine_factory: Callable[[Path, Any], Any] | None = None, **settings: Any
               ) -> Iterator[tuple[str, Any]]:
    """(URL, the Blocks app) of the app over the store at `root`, listening on 127.0.0.1."""
    from extractor.settings import Settings
    from ui.app import build_app, launch

    s = Settings(home=root, **settings)
    app = build_app(root, s, engine_factory=engine_factory)
    port = free_port()
    _fastapi, url = launch(app, s, host="127.0.0.1", port=port, block=False, quiet=True)
    url = url if url.endswith("/") else url + "/"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as r:
                if r.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)
    try:
        yield url, app
    finally:
        app.close()
