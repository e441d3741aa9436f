"""Does the extractor still write the same JSON? Compares the working tree with a git revision, document by
document, over a generated corpus: for refactors and speed-ups that must not change any output.

    .venv/bin/python benchmarks/output_identity.py [--base HEAD] [--variants 60]

The corpus (built in a temporary directory, nothing kept): the bundled samples and real PDFs, the samples'
text transforms of tests/variants.py (pipe, TSV, thousands separators, 元, reordered tables, joined codes,
CRLF), variants with amounts scaled per document (the throughput benchmark's), and documents written from
scratch for every table kind × damage × rendering. The base revision's extractor runs from `git archive`
in a subprocess. Exit status 1 when any document differs; the first differences are shown.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# Runs in a subprocess with the tree to test first on sys.path: {file name: sha256 of the document's JSON}.
_HASHER = """
import hashlib, json, sys
from pathlib import Path
sys.path.insert(0, sys.argv[1])
from extractor.errors import BudgetQAError
from extractor.pipeline import extract_file
out = {}
for f in sorted(Path(sys.argv[2]).iterdir()):
    try:
        data = extract_file(f).model_dump_json()
    except BudgetQAError as exc:
        data = "error: " + str(exc)
    out[f.name] = hashlib.sha256(data.encode()).hexdigest()
Path(sys.argv[3]).write_text(json.dumps(out))
"""


def build_corpus(out: Path, n_variants: int) -> int:
    """Write the comparison corpus into `out`; returns the number of documents."""
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from extract_throughput import make_corpus

    from tests import variants as tv

    samples = sorted((ROOT / "data" / "samples").glob("*.txt"))
    for p in samples + sorted((ROOT / "data" / "realdocs").glob("*.pdf")):
        (out / p.name).write_bytes(p.read_bytes())
    transforms = {"pipe": tv.to_pipe, "tsv": tv.to_tsv, "thousands": tv.with_thousands, "yuan": tv.to_yuan,
                  "reordered": tv.reorder_tables, "joined_codes": tv.join_codes, "crlf": tv.with_crlf}
    for p in samples:
        text = p.read_text(encoding="utf-8")
        for name, fn in transforms.items():
            (out / f"{p.stem}_{name}.txt").write_text(fn(text), encoding="utf-8", newline="")
    scaled = out / "scaled"
    scaled.mkdir()
    for p in make_corpus(scaled, n_variants):
        p.rename(out / f"scaled_{p.name}")
    scaled.rmdir()
    kinds = ["summary", "income", "expenditure", "fiscal_summary", "gp_basic", "economic", "sangong", "projects",
             "gov_fund"]
    renderings = {"tsv": {}, "pipe": {"style": "pipe"}, "yuan": {"unit": "元", "thousands": True},
                  "spaced": {"code_style": "spaced"}, "joined": {"code_style": "joined"},
                  "list": {"sangong_layout": "list", "income_three_cells": True}}
    for damage in tv.DAMAGES:
        for r_name, r in renderings.items():
            text, _ = tv.build_document(kinds, tv.DocSpec(**r), damage, seed=len(r_name))
            (out / f"built_{damage}_{r_name}.txt").write_text(text, encoding="utf-8")
    return sum(1 for _ in out.iterdir())


def hashes(tree: Path, corpus: Path) -> dict[str, str]:
    with tempfile.NamedTemporaryFile(suffix=".json") as f:
        subprocess.run([sys.executable, "-c", _HASHER, str(tree), str(corpus), f.name], check=True)
        return json.loads(Path(f.name).read_text())


def export_revision(rev: str, dest: Path) -> None:
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev], check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="HEAD", help="git revision to compare the working tree with")
    ap.add_argument("--variants", type=int, default=60, help="scaled-amount variants of the samples")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, base_tree = Path(tmp) / "corpus", Path(tmp) / "base"
        corpus.mkdir()
        base_tree.mkdir()
        n = build_corpus(corpus, args.variants)
        export_revision(args.base, base_tree)
        before, after = hashes(base_tree, corpus), hashes(ROOT, corpus)
        differ = sorted(name for name in before if before[name] != after.get(name))
        short = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", args.base],
                               capture_output=True, text=True).stdout.strip()
        print(f"{n} documents, {args.base} ({short}) vs the working tree: {len(differ)} differ")
        for name in differ[:10]:
            print("  differs:", name)
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
