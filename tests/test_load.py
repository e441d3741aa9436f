"""Loading: every bad input gets one line naming the file and the reason; the CLI writes the good files,
reports the bad ones without a traceback and exits 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from extractor.errors import LoadError
from extractor.load import iter_input_files, load_document, load_text_bytes
from ui.cli import main

from .conftest import ROOT, SEEDS

GOOD = SEEDS[0].read_text(encoding="utf-8")

# (id, file name, bytes, reason the message must give)
BAD = [
    ("empty", "empty.txt", b"", "file is empty"),
    ("whitespace", "blank.md", b"  \n\r\n\t \n", "file is empty"),
    ("bom_only", "bom.txt", b"\xef\xbb\xbf", "file is empty"),
    ("binary_png", "picture.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "binary"),
    ("binary_nul", "data.txt", bytes(range(256)) * 8, "binary"),
    ("binary_zip", "archive.md", b"PK\x03\x04" + b"\x00" * 64, "binary"),
    ("control_chars", "ctrl.txt", "预算 万元 ".encode() + b"\x01\x02\x03\x04\x05\x06" * 50, "binary"),
    ("undecodable", "latin.txt", "Budget für 2024, Ausgaben: 5 € — Straße".encode("cp1252") * 3, "decode"),
    ("not_budget", "novel.txt", "今天天气很好，我们去公园散步，看见很多人在跑步。".encode(), "not a budget document"),
    ("no_amounts", "notice.md", "关于做好部门预算编制工作的通知".encode(), "not a budget document"),
]


@pytest.mark.parametrize(("name", "data", "reason"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_input_is_refused_with_one_line(tmp_path, name, data, reason):
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(LoadError) as err:
        load_document(path)
    message = str(err.value)
    assert "\n" not in message and message.startswith(str(path)) and reason in message


def test_oversize_limit_is_configurable(tmp_path, monkeypatch):
    path = tmp_path / "big.txt"
    path.write_text(GOOD + "\n" + "备注" * 40000, encoding="utf-8")   # ~0.27 MB
    assert load_document(path, max_mb=1).text.startswith(GOOD[:50].replace("\r\n", "\n"))
    with pytest.raises(LoadError, match=r"too large \(0\.\d MB > 0\.1 MB\).*BUDGETQA_MAX_FILE_MB"):
        load_document(path, max_mb=0.1)
    with pytest.raises(LoadError, match="too large"):
        load_text_bytes(path.read_bytes(), path, max_bytes=1000)
    from extractor import settings

    monkeypatch.setenv("BUDGETQA_MAX_FILE_MB", "0.05")
    settings.get_settings.cache_clear()
    try:
        with pytest.raises(LoadError, match=r"> 0\.05 MB"):
            load_document(path)
    finally:
        settings.get_settings.cache_clear()


@pytest.mark.parametrize(("name", "reason"), [("report.docx", "unsupported file type '.docx'"),
                                              ("table.xlsx", "unsupported file type '.xlsx'"),
                                              ("README", "unsupported file type '(none)'"),
                                              ("missing.txt", "file not found")],
                         ids=["docx", "xlsx", "no_suffix", "missing"])
def test_unsupported_or_missing(tmp_path, name, reason):
    path = tmp_path / name
    if name != "missing.txt":
        path.write_text(GOOD, encoding="utf-8")
    with pytest.raises(LoadError, match=reason.replace("(", r"\(").replace(")", r"\)")) as err:
        load_document(path)
    assert str(err.value).startswith(str(path))


def test_directory_is_not_a_file(tmp_path):
    with pytest.raises(LoadError, match="is a directory"):
        load_document(tmp_path)


def test_directory_walking(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / ".hidden").mkdir()
    for rel in ["a/one.txt", "a/b/two.md", "a/b/three.TXT", "notes.docx", ".hidden/x.txt", "a/.swap.txt", "z.pdf"]:
        (tmp_path / rel).write_text(GOOD, encoding="utf-8")
    found = [p.relative_to(tmp_path).as_posix() for p in iter_input_files([tmp_path])]
    assert found == ["a/b/three.TXT", "a/b/two.md", "a/one.txt", "z.pdf"]
    explicit = tmp_path / "notes.docx"
    assert iter_input_files([explicit]) == [explicit]   # named explicitly: kept, refused when loaded


def _mixed_inputs(tmp_path: Path) -> tuple[Path, list[str]]:
    inputs = tmp_path / "in"
    inputs.mkdir()
    (inputs / "good.txt").write_text(GOOD, encoding="utf-8")
    (inputs / "good_gbk.txt").write_bytes(SEEDS[3].read_text(encoding="utf-8").encode("gb18030"))
    (inputs / "empty.txt").write_bytes(b"")
    (inputs / "binary.md").write_bytes(bytes(range(256)) * 8)
    (inputs / "novel.txt").write_text("从前有座山，山里有座庙。", encoding="utf-8")
    other = tmp_path / "report.docx"
    other.write_text("x", encoding="utf-8")
    return inputs, [str(inputs), str(other), str(tmp_path / "missing.txt")]


def test_cli_extract_mixed_good_and_bad(tmp_path, capsys):
    _, args = _mixed_inputs(tmp_path)
    out = tmp_path / "out"
    code = main(["extract", *args, "-o", str(out), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 1
    assert sorted(p.name for p in out.glob("*.json")) == ["good.json", "good_gbk.json"]
    doc = json.loads((out / "good_gbk.json").read_text(encoding="utf-8"))
    assert doc["department"] == "漯河市人民政府办公室" and doc["tables"]
    errors = [line for line in captured.err.splitlines() if line.startswith("error:")]
    expected = {"empty.txt": "file is empty", "binary.md": "binary", "novel.txt": "not a budget document",
                "report.docx": "unsupported file type", "missing.txt": "file not found"}
    assert len(errors) == len(expected)
    for name, reason in expected.items():
        assert any(name in line and reason in line for line in errors), (name, errors)
    assert "Traceback" not in captured.err
    assert "2 document(s), 5 failed" in captured.out


def test_cli_extract_subprocess_no_traceback(tmp_path):
    inputs, _ = _mixed_inputs(tmp_path)
    run = subprocess.run([sys.executable, "-m", "ui.cli", "extract", str(inputs), "-o", str(tmp_path / "o"),
                          "--format", "csv"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and run.stderr.count("error:") == 3
    assert (tmp_path / "o").exists()


def test_cli_all_good_exits_zero(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["extract", str(SEEDS[1]), "-o", str(out), "--format", "jsonl"]) == 0
    assert "1 document(s), 0 failed" in capsys.readouterr().out
