"""budgetqa checks PATH... [--json]"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter

from extractor.batch import extract_many
from extractor.errors import BudgetQAError
from extractor.load import iter_input_files
from extractor.models import BudgetDocument, Finding

from ..progress import progress

HELP = "numeric reconciliation findings"
_ORDER = ("mismatch", "shifted_column", "missing", "malformed", "rounding", "info")
_NAMES = {"mismatch": "不符", "shifted_column": "错列", "missing": "缺失", "malformed": "编码格式", "rounding": "尾差",
          "info": "说明"}


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("checks", help=HELP, description=(
        "Reconcile every number of budget documents with the identities that bind them (totals, 类/款/项, "
        "基本 + 项目, cross-table, narrative vs tables, 占比, 增减, codes). Prints a readable report per document, "
        "or with --json one JSON object per line per document: {source, findings: [{rule, severity, message, "
        "expected, actual, values: [{value, char_start, char_end, quote}]}]}. A bad file is reported (file + "
        "reason) and skipped; exit status 1 when any file failed."))
    p.add_argument("paths", nargs="+", metavar="PATH", help="files or directories")
    p.add_argument("--json", action="store_true", help="one JSON object per document, one per line")
    p.add_argument("--workers", type=int, default=None, help="worker processes (default: BUDGETQA_WORKERS or 1)")
    return p


def finding_json(f: Finding) -> dict:
    return {"rule": f.rule, "severity": f.severity, "message": f.message,
            "expected": None if f.expected is None else str(f.expected),
            "actual": None if f.actual is None else str(f.actual),
            "difference": None if f.difference is None else str(f.difference),
            "values": [{"value": str(a.value), "unit": a.unit, "char_start": a.prov.char_start,
                        "char_end": a.prov.char_end, "quote": a.prov.quote, "locator": a.prov.locator}
                       for a in f.values]}


def document_json(doc: BudgetDocument) -> dict:
    return {"source": doc.source, "doc_id": doc.doc_id, "department": doc.department, "year": doc.year,
            "findings": [finding_json(f) for f in _sorted(doc.findings)]}


def _sorted(findings: list[Finding]) -> list[Finding]:
    rank = {s: i for i, s in enumerate(_ORDER)}
    return sorted(findings, key=lambda f: rank.get(f.severity, len(rank)))


def report(doc: BudgetDocument) -> str:
    """The readable report: counts by severity and by rule, then every finding with where its values are."""
    from extractor.checks import RULES

    by_severity = Counter(f.severity for f in doc.findings)
    by_rule = Counter(f.rule for f in doc.findings)
    lines = [f"== {doc.source}  {doc.department} {doc.year or ''}{doc.kind}",
             f"   {len(RULES)} 条规则，{len(doc.findings)} 项发现：" + (
                 "，".join(f"{_NAMES.get(s, s)} {by_severity[s]}" for s in _ORDER if by_severity[s]) or "全部相符")]
    for rule_id, n in sorted(by_rule.items()):
        title = RULES[rule_id].title if rule_id in RULES else ""
        lines.append(f"   {rule_id:32} {n:3}  {title}")
    for f in _sorted(doc.findings):
        lines.append(f" - [{_NAMES.get(f.severity, f.severity)}] {f.rule}: {f.message}")
        where = "; ".join(f"{a.prov.quote}@{a.prov.char_start}-{a.prov.char_end}" for a in f.values[:6])
        if where:
            more = f" …(+{len(f.values) - 6})" if len(f.values) > 6 else ""
            lines.append(f"     数值位置: {where}{more}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from extractor.settings import get_settings

    files = iter_input_files(args.paths)
    if not files:
        raise BudgetQAError("no input files found", hint="give .txt/.md/.pdf files or directories holding them")
    workers = args.workers or get_settings().workers
    failed = 0
    with progress(len(files), "checks") as advance:
        for outcome in extract_many(files, workers):
            advance()
            if outcome.error:
                failed += 1
                print(f"error: {outcome.error}", file=sys.stderr)
                continue
            doc = outcome.get_document()
            if args.json:
                print(json.dumps(document_json(doc), ensure_ascii=False), flush=True)
            else:
                print(report(doc), flush=True)
    if not args.json:
        print(f"checked {len(files) - failed} document(s), {failed} failed", file=sys.stderr)
    return 1 if failed else 0
