"""budgetqa eval [--suite extraction|retrieval|qa|llm|all] [--report PATH] [--json] [--baseline PATH]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from extractor.errors import BudgetQAError

HELP = "score extraction / retrieval / QA against hand-labeled fixtures"


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("eval", help=HELP, description=(
        "Score the extractor, retrieval and the QA engine against the hand-labeled fixtures in "
        "evals/fixtures/. Suites whose engine is not built (or, for llm, not configured) report "
        "'not available'. Exit status: 0 ok; 1 a suite failed, or a regression against --baseline beyond "
        "--margin; 2 a usage error."))
    p.add_argument("--suite", choices=["extraction", "retrieval", "qa", "llm", "all"], default="all",
                   help="which suite to run (default: all)")
    p.add_argument("--report", type=Path, metavar="PATH",
                   help="write the markdown report to PATH, its JSON to PATH with .json, and an SVG chart beside")
    p.add_argument("--json", action="store_true", help="print the run as JSON instead of the markdown report")
    p.add_argument("--baseline", type=Path, metavar="PATH",
                   help="JSON of a previous run: print the deltas, exit 1 on a regression beyond --margin")
    p.add_argument("--margin", type=float, default=None, metavar="POINTS",
                   help="largest drop tolerated against --baseline, in points (default 0.5)")
    p.add_argument("--store", type=Path, default=None, metavar="DIR",
                   help="an ingested store for the qa/llm suites (default: a temporary one built from the samples; "
                        "retrieval always builds its own so that both systems see the same documents)")
    return p


def run(args: argparse.Namespace) -> int:
    from evals.report import DEFAULT_MARGIN, compare, extraction_svg, load_run, render_deltas, render_markdown
    from evals.runner import RunOptions
    from evals.runner import run as run_suites

    margin = DEFAULT_MARGIN if args.margin is None else args.margin
    if margin < 0:
        raise BudgetQAError("--margin must be 0 or more points")
    baseline = load_run(args.baseline) if args.baseline else None  # fail early, before a long run
    opts = RunOptions(store=args.store)
    result = run_suites([args.suite], opts)

    svg_name = None
    if args.report:
        try:
            args.report.parent.mkdir(parents=True, exist_ok=True)
            svg = extraction_svg(result)
            if svg:
                svg_path = args.report.with_suffix(".svg")
                svg_path.write_text(svg, encoding="utf-8")
                svg_name = svg_path.name
            args.report.write_text(render_markdown(result, svg_name), encoding="utf-8")
            args.report.with_suffix(".json").write_text(_dumps(result), encoding="utf-8")
        except OSError as exc:
            raise BudgetQAError(f"cannot write the report: {exc.strerror}", path=str(args.report),
                                hint="choose a writable path") from None

    if args.json:
        print(_dumps(result))
    else:
        print(render_markdown(result, svg_name))
    if args.report:
        print(f"report: {args.report} (+ {args.report.with_suffix('.json').name})", file=sys.stderr)

    failed = [name for name, r in result["suites"].items() if r.get("status") == "error"]
    for name in failed:
        print(f"budgetqa eval: suite {name} failed: {result['suites'][name]['reason']}", file=sys.stderr)
    if baseline is None:
        return 1 if failed else 0
    rows, regressions = compare(result, baseline, margin)
    # deltas go to stderr under --json so stdout stays one JSON document
    print(render_deltas(rows, regressions, margin), file=sys.stderr if args.json else sys.stdout)
    return 1 if regressions or failed else 0


def _dumps(obj: object) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, default=str)
