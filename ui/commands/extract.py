"""budgetqa extract PATH... -o DIR [--format json|jsonl|csv|parquet] [--workers N] [--llm [--store DIR]]"""

from __future__ import annotations

import argparse
import sys
from collections import deque
from concurrent.futures import ThreadPoolExecutor
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
    p.add_argument("--llm", action="store_true",
                   help="also send what the rules did not cover to the configured LLM (OPENAI_BASE_URL / "
                        "OPENAI_API_KEY, BUDGETQA_LLM_MODEL); every item is grounded and reconciled")
    p.add_argument("--store", type=Path, default=None, metavar="DIR",
                   help="store directory holding the LLM cache (default: BUDGETQA_HOME)")
    return p


def _llm_stage(outcome, llm):
    """The document with the LLM's additions; on any failure the rule results and a warning."""
    from extractor.llm import apply_llm
    from extractor.load import load_document

    doc = outcome.get_document()
    try:
        loaded = load_document(outcome.path)
        enriched = apply_llm(doc, loaded.text, llm, page_starts=loaded.page_starts)
    except BudgetQAError as exc:
        return doc, f"{outcome.path}: LLM stage failed ({exc}); the rule results were written"
    except Exception as exc:  # a bug in the optional stage must not cost the deterministic output
        return doc, (f"{outcome.path}: LLM stage failed (internal error {type(exc).__name__}: {exc}); "
                     "the rule results were written")
    usage = enriched.llm_usage
    if usage is not None and usage.errors:
        return enriched, (f"{outcome.path}: LLM endpoint failed for {usage.chunks_failed} of {usage.chunks} "
                          f"part(s) ({usage.errors[0]}); the rule results were written")
    return enriched, None


def run(args: argparse.Namespace) -> int:
    from extractor.settings import get_settings

    settings = get_settings()
    llm = None
    if args.llm:
        if not settings.llm_configured:
            raise BudgetQAError("--llm needs an endpoint",
                                hint="set OPENAI_BASE_URL (or OPENAI_API_KEY) and BUDGETQA_LLM_MODEL")
        from rag.llm_adapter import ProviderLLM

        llm = ProviderLLM(settings, store=args.store)
    files = iter_input_files(args.paths)
    if not files:
        raise BudgetQAError("no input files found", hint="give .txt/.md/.pdf files or directories holding them")
    writer = Writer(args.out, args.format)
    ok = failed = 0
    workers = args.workers or settings.workers
    usages = []
    pending: deque = deque()   # LLM stages in flight, written in input order

    def finish(future) -> None:
        doc, warning = future.result()
        if warning:
            print(f"warning: {warning}", file=sys.stderr)
        if doc.llm_usage is not None:
            usages.append(doc.llm_usage)
        writer.add(doc)

    pool = ThreadPoolExecutor(max_workers=llm.concurrency) if llm is not None else None
    try:
        with progress(len(files), "extract") as advance:
            shape = "document" if llm else writer.shape
            spool = writer.spool_dir if shape == "file" else None
            for outcome in extract_many(files, workers, shape=shape, out_dir=spool):
                advance()
                if outcome.error:
                    failed += 1
                    print(f"error: {outcome.error}", file=sys.stderr)
                    continue
                ok += 1
                if pool is None:
                    writer.add_outcome(outcome)
                    continue
                # documents overlap their LLM requests (the provider's semaphore bounds the total)
                pending.append(pool.submit(_llm_stage, outcome, llm))
                while len(pending) > 2 * llm.concurrency or pending and pending[0].done():
                    finish(pending.popleft())
            while pending:
                finish(pending.popleft())
    finally:
        if pool is not None:
            pool.shutdown(wait=True)
        writer.remove_spool()
    written = writer.close()
    print(f"extracted {ok} document(s), {failed} failed -> {args.out} ({args.format}, {len(written)} file(s))")
    if llm is not None:
        from extractor.llm.stage import summary_line

        print(summary_line(usages))
    return 1 if failed else 0
