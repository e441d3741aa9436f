"""budgetqa demo — what `make run` starts. Until the app lands: extract the bundled samples and summarise."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "extract the bundled samples and print a summary (the app replaces this)"
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("demo", help=HELP, description=HELP)
    p.add_argument("--samples", type=Path, default=SAMPLES, help="sample directory (default: data/samples)")
    return p


def run(args: argparse.Namespace) -> int:
    from extractor.batch import extract_many
    from extractor.load import iter_input_files

    files = iter_input_files([args.samples])
    print(f"{'source':30} {'department':34} {'year':>4} {'tables':>6} {'values':>6} {'facts':>5} {'findings':>8}")
    for outcome in extract_many(files):
        if outcome.error:
            print(f"error: {outcome.error}")
            continue
        d = outcome.document
        values = sum(1 for _ in d.amounts())
        print(f"{d.source:30} {d.department:34} {d.year or '':>4} {len(d.tables):>6} {values:>6} "
              f"{len(d.facts):>5} {len(d.findings):>8}")
    return 0
