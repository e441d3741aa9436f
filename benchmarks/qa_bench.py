"""Score the offline QA engine on the hand-written QA fixtures (evals/fixtures/qa.jsonl; the real PDFs: qa_realdocs.jsonl).

    .venv/bin/python benchmarks/qa_bench.py [--store DIR] [--fixtures FILE] [--json] [--fail]
    .venv/bin/python benchmarks/qa_bench.py --samples data/realdocs --fixtures evals/fixtures/qa_realdocs.jsonl

A case is right when: the engine abstains exactly when it should; otherwise every expected number is among
the answer's numbers (same unit, or a convertible money unit; within ±0.01, ±0.005 for %) and every
expected document is cited. Also reported: citation precision (cited documents that were expected),
share of stated numbers with a status, verified numbers not found in their cited quote, p50/p95 latency."""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.numbers import fold_width, parse_amount  # noqa: E402
from extractor.units import MONEY_UNITS, convert  # noqa: E402
from rag.qa import Answer, Engine  # noqa: E402
from rag.qa.compose import numbers_in_answer  # noqa: E402


def _unit(u: str) -> str:
    return fold_width(u or "").replace("(", "（").replace(")", "）").strip()


def number_present(expected: dict, answer: Answer) -> bool:
    value = Decimal(expected["value"])
    unit = _unit(expected.get("unit", ""))
    tol = Decimal("0.005") if unit == "%" else Decimal("0.01")
    for n in answer.numbers:
        got = parse_amount(n.value)
        if got is None:
            continue
        nu = _unit(n.unit)
        if nu == unit:
            if abs(got - value) <= tol:
                return True
        elif nu in MONEY_UNITS and unit in MONEY_UNITS:
            if abs(convert(got, nu, unit) - value) <= tol:
                return True
    return False


def verified_in_quote(answer: Answer) -> int:
    """Verified numbers whose cited quote does not contain them (must be 0)."""
    bad = 0
    for n in answer.numbers:
        if n.status != "verified":
            continue
        if n.citation is None or n.citation >= len(answer.citations):
            bad += 1
            continue
        quote = fold_width(answer.citations[n.citation].quote).replace(",", "")
        if n.value.lstrip("-") not in quote:
            bad += 1
    return bad


def score_case(case: dict, answer: Answer) -> tuple[bool, str]:
    if case.get("abstain"):
        return (answer.abstained, "" if answer.abstained else "should abstain")
    if answer.abstained:
        return False, "abstained"
    missing = [f"{e['value']}{e.get('unit', '')}" for e in case["expected_numbers"] if not number_present(e, answer)]
    cited = {c.source for c in answer.citations}
    want = set(case.get("expected_sources") or [])
    reasons = []
    if missing:
        reasons.append("missing " + ", ".join(missing))
    if want - cited:
        reasons.append("not cited " + ", ".join(sorted(want - cited)))
    return (not reasons, "; ".join(reasons))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--store", type=Path, help="load records from a store (default: extract data/samples)")
    ap.add_argument("--samples", type=Path, default=ROOT / "data" / "samples")
    ap.add_argument("--fixtures", type=Path, default=ROOT / "evals" / "fixtures" / "qa.jsonl")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--fail", action="store_true", help="list failing cases with the answer given")
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    docs = sorted(p for p in args.samples.iterdir() if p.suffix.lower() in (".txt", ".pdf"))
    engine = Engine.from_store(args.store) if args.store else Engine.from_paths(docs)
    load_s = time.perf_counter() - t0
    cases = [json.loads(line) for line in args.fixtures.read_text(encoding="utf-8").splitlines() if line.strip()]

    per_kind: dict[str, list[bool]] = defaultdict(list)
    failures = []
    latencies = []
    cite_hits = cite_total = 0
    n_numbers = n_status = n_unverified = n_bad_verified = 0
    for case in cases:
        conv = case.get("conversation")
        t = time.perf_counter()
        ans = engine.answer(case["question"], f"bench:{conv}" if conv else None, case["id"])
        latencies.append((time.perf_counter() - t) * 1000)
        ok, why = score_case(case, ans)
        per_kind[case["kind"]].append(ok)
        if not ok:
            failures.append((case, ans, why))
        want = set(case.get("expected_sources") or [])
        cited = {c.source for c in ans.citations}
        if cited and not case.get("abstain"):
            cite_total += len(cited)
            cite_hits += len(cited & want)
        stated = numbers_in_answer(ans.answer)
        n_numbers += len(stated)
        values = {parse_amount(n.value) for n in ans.numbers}
        n_status += sum(1 for _, v in stated if v in values)
        n_unverified += sum(1 for n in ans.numbers if n.status == "unverified")
        n_bad_verified += verified_in_quote(ans)

    total = sum(len(v) for v in per_kind.values())
    right = sum(sum(v) for v in per_kind.values())
    lat = sorted(latencies)
    summary = {
        "cases": total, "accuracy": round(right / total, 4) if total else 0.0,
        "per_kind": {k: {"n": len(v), "accuracy": round(sum(v) / len(v), 4)} for k, v in sorted(per_kind.items())},
        "citation_precision": round(cite_hits / cite_total, 4) if cite_total else 0.0,
        "numbers_stated": n_numbers, "numbers_with_status": round(n_status / n_numbers, 4) if n_numbers else 1.0,
        "unverified_numbers": n_unverified, "verified_not_in_quote": n_bad_verified,
        "latency_ms_p50": round(statistics.median(lat), 2), "latency_ms_p95": round(lat[int(0.95 * (len(lat) - 1))], 2),
        "load_s": round(load_s, 2), "documents": len(engine.views),
    }
    if args.json:
        print(json.dumps(summary, ensure_ascii=False, indent=2))
    else:
        print(f"QA fixtures: {total} cases over {len(engine.views)} documents (loaded in {load_s:.2f}s)")
        print(f"{'kind':16} {'n':>4} {'accuracy':>9}")
        for k, v in summary["per_kind"].items():
            print(f"{k:16} {v['n']:>4} {v['accuracy']:>9.1%}")
        print(f"{'overall':16} {total:>4} {summary['accuracy']:>9.1%}")
        print(f"citation precision {summary['citation_precision']:.1%}; numbers with a status "
              f"{summary['numbers_with_status']:.1%} of {n_numbers}; unverified {n_unverified}; "
              f"verified but not in the cited quote {n_bad_verified}")
        print(f"latency p50 {summary['latency_ms_p50']} ms, p95 {summary['latency_ms_p95']} ms")
    if args.fail:
        for case, ans, why in failures:
            print(f"\n[{case['id']} {case['kind']}] {case['question']}\n  why: {why}\n  answer: {ans.answer}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
