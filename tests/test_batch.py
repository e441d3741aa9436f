"""Bulk extraction: the process pool and the in-process path write the same documents, in every format."""

from __future__ import annotations

import gc
import json
from pathlib import Path

import pytest

from extractor.batch import extract_many
from extractor.pipeline import extract_file
from ui.cli import main

SAMPLES = sorted((Path(__file__).resolve().parents[1] / "data" / "samples").glob("*.txt"))


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "pool"])
def test_json_outcomes_equal_the_document(workers):
    outcomes = list(extract_many(SAMPLES[:3], workers, shape="json"))
    assert [o.path for o in outcomes] == SAMPLES[:3]  # input order kept
    for o in outcomes:
        assert isinstance(o.json, bytes)
        assert o.json.decode("utf-8") == extract_file(o.path).model_dump_json()
        assert o.get_document().doc_id == o.summary["doc_id"]


def test_in_process_run_restores_the_collector_setting():
    before = gc.get_threshold()
    for _ in extract_many(SAMPLES[:1], 1, shape="json"):
        assert gc.get_threshold()[0] > before[0]
    assert gc.get_threshold() == before


@pytest.mark.parametrize("workers", ["1", "2"], ids=["in-process", "pool"])
@pytest.mark.parametrize("fmt", ["json", "jsonl"])
def test_cli_formats_agree_across_workers(tmp_path, capsys, fmt, workers):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    out = tmp_path / "out"
    code = main(["extract", *map(str, SAMPLES[:2]), str(bad), "-o", str(out), "--format", fmt, "--workers", workers])
    assert code == 1 and "2 document(s), 1 failed" in capsys.readouterr().out
    if fmt == "json":
        docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(out.glob("*.json"))]
    else:
        lines = (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()
        docs = [json.loads(line) for line in lines]
    assert sorted(d["source"] for d in docs) == sorted(p.name for p in SAMPLES[:2])
    assert all(d["tables"] for d in docs)
    assert not list(out.glob("*.tmp"))  # written atomically: no temporary file left behind


def test_jsonl_with_no_document_is_an_empty_file(tmp_path, capsys):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"")
    assert main(["extract", str(bad), "-o", str(tmp_path / "out"), "--format", "jsonl"]) == 1
    assert (tmp_path / "out" / "documents.jsonl").read_bytes() == b""


@pytest.mark.parametrize("workers", ["1", "2"], ids=["in-process", "pool"])
def test_json_files_of_documents_with_the_same_name_do_not_overwrite(tmp_path, capsys, workers):
    """a/x.txt, b/x.txt and b/x.md: three documents, three files — the same three on a re-run."""
    inputs = tmp_path / "in"
    for sub, sample, name in (("a", SAMPLES[0], "x.txt"), ("b", SAMPLES[1], "x.txt"), ("b", SAMPLES[2], "x.md")):
        (inputs / sub).mkdir(parents=True, exist_ok=True)
        (inputs / sub / name).write_bytes(sample.read_bytes())
    out = tmp_path / "out"
    for _ in range(2):
        assert main(["extract", str(inputs), "-o", str(out), "--workers", workers]) == 0
        assert "3 document(s), 0 failed" in capsys.readouterr().out
        written = sorted(out.glob("*.json"))
        assert len(written) == 3 and "x.json" in [p.name for p in written]
        ids = {json.loads(p.read_text(encoding="utf-8"))["doc_id"] for p in written}
        assert ids == {extract_file(p).doc_id for p in SAMPLES[:3]}


def test_json_documents_are_written_by_the_workers_and_moved_into_place(tmp_path, capsys):
    """--format json: workers write each document into a private spool directory; the run moves them into
    place and leaves nothing else behind (no temporary file, no spool directory)."""
    out = tmp_path / "out"
    assert main(["extract", *map(str, SAMPLES[:3]), "-o", str(out), "--workers", "2"]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{p.stem}.json" for p in SAMPLES[:3])
    for p in SAMPLES[:3]:
        assert (out / f"{p.stem}.json").read_text(encoding="utf-8") == extract_file(p).model_dump_json()


def test_extraction_leaves_no_records_in_reference_cycles():
    """Whatever a document's extraction builds is freed by reference counting when it is done: records left
    in reference cycles wait for the cyclic collector, whose passes over them cost bulk runs ~7% of their
    time (the checks' row trees once linked each node to its parent)."""
    from pydantic import BaseModel

    extract_file(SAMPLES[0])   # imports and caches settled
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        for path in SAMPLES:
            extract_file(path).model_dump_json()
        gc.collect()
        cyclic = [o for o in gc.garbage if isinstance(o, BaseModel) or type(o).__module__.startswith("extractor")]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()
    assert cyclic == []
