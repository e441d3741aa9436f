"""Test-wide guards: no network except loopback; sample paths."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "data" / "samples"
SEEDS = sorted(SAMPLES.glob("*.txt"))

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "BUDGETQA_LLM_MODEL", "BUDGETQA_EMBEDDING_MODEL", "BUDGETQA_CHROMA_URL"):
    os.environ.pop(var, None)

_real_connect = socket.socket.connect


def _guarded_connect(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and host not in ("127.0.0.1", "localhost", "::1") and not host.startswith("/"):
        raise RuntimeError(f"network access to {host!r} is blocked in tests")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _guarded_connect)
    yield


@pytest.fixture(scope="session")
def seed_docs():
    from extractor.pipeline import extract_file

    return {p.name: (p.read_text(encoding="utf-8"), extract_file(p)) for p in SEEDS}
