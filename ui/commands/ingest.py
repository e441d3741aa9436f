"""budgetqa ingest PATH... [--store DIR] [--json] [--workers N] [--reindex]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ..progress import progress

HELP = "extract + check + index documents into the store (Chroma + records)"

DESCRIPTION = """Extract, check and index budget documents (.txt/.md/.pdf; directories are walked) into a store:
Chroma for the vectors (embedded under the store, or the server BUDGETQA_CHROMA_URL names) and the
extracted records beside it, which `budgetqa ask` and the app answer from.

Re-running is safe: a document is keyed by the hash of its text, so unchanged files are skipped, and a
changed file (same file name, new content) replaces its old chunks. A run that is interrupted, even
killed, is finished or rolled back by the next one. A bad file is reported and skipped; the exit
status is 1 when any file failed.

The store is --store, else BUDGETQA_HOME, else ./.budgetqa. Embeddings are offline hashed character
n-grams unless BUDGETQA_EMBEDDING_MODEL names a model on the OpenAI-compatible endpoint; a store keeps
the embedding it was built with, and --reindex rebuilds its index with the current one.

examples:
  budgetqa ingest data/samples
  budgetqa ingest report.txt other/ --store /srv/budgets --json
  budgetqa ingest --reindex --store /srv/budgets"""


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("ingest", help=HELP, description=DESCRIPTION,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("paths", nargs="*", metavar="PATH", help="files or directories")
    p.add_argument("--store", type=Path, default=None, metavar="DIR",
                   help="store directory (default: BUDGETQA_HOME or ./.budgetqa)")
    p.add_argument("--json", action="store_true",
                   help='print {"documents", "chunks", "records", "skipped", "failed"} as JSON')
    p.add_argument("--workers", type=int, default=None, help="extraction processes (default: BUDGETQA_WORKERS or 1)")
    p.add_argument("--reindex", action="store_true",
                   help="rebuild the vector index from the stored records with the current embedding")
    p.set_defaults(_parser=p)
    return p


def run(args: argparse.Namespace) -> int:
    from extractor.errors import BudgetQAError
    from extractor.load import iter_input_files
    from extractor.settings import get_settings
    from rag.store import IngestStats, Store, prepare_many, resolve_store_dir

    if not args.paths and not args.reindex:
        args._parser.print_help()
        print("\nbudgetqa ingest: give at least one file or directory (or --reindex)", file=sys.stderr)
        return 2
    settings = get_settings()
    root = resolve_store_dir(args.store, settings)
    files = iter_input_files(args.paths) if args.paths else []
    if args.paths and not files:
        raise BudgetQAError("no input files found", hint="give .txt/.md/.pdf files or directories holding them")
    stats = IngestStats()
    with Store.open(root, write=True, settings=settings, reindex=args.reindex) as store:
        if files:
            with progress(len(files), "ingest") as advance:
                stats = store.ingest(prepare_many(files, args.workers or settings.workers),
                                     on_item=lambda _item: advance())
        total_docs, total_chunks = len(store.catalog()), store.count()
    for failure in stats.failed:
        print(f"error: {failure['error']}", file=sys.stderr)
    if args.json:
        print(json.dumps(stats.as_json(), ensure_ascii=False))
    else:
        done = "re-indexed the store; " if args.reindex else ""
        print(f"{done}ingested {stats.documents} document(s) ({stats.chunks} chunks, {stats.records} records), "
              f"{stats.skipped} unchanged, {stats.replaced} replaced, {len(stats.failed)} failed -> {root} "
              f"({total_docs} document(s), {total_chunks} chunks in the store)")
    return 1 if stats.failed else 0
