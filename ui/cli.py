"""`budgetqa` — one CLI. Each subcommand lives in `ui/commands/<name>.py` with `add_parser` and `run`.

User errors (BudgetQAError) print one line and exit 2; nothing prints a traceback for them."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Subcommands in the order `--help` lists them.
COMMANDS = ["extract", "checks", "ingest", "ask", "serve", "eval", "demo"]

DESCRIPTION = """Read Chinese government budget documents (部门预算/决算).

  budgetqa extract PATH... -o DIR   documents -> validated records with provenance (json/jsonl/csv/parquet)
  budgetqa checks PATH...           numeric reconciliation findings
  budgetqa ingest PATH...           extract + check + index into the store (Chroma)
  budgetqa ask "QUESTION"           answer with citations and verified numbers
  budgetqa serve                    the web app (127.0.0.1:7860)
  budgetqa eval                     score extraction / retrieval / QA against hand-labeled fixtures
  budgetqa demo                     what `make run` starts: samples ingested, then the app

Settings come from BUDGETQA_* environment variables (see README)."""


def _quiet_env() -> None:
    # Telemetry off before any library that phones home is imported.
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="budgetqa", description=DESCRIPTION,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"ui.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"ui.commands.{name}":
                continue  # command not built yet
            raise
        p = module.add_parser(sub)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    _quiet_env()
    from extractor.errors import BudgetQAError

    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 0
    try:
        return int(args._run(args) or 0)
    except BudgetQAError as exc:
        print(f"budgetqa {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
