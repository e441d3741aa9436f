"""Instructions per document of each extraction stage, counted by valgrind (cachegrind): unlike seconds on a
shared VM, the count is the same from run to run, so it shows what a change to the extractor costs.

Each stage runs over DISTINCT documents of the throughput benchmark's corpus (amounts scaled per document,
so caches keyed on cell text stay as cold as in a real bulk run). Every document is prepared in both runs;
the stage then runs on 0 and on N of them, and the difference / N is its cost per document. The garbage
collector is set as in a pool worker.

    .venv/bin/python benchmarks/stage_instructions.py [--docs 20] [--same-amounts] [STAGE ...]

Stages: worker (what a pool worker does per file: load, extract, JSON, summary), all (extract_text + JSON),
segment, tables, indicators, narrative, checks, json. Needs valgrind.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

STAGES = ["worker", "all", "segment", "tables", "indicators", "narrative", "checks", "json"]


def drive(stage: str, corpus: Path, prepared: int, runs: int) -> None:
    """Prepare `prepared` documents, then run `stage` on the first `runs` of them (run under valgrind)."""
    from extractor.batch import _extract_one, _worker_init
    from extractor.checks import run_checks
    from extractor.load import load_document
    from extractor.narrative import extract_facts
    from extractor.pipeline import extract_text
    from extractor.provenance import SourceRef
    from extractor.segment import find_sections, find_tables, split_lines
    from extractor.tables.assemble import build_tables
    from extractor.tables.performance import extract_indicators

    prep = []
    for f in sorted(corpus.glob("*.txt"))[:prepared]:
        ld = load_document(f)
        lines = split_lines(ld.text)
        blocks = find_tables(lines, ld.text)
        first = min((b.title_start for b in blocks), default=len(ld.text))
        doc = extract_text(ld) if stage in ("checks", "json") else None
        prep.append((ld, blocks, SourceRef(ld.doc_id, ld.source, ld.text, ld.page_starts), first,
                     find_sections(lines, first), doc))
    # the collector as in a pool worker: what was there before the documents is frozen, young objects are
    # collected every 10k allocations (the default 700, with the prepared documents alive, inflated counts)
    _worker_init()
    fns = {
        "worker": lambda p: _extract_one(p[0].path, "json"),
        "all": lambda p: extract_text(p[0]).model_dump_json(),
        "segment": lambda p: find_tables(split_lines(p[0].text), p[0].text),
        "tables": lambda p: build_tables(p[2], p[1]),
        "indicators": lambda p: extract_indicators(p[2], p[1]),
        "narrative": lambda p: extract_facts(p[2], p[0].text, p[4], p[3]),
        "checks": lambda p: run_checks(p[5], p[0].text),
        "json": lambda p: p[5].model_dump_json(),
    }
    for p in prep[:runs]:
        fns[stage](p)


def count(stage: str, corpus: Path, prepared: int, runs: int) -> int:
    cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null", sys.executable,
           __file__, "--drive", stage, str(corpus), str(prepared), str(runs)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    m = re.search(r"I\s+refs:\s+([\d,]+)", out)
    if not m:
        raise SystemExit(f"no instruction count in valgrind's output:\n{out[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--drive":
        drive(sys.argv[2], Path(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]))
        return
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("stages", nargs="*", metavar="STAGE", help="some of: " + " ".join(STAGES))
    ap.add_argument("--docs", type=int, default=20, help="documents the stage runs on (default 20)")
    ap.add_argument("--same-amounts", action="store_true", help="the samples' amounts in every document")
    args = ap.parse_args()
    unknown = set(args.stages) - set(STAGES)
    if unknown:
        ap.error(f"unknown stage(s): {' '.join(sorted(unknown))}; stages are: {' '.join(STAGES)}")
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (Debian: apt-get install valgrind)")
    from extract_throughput import make_corpus

    with tempfile.TemporaryDirectory() as tmp:
        make_corpus(Path(tmp), args.docs, scale=not args.same_amounts)
        print(f"{args.docs} distinct documents ({'same' if args.same_amounts else 'scaled'} amounts), "
              f"{Path(sys.executable).resolve()}")
        for stage in args.stages or STAGES:
            per_doc = (count(stage, Path(tmp), args.docs, args.docs) - count(stage, Path(tmp), args.docs, 0)) / args.docs
            print(f"{stage:<11} {per_doc / 1e6:7.1f} M instructions/document")


if __name__ == "__main__":
    main()
