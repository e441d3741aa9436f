"""Small, dependency-free metrics shared by the suites. Scores are fractions in [0, 1]; reports show points."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from extractor.numbers import NUMBER_IN_TEXT_RE, fold_width


def safe_div(num: float, den: float) -> float | None:
    """None (not 0) when there is nothing to measure, so an empty suite never looks like a regression."""
    return num / den if den else None


@dataclass
class PRF:
    """Field-level counts. A matched pair with a wrong value counts against both precision and recall."""

    gold: int = 0        # gold values in scope
    extracted: int = 0   # extracted values in the labeled scope
    matched: int = 0     # gold values paired with an extracted value at the same place
    correct: int = 0     # matched and equal

    def add(self, other: PRF) -> PRF:
        self.gold += other.gold
        self.extracted += other.extracted
        self.matched += other.matched
        self.correct += other.correct
        return self

    @property
    def precision(self) -> float | None:
        return safe_div(self.correct, self.extracted)

    @property
    def recall(self) -> float | None:
        return safe_div(self.correct, self.gold)

    @property
    def f1(self) -> float | None:
        p, r = self.precision, self.recall
        if p is None or r is None:
            return None
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int | None]:
        return {"gold": self.gold, "extracted": self.extracted, "matched": self.matched, "correct": self.correct,
                "precision": self.precision, "recall": self.recall, "f1": self.f1}


@dataclass
class Agreement:
    """How often a secondary attribute agrees among matched pairs."""

    agree: int = 0
    total: int = 0

    def add(self, ok: bool) -> None:
        self.total += 1
        self.agree += bool(ok)

    @property
    def rate(self) -> float | None:
        return safe_div(self.agree, self.total)

    def as_dict(self) -> dict[str, float | int | None]:
        return {"agree": self.agree, "total": self.total, "rate": self.rate}


def norm_label(text: str) -> str:
    """Compare labels as a reader would: width-folded, NFKC, no whitespace, no markdown emphasis."""
    s = unicodedata.normalize("NFKC", fold_width(text or ""))
    return re.sub(r"[\s*]", "", s)


def percentile(values: Sequence[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0..100); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[min(rank, len(ordered)) - 1])


def tolerance_for(value: Decimal) -> Decimal:
    """Half a unit of the last printed decimal place (at least 0.005): 9.20 -> 0.005, 75 -> 0.5."""
    exp = value.as_tuple().exponent
    places = -exp if isinstance(exp, int) and exp < 0 else 0
    return max(Decimal(1).scaleb(-places) / 2, Decimal("0.005"))


# Scale of money units relative to 万元, so "2865500元" matches an expected 286.55 万元.
MONEY_SCALE = {"元": Decimal("0.0001"), "万元": Decimal(1), "亿元": Decimal(10000)}


def number_matches(expected: Decimal, expected_unit: str, got: Decimal, got_unit: str = "",
                   tol: Decimal | None = None) -> bool:
    """Equal within the expected value's printed precision; money units are converted, a missing unit is trusted."""
    tol = tolerance_for(expected) if tol is None else tol
    if got_unit and expected_unit in MONEY_SCALE and got_unit in MONEY_SCALE and got_unit != expected_unit:
        got = got * MONEY_SCALE[got_unit] / MONEY_SCALE[expected_unit]
    return abs(got - expected) <= tol


def mean(values: Iterable[float]) -> float | None:
    vals = list(values)
    return sum(vals) / len(vals) if vals else None


def mrr(ranks: Sequence[int | None]) -> float | None:
    """Mean reciprocal rank; ranks are 1-based, None = not retrieved."""
    return mean(1 / r if r else 0.0 for r in ranks) if ranks else None


def recall_at(ranks: Sequence[int | None], k: int) -> float | None:
    return mean(1.0 if r is not None and r <= k else 0.0 for r in ranks) if ranks else None


# ------------------------------------------------------------------------------------------------ QA

CROSS_KINDS = frozenset({"cross_sum", "cross_compare", "cross_rank", "cross_list"})
NUMBER_STATUSES = ("verified", "computed", "unverified")


