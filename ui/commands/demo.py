"""budgetqa demo — what `make run` starts: the bundled samples ingested into the store (once), then the app.

Idempotent: samples already in the store (same content hash) are neither re-extracted nor re-indexed, so
a second `make run` starts the app at once."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .serve import add_serve_options, serve

HELP = "ingest the bundled samples into the store if they are not there yet, then serve the app"
SAMPLES = Path(__file__).resolve().parents[2] / "data" / "samples"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("demo", help=HELP, description=HELP + ".")
    p.add_argument("--samples", type=Path, default=SAMPLES, help="sample directory (default: data/samples)")
    p.add_argument("--no-serve", action="store_true", help="only make sure the samples are ingested")
    add_serve_options(p)
    return p


def ensure_samples(samples: Path, store: Path | None) -> tuple[int, int]:
    """Ingest the sample files missing from the store; (added, already there). Raises on failures."""
    from extractor.errors import BudgetQAError
    from extractor.load import iter_input_files, load_document
    from extractor.settings import get_settings
    from rag.store import Store, prepare_many, resolve_store_dir

    if not samples.is_dir():
        raise BudgetQAError("sample directory not found", path=str(samples), hint="pass --samples DIR")
    settings = get_settings()
    root = resolve_store_dir(store, settings)
    files = iter_input_files([samples])
    with Store.open(root, write=True, settings=settings) as st:
        known = set(st.catalog())
        # hashing the text is cheap; extraction is not: only new or changed files are prepared
        missing = [p for p in files if load_document(p).doc_id not in known]
        if not missing:
            return 0, len(files)
        print(f"budgetqa demo: ingesting {len(missing)} sample file(s) into {root} …", file=sys.stderr)
        stats = st.ingest(prepare_many(missing))
    if stats.failed:
        raise BudgetQAError(f"{len(stats.failed)} sample file(s) could not be ingested: "
                            + "; ".join(f["error"] for f in stats.failed), path=str(samples))
    return stats.documents, len(files) - len(missing)


def run(args: argparse.Namespace) -> int:
    added, present = ensure_samples(args.samples, args.store)
    print(f"budgetqa demo: samples in the store ({added} added, {present} already there)", file=sys.stderr)
    if args.no_serve:
        return 0
    return serve(args.store, args.host, args.port)
