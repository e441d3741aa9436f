"""The store: idempotent ingest, replacement, crash safety (simulated and real kill -9), Chroma server
mode, the embedding recorded and enforced, the OpenAI-compatible embedding path and `budgetqa ingest`."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from evals.scripted_server import FakeOpenAI, Reply, auto_embeddings, embedding_reply
from extractor.errors import LLMError, StoreError
from extractor.settings import Settings
from rag import store as store_mod
from rag.embed import HashedNgramEmbedding, OpenAICompatibleEmbedding
from rag.store import Store, prepare_many
from tests.conftest import ROOT, SEEDS
from tests.variants import write_variants

PY = sys.executable


def ingest(root: Path, paths: list[Path], settings: Settings | None = None, **kw):
    with Store.open(root, write=True, settings=settings or Settings(), **kw) as st:
        return st.ingest(prepare_many(paths))


def snapshot(root: Path, settings: Settings | None = None) -> dict:
    """Everything a clean run determines: Chroma ids and per-document counts, records, chunk files."""
    st = Store.open(root, settings=settings or Settings())
    got = st.collection.get(include=["metadatas"])
    state = {
        "ids": sorted(got["ids"]),
        "per_doc": dict(Counter(m["doc_id"] for m in got["metadatas"])),
        "records": sorted(p.name for p in (root / "records").glob("*.json")),
        "chunk_files": sorted(p.name for p in (root / "chunks").glob("*.json")),
        "pending": sorted(p.name for p in (root / "pending").glob("*")),
        "catalog": {k: (v["source"], v["n_chunks"]) for k, v in st.catalog().items()},
    }
    # each record's chunk count is what Chroma holds for it
    assert {k: n for k, (_, n) in state["catalog"].items()} == state["per_doc"]
    st.close()
    return state


@pytest.fixture(scope="module")
def variant_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("variants")


@pytest.fixture(scope="module")
def variants(variant_dir) -> list[Path]:
    return write_variants(SEEDS, variant_dir / "docs", 14)


@pytest.fixture(scope="module")
def clean_state(variants, tmp_path_factory) -> dict:
    root = tmp_path_factory.mktemp("clean") / "store"
    stats = ingest(root, variants)
    assert stats.documents == len(variants) and not stats.failed
    return snapshot(root)


# ------------------------------------------------------------------------------------------- idempotence


def test_reingest_adds_nothing(tmp_path):
    root = tmp_path / "store"
    first = ingest(root, SEEDS)
    assert first.documents == 5 and first.chunks > 500 and first.records > 0 and not first.failed
    before = snapshot(root)
    second = ingest(root, SEEDS)
    assert (second.documents, second.chunks, second.records, second.skipped) == (0, 0, 0, 5)
    assert snapshot(root) == before
    assert len(before["ids"]) == first.chunks


def test_same_name_twice_in_one_run_is_refused(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    shutil.copy(SEEDS[0], a / "report.txt")
    shutil.copy(SEEDS[1], b / "report.txt")
    stats = ingest(tmp_path / "store", [a / "report.txt", b / "report.txt"])
    assert stats.documents == 1
    assert len(stats.failed) == 1 and "same name" in stats.failed[0]["error"]


def test_changed_file_replaces_its_chunks(tmp_path):
    from tests.variants import make_variant

    root, doc = tmp_path / "store", tmp_path / "doc.txt"
    original = SEEDS[2].read_text(encoding="utf-8")
    doc.write_text(original, encoding="utf-8")
    ingest(root, [doc, SEEDS[0]])
    before = snapshot(root)
    old_id = next(k for k, (src, _) in before["catalog"].items() if src == "doc.txt")
    doc.write_text(make_variant(original, "", 3), encoding="utf-8")  # same name, new numbers and years
    stats = ingest(root, [doc, SEEDS[0]])
    assert (stats.documents, stats.replaced, stats.skipped) == (1, 1, 1)
    after = snapshot(root)
    assert old_id not in after["per_doc"] and f"{old_id}.json" not in after["records"]
    assert [src for src, _ in after["catalog"].values()].count("doc.txt") == 1
    assert len(after["records"]) == 2 and not any(i.startswith(old_id) for i in after["ids"])


# ------------------------------------------------------------------------------------------- crash safety


class Crash(Exception):
    pass


def _crash_on_write(monkeypatch, folder: str, nth: int):
    real = store_mod._write_json
    seen = {"n": 0}

    def fake(path: Path, data, **kw):
        if path.parent.name == folder:
            seen["n"] += 1
            if seen["n"] == nth:
                raise Crash(f"crash writing {folder} #{nth}")
        return real(path, data, **kw)

    monkeypatch.setattr(store_mod, "_write_json", fake)


def _crash_on(monkeypatch, method: str, nth: int):
    real = getattr(Store, method)
    seen = {"n": 0}

    def fake(self, *a, **kw):
        seen["n"] += 1
        if seen["n"] == nth:
            raise Crash(f"crash in {method} #{nth}")
        return real(self, *a, **kw)

    monkeypatch.setattr(Store, method, fake)


CRASH_POINTS = [
    ("pending-marker", lambda mp: _crash_on_write(mp, "pending", 3)),
    ("chunks-file", lambda mp: _crash_on_write(mp, "chunks", 2)),
    ("first-upsert", lambda mp: _crash_on(mp, "_upsert", 1)),
    ("second-group-upsert", lambda mp: _crash_on(mp, "_upsert", 2)),
    ("record-commit", lambda mp: _crash_on_write(mp, "records", 4)),
]


@pytest.mark.slow
@pytest.mark.parametrize("point", [c[1] for c in CRASH_POINTS], ids=[c[0] for c in CRASH_POINTS])
def test_crash_at_any_step_then_rerun_equals_clean_run(point, variants, clean_state, tmp_path, monkeypatch):
    root = tmp_path / "store"
    monkeypatch.setattr(store_mod, "GROUP_CHUNKS", 1000)  # several commit groups
    with monkeypatch.context() as mp:
        point(mp)
        with pytest.raises(Crash):
            ingest(root, variants)
    ingest(root, variants)
    assert snapshot(root) == clean_state


def test_crash_while_replacing_drops_the_old_version(tmp_path, monkeypatch):
    from tests.variants import make_variant

    root, doc = tmp_path / "store", tmp_path / "doc.txt"
    text = SEEDS[4].read_text(encoding="utf-8")
    doc.write_text(text, encoding="utf-8")
    ingest(root, [doc])
    doc.write_text(make_variant(text, "", 5), encoding="utf-8")
    with monkeypatch.context() as mp:
        _crash_on(mp, "_drop", 1)  # the new record is committed, the old one not yet dropped
        with pytest.raises(Crash):
            ingest(root, [doc])
    reader = Store.open(root, settings=Settings())
    assert len(reader.catalog()) == 1  # readers already see only the new version
    reader.close()
    clean = tmp_path / "clean"
    ingest(clean, [doc])
    ingest(root, [doc])  # the next writer finishes the replacement
    assert snapshot(root)["per_doc"] == snapshot(clean)["per_doc"]
    assert len(list((root / "records").glob("*.json"))) == 1


def _run_cli(args: list[str], **kw) -> subprocess.Popen:
    env = {**os.environ, "ANONYMIZED_TELEMETRY": "False", "PYTHONPATH": str(ROOT)}
    return subprocess.Popen([PY, "-m", "ui.cli", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, **kw)


def _wait_for(cond, timeout: float = 120.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():
            return True
        time.sleep(0.005)
    return False


KILL_POINTS = [
    ("first-pending-marker", lambda root: any((root / "pending").glob("*.json"))),
    ("first-record", lambda root: any((root / "records").glob("*.json"))),
    ("mid-run", lambda root: len(list((root / "records").glob("*.json"))) >= 6),
]


@pytest.mark.slow
@pytest.mark.parametrize("when", [k[1] for k in KILL_POINTS], ids=[k[0] for k in KILL_POINTS])
def test_kill_9_during_ingest_then_rerun_equals_clean_run(when, variants, variant_dir, clean_state, tmp_path):
    root = tmp_path / "store"
    proc = _run_cli(["ingest", str(variant_dir / "docs"), "--store", str(root)])
    try:
        assert _wait_for(lambda: when(root) or proc.poll() is not None), "ingest never reached the kill point"
        assert proc.poll() is None, "ingest finished before it could be killed"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL
    rerun = _run_cli(["ingest", str(variant_dir / "docs"), "--store", str(root), "--json"])
    out, err = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, err.decode()
    stats = json.loads(out.decode().strip().splitlines()[-1])
    assert stats["documents"] + stats["skipped"] == len(variants) and stats["failed"] == []
    assert snapshot(root) == clean_state


# ------------------------------------------------------------------------------------------- embeddings


def test_store_built_with_another_embedding_is_refused_and_reindex_rebuilds(tmp_path):
    root = tmp_path / "store"
    ingest(root, SEEDS[:2])
    other = HashedNgramEmbedding(2, 3, 256)
    with pytest.raises(StoreError) as err:
        Store.open(root, settings=Settings(), embedding=other)
    message = str(err.value)
    assert "hashed-char-ngram:1-2" in message and "hashed-char-ngram:2-3:256" in message
    assert f"budgetqa ingest --reindex --store {root}" in message
    with pytest.raises(StoreError):
        Store.open(root, write=True, settings=Settings(), embedding=other)
    before = snapshot(root)
    Store.open(root, settings=Settings(), embedding=other, reindex=True).close()
    st = Store.open(root, settings=Settings(), embedding=other)
    assert st.count() == len(before["ids"]) and st.manifest["embedding"] == other.identity
    assert len(st.collection.query(query_embeddings=other.embed_query(["三公经费"]), n_results=3)["ids"][0]) == 3
    st.close()
    with pytest.raises(StoreError):
        Store.open(root, settings=Settings())  # the default embedding is now the foreign one


def test_reopened_collection_rebuilds_the_registered_embedding_function(tmp_path):
    root = tmp_path / "store"
    ingest(root, SEEDS[:1], embedding=HashedNgramEmbedding(1, 2, 256))
    code = ("import chromadb, json, sys; c = chromadb.PersistentClient(path=sys.argv[1]);"
            "import rag.embed;"  # registration happens on import
            "col = c.get_collection(sys.argv[2]);"
            "print(json.dumps([len(col.query(query_texts=['三公经费'], n_results=2)['ids'][0]),"
            " col.configuration_json['embedding_function']]))")
    manifest = json.loads((root / "store.json").read_text())
    out = subprocess.run([PY, "-c", code, str(root / "chroma"), manifest["collection"]], cwd=ROOT,
                         env={**os.environ, "ANONYMIZED_TELEMETRY": "False"}, capture_output=True, text=True,
                         check=True)
    n, ef = json.loads(out.stdout.strip().splitlines()[-1])
    assert n == 2
    assert ef["name"] == "budgetqa-hashed-ngram" and ef["config"] == {"ngram_min": 1, "ngram_max": 2, "dim": 256}


def test_openai_compatible_embeddings_through_the_scripted_server(tmp_path):
    with FakeOpenAI() as server:
        server.set_default(auto_embeddings(dim=16))
        settings = Settings(embedding_model="fake-embed", openai_base_url=server.url, openai_api_key="sk-test",
                            llm_max_retries=0)
        root = tmp_path / "store"
        from rag import embed

        stats = ingest(root, SEEDS[:1], settings=settings, embedding=embed.embedding_from_settings(settings))
        assert stats.documents == 1
        calls = [r for r in server.requests if r[1].endswith("/embeddings")]
        assert calls and all(r[2]["model"] == "fake-embed" for r in calls)
        assert calls[0][3].get("authorization") == "Bearer sk-test"
        assert sum(len(r[2]["input"]) for r in calls) == stats.chunks
        st = Store.open(root, settings=settings, embedding=embed.embedding_from_settings(settings))
        assert st.manifest["embedding"] == "openai:fake-embed"
        st.close()
        # the offline default may not read it
        with pytest.raises(StoreError, match="openai:fake-embed"):
            Store.open(root, settings=Settings())


def _provider_settings(server: FakeOpenAI, **kw) -> Settings:
    base = {"openai_base_url": server.url, "openai_api_key": "sk-test", "llm_timeout_s": 0.5, "llm_max_retries": 0}
    return Settings(**{**base, **kw})


FAILURES = [
    ("http-500", [Reply(status=500)], "HTTP 500"),
    ("http-429", [Reply(status=429)], "HTTP 429"),
    ("http-401", [Reply(status=401)], "OPENAI_API_KEY"),
    ("malformed-json", [Reply(raw=b"{not json")], "malformed"),
    ("wrong-shape", [Reply(body={"data": "nope"})], "malformed"),
    ("too-few-vectors", [embedding_reply([[0.1, 0.2]])], "1 vector(s) for 2"),
    ("timeout", [Reply(delay=1.5, body=embedding_reply([[0.1], [0.2]]))], "timed out"),
]


@pytest.mark.parametrize("replies,expected", [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES])
def test_embedding_endpoint_failures_become_clear_errors(replies, expected):
    from rag import provider

    with FakeOpenAI() as server:
        server.enqueue(*replies)
        with pytest.raises(LLMError) as err:
            provider.embed_texts(["三公经费", "项目支出"], "m", settings=_provider_settings(server))
        assert expected in str(err.value) and server.url in str(err.value) and "sk-test" not in str(err.value)


def test_embedding_retries_transient_failures():
    from rag import provider

    with FakeOpenAI() as server:
        server.enqueue(Reply(status=500), Reply(status=429, headers={"retry-after": "0"}),
                       embedding_reply([[1.0, 0.0], [0.0, 1.0]]))
        vectors = provider.embed_texts(["a", "b"], "m", settings=_provider_settings(server, llm_max_retries=2))
        assert vectors == [[1.0, 0.0], [0.0, 1.0]] and len(server.requests) == 3


def test_openai_embedding_function_batches_and_keeps_order():
    from evals.scripted_server import fake_vector

    with FakeOpenAI() as server:
        server.set_default(auto_embeddings(dim=4))
        ef = OpenAICompatibleEmbedding("m", batch_size=3, settings=_provider_settings(server))
        texts = [f"第{i}项" for i in range(7)]
        vectors = ef(texts)
    assert [len(r[2]["input"]) for r in server.requests] == [3, 3, 1]
    got = [float(x) for v in vectors for x in v]
    assert got == pytest.approx([x for t in texts for x in fake_vector(t, 4)], abs=1e-6)


# ------------------------------------------------------------------------------------------- server mode


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def chroma_server(tmp_path):
    chroma = Path(PY).parent / "chroma"
    if not chroma.exists():
        pytest.skip("the chroma CLI is not installed in this environment")
    port = _free_port()
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1",
                             "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "ANONYMIZED_TELEMETRY": "False"})
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return True
        except OSError:
            return False

    try:
        assert _wait_for(up, 60), "chroma run did not start"
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.mark.slow
def test_server_mode_against_a_real_chroma_run(chroma_server, tmp_path):
    settings = Settings(chroma_url=chroma_server)
    root = tmp_path / "store"
    stats = ingest(root, SEEDS[:2], settings=settings)
    assert stats.documents == 2
    assert not (root / "chroma").exists()  # vectors live in the server, records beside the store
    state = snapshot(root, settings)
    assert len(state["ids"]) == stats.chunks and len(state["records"]) == 2
    again = ingest(root, SEEDS[:2], settings=settings)
    assert (again.documents, again.skipped) == (0, 2) and snapshot(root, settings) == state
    from rag.retrieve import Retriever

    hits = Retriever(Store.open(root, settings=settings)).search("三公经费", k=3)
    assert hits and all("三公" in h.text for h in hits)
    # the same records against the embedded store: the index is missing there and must be rebuilt
    with pytest.raises(StoreError, match="--reindex"):
        Store.open(root, settings=Settings())


def test_unreachable_server_is_a_clear_error(tmp_path):
    with pytest.raises(StoreError, match="cannot reach the Chroma server"):
        Store.open(tmp_path / "s", write=True, settings=Settings(chroma_url=f"http://127.0.0.1:{_free_port()}"))


# ------------------------------------------------------------------------------------------- the command


def test_ingest_command_json_and_explanations(tmp_path, capsys):
    from ui.cli import main

    assert main(["ingest"]) == 2
    out = capsys.readouterr()
    assert "budgetqa ingest" in out.out and "PATH" in out.out and "give at least one file" in out.err
    bad = tmp_path / "bad.txt"
    bad.write_text("这不是预算文件。", encoding="utf-8")
    root = tmp_path / "store"
    assert main(["ingest", str(SEEDS[0]), str(bad), "--store", str(root), "--json"]) == 1
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert set(result) == {"documents", "chunks", "records", "skipped", "failed"}
    assert result["documents"] == 1 and result["chunks"] > 0 and result["records"] > 0
    assert len(result["failed"]) == 1 and result["failed"][0]["path"] == str(bad)
    assert main(["ingest", str(SEEDS[0]), "--store", str(root), "--json"]) == 0
    again = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert again == {"documents": 0, "chunks": 0, "records": 0, "skipped": 1, "failed": []}


def test_store_location_falls_back_to_budgetqa_home(tmp_path, monkeypatch):
    from rag.store import resolve_store_dir

    monkeypatch.setenv("BUDGETQA_HOME", str(tmp_path / "home"))
    assert resolve_store_dir(None, Settings()) == tmp_path / "home"
    assert resolve_store_dir(tmp_path / "x", Settings()) == tmp_path / "x"
    monkeypatch.delenv("BUDGETQA_HOME")
    assert resolve_store_dir(None, Settings()) == Path(".budgetqa")


def test_reading_a_missing_store_explains_how_to_build_one(tmp_path):
    with pytest.raises(StoreError, match="budgetqa ingest PATH"):
        Store.open(tmp_path / "nothing", settings=Settings())