def _stated_numbers(answer: dict[str, Any]) -> list[tuple[Decimal, str]]:
    """Numbers the answer states: its `numbers` list, plus any number in the answer text (unit unknown)."""
    out: list[tuple[Decimal, str]] = []
    for n in answer.get("numbers") or []:
        try:
            out.append((Decimal(str(n.get("value"))), str(n.get("unit") or "")))
        except (InvalidOperation, ValueError):
            continue
    for m in NUMBER_IN_TEXT_RE.finditer(fold_width(str(answer.get("answer") or ""))):
        try:
            out.append((Decimal(m.group(0).replace(",", "").replace("−", "-")), ""))
        except InvalidOperation:
            continue
    return out


@dataclass
class QAOutcome:
    id: str
    kind: str
    correct: bool
    reason: str
    citations: int
    good_citations: int
    latency_ms: float | None


def score_answer(case: Any, answer: dict[str, Any]) -> QAOutcome:
    """One QA case against one `ask --json` object: numbers within tolerance, right documents, abstention."""
    abstained = bool(answer.get("abstained"))
    cites = [c for c in answer.get("citations") or [] if isinstance(c, dict)]
    cited = {str(c.get("source") or "") for c in cites}
    expected_sources = set(case.expected_sources)
    good = sum(1 for c in cites if str(c.get("source") or "") in expected_sources)
    latency = answer.get("latency_ms")
    latency = float(latency) if isinstance(latency, int | float) else None

    def out(ok: bool, reason: str) -> QAOutcome:
        return QAOutcome(case.id, case.kind, ok, reason, len(cites), good, latency)

    if case.abstain:
        return out(abstained, "" if abstained else "answered a question the corpus cannot answer")
    if abstained:
        return out(False, "abstained")
    stated = _stated_numbers(answer)
    missing = [f"{e.value}{e.unit}" for e in case.expected_numbers
               if not any(number_matches(e.value, e.unit, v, u) for v, u in stated)]
    if missing:
        return out(False, "missing " + ", ".join(missing))
    if case.expected_text and norm_label(case.expected_text) not in norm_label(str(answer.get("answer") or "")):
        return out(False, f"missing text {case.expected_text!r}")
    if expected_sources:
        doc_ok = bool(cited & expected_sources) if case.kind in CROSS_KINDS else expected_sources <= cited
        if not doc_ok:
            return out(False, "wrong or missing cited document")
    return out(True, "")


def score_answers(cases: Sequence[Any], answers: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Aggregate QA metrics; `answers` maps case id to its `ask --json` object."""
    outcomes = [score_answer(c, answers.get(c.id) or {"abstained": False, "answer": ""}) for c in cases]
    by_kind: dict[str, Agreement] = {}
    for o in outcomes:
        by_kind.setdefault(o.kind, Agreement()).add(o.correct)
    answered = [c for c in cases if not c.abstain]
    cit_total = sum(o.citations for o, c in zip(outcomes, cases, strict=True) if not c.abstain)
    cit_good = sum(o.good_citations for o, c in zip(outcomes, cases, strict=True) if not c.abstain)
    statuses: dict[str, int] = dict.fromkeys((*NUMBER_STATUSES, "none"), 0)
    for c in cases:
        for n in (answers.get(c.id) or {}).get("numbers") or []:
            s = str(n.get("status") or "")
            statuses[s if s in NUMBER_STATUSES else "none"] += 1
    stated = sum(statuses.values())
    abstain_cases = [o for o, c in zip(outcomes, cases, strict=True) if c.abstain]
    false_abstain = sum(1 for c in answered if (answers.get(c.id) or {}).get("abstained"))
    latencies = [o.latency_ms for o in outcomes if o.latency_ms is not None]
    return {
        "cases": len(cases), "answered": len(answers),
        "accuracy": safe_div(sum(o.correct for o in outcomes), len(outcomes)),
        "by_kind": {k: v.as_dict() for k, v in sorted(by_kind.items())},
        "citation_precision": safe_div(cit_good, cit_total),
        "numbers_stated": stated, "number_status": statuses,
        "numbers_verified_share": safe_div(statuses["verified"] + statuses["computed"], stated),
        "numbers_with_status_share": safe_div(stated - statuses["none"], stated),
        "abstention_recall": safe_div(sum(o.correct for o in abstain_cases), len(abstain_cases)),
        "false_abstentions": false_abstain,
        "latency_p50_ms": percentile(latencies, 50), "latency_p95_ms": percentile(latencies, 95),
        "failures": [{"id": o.id, "kind": o.kind, "reason": o.reason} for o in outcomes if not o.correct],
    }
