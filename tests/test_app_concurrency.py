"""Ten simultaneous chat requests against the running app (HTTP, gradio_client) are all answered, and each
answer is the one the engine gives to that question asked alone."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.app_harness import build_sample_store, served_app

pytestmark = pytest.mark.slow

N = 10
HOLD_S = 0.3  # each answer is held this long, so the requests must overlap to finish in time


class Overlap:
    """Wraps the real engine; records how many answers were in flight at once."""

    def __init__(self, engine: Any):
        self.engine = engine
        self.lock = threading.Lock()
        self.inflight = 0
        self.peak = 0

    def answer(self, question: str, conversation_id: str | None = None) -> Any:
        with self.lock:
            self.inflight += 1
            self.peak = max(self.peak, self.inflight)
        try:
            result = self.engine.answer(question, conversation_id)
            time.sleep(HOLD_S)
            return result
        finally:
            with self.lock:
                self.inflight -= 1


@pytest.fixture(scope="module")
def app_and_truth(tmp_path_factory):
    from extractor.settings import Settings
    from ui.app.adapters import short_department
    from ui.app.service import default_engine_factory

    root = build_sample_store(tmp_path_factory.mktemp("concurrency") / "store")
    reference = default_engine_factory(root, Settings(home=root))  # the app's own engine, asked one at a time
    catalog_docs = sorted(reference.documents, key=lambda d: d.source)
    questions: list[str] = []
    metrics = ["支出总计", "基本支出", "项目支出", "“三公”经费", "主要职责"]  # the last goes through retrieval
    for i in range(N):
        d = catalog_docs[i % len(catalog_docs)]
        m = metrics[i % len(metrics)]
        questions.append(f"{short_department(d.department)}{d.year}年的{m}{'是什么' if m == '主要职责' else '是多少'}？")
    truth = [reference.answer(q).model_dump(mode="json") for q in questions]
    wrapped: dict[str, Overlap] = {}

    def factory(store_root: Path, settings: Any) -> Overlap:
        wrapped["engine"] = Overlap(default_engine_factory(store_root, settings))
        return wrapped["engine"]

    with served_app(root, engine_factory=factory) as (url, _app):
        yield url, questions, truth, wrapped


def test_ten_simultaneous_questions_are_all_answered_correctly(app_and_truth):
    from gradio_client import Client

    url, questions, truth, wrapped = app_and_truth
    clients = [Client(url, verbose=False) for _ in range(N)]
    barrier = threading.Barrier(N)

    def ask(i: int) -> dict:
        barrier.wait()
        return clients[i].predict(questions[i], f"conv-{i}", "", "", api_name="/ask")

    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=N) as pool:
        answers = list(pool.map(ask, range(N)))
    elapsed = time.perf_counter() - t0

    print(f"\n{N} simultaneous questions: {elapsed:.2f} s, up to {wrapped['engine'].peak} answered at once")
    assert len(answers) == N
    for q, got, want in zip(questions, answers, truth, strict=True):
        assert got["answer"] == want["answer"], q
        assert [c["char_start"] for c in got["citations"]] == [c["char_start"] for c in want["citations"]], q
        assert not got["abstained"], (q, got["answer"])
        assert got["citations"], q
        assert all(n["status"] in ("verified", "computed") for n in got["numbers"]), q
    # they really ran side by side: ten answers held HOLD_S each finished in far less than 10 × HOLD_S
    assert wrapped["engine"].peak > 1
    assert elapsed < N * HOLD_S + 5, elapsed
