"""budgetqa extract PATH... -o DIR [--format json|jsonl|csv|parquet] [--workers N]"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from extractor.batch import extract_many
from extractor.errors import BudgetQAError
from extractor.export import Writer
from extractor.load import iter_input_files

from ..progress import progress

HELP = "documents -> validated records with provenance"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("extract", help=HELP, description=(
        "Extract every table value and narrative fact of budget documents (.txt/.md/.pdf; directories are "
        "walked) with exact provenance. A bad file is reported (file + reason) and skipped; exit status 1 "
        "when any file failed."))
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    p.add_argument("-o", "--out", required=True, type=Path, metavar="DIR", help="output directory")
    p.add_argument("--format", choices=["json", "jsonl", "csv", "parquet"], default="json",
                   help="json: one file per document; jsonl: documents.jsonl; csv/parquet: tidy values, "
                        "one row per value (default: json)")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: BUDGETQA_WORKERS or 1)")
    p.add_argument("--llm", action="store_true", help="also extract with the configured LLM (OPENAI_* settings)")
    return p


def run(args: argparse.Namespace) -> int:
    from extractor.settings import get_settings

    settings = get_settings()
    if args.llm and not settings.llm_configured:
        raise BudgetQAError("--llm needs an endpoint", hint="set OPENAI_BASE_URL (or OPENAI_API_KEY) and BUDGETQA_LLM_MODEL")
    files = iter_input_files(args.paths)
    if not files:
        raise BudgetQAError("no input files found", hint="give .txt/.md/.pdf files or directories holding them")
    writer = Writer(args.out, args.format)
    ok = failed = 0
    workers = args.workers or settings.workers
    with progress(len(files), "extract") as advance:
        for outcome in extract_many(files, workers, shape=writer.shape):
            advance()
            if outcome.error:
                failed += 1
                print(f"error: {outcome.error}", file=sys.stderr)
                continue
            writer.add_outcome(outcome)
            ok += 1
    written = writer.close()
    print(f"extracted {ok} document(s), {failed} failed -> {args.out} ({args.format}, {len(written)} file(s))")
    return 1 if failed else 0
