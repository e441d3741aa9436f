"""Mutation benchmark for the numeric checks.

For each document, one table amount cell at a time is perturbed in a copy of the text (+1.00, −0.10, two
adjacent digits swapped); the copy is extracted and checked again. Counted: of the perturbed cells that take
part in some identity (the checks looked at them in the unperturbed document), the share caught by a new
finding (not info, not already reported for the original) whose `values` include that very cell.

    .venv/bin/python benchmarks/mutation_checks.py [PATH ...] [--kinds plus,minus,swap] [--workers N]
                                                   [--limit N] [--show-missed N]

Nothing here knows the sample documents: any budget text files can be given."""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter, defaultdict
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.checks import check_document  # noqa: E402
from extractor.load import LoadedText, doc_id_for, load_document  # noqa: E402
from extractor.numbers import decimals, parse_amount  # noqa: E402
from extractor.pipeline import extract_text  # noqa: E402

KINDS = ("plus", "minus", "swap")


@dataclass(frozen=True)
class Trial:
    path: str
    start: int
    end: int
    raw: str
    kind: str
    new_raw: str
    locator: str


def _format(value: Decimal, places: int, thousands: bool) -> str:
    return f"{value:,.{places}f}" if thousands else f"{value:.{places}f}"


def mutate(raw: str, kind: str) -> str | None:
    """The perturbed cell text in the cell's own style, or None when the perturbation does not apply."""
    value = parse_amount(raw)
    if value is None:
        return None
    places, thousands = decimals(raw), "," in raw
    if kind == "plus":
        return _format(value + 1, places, thousands)
    if kind == "minus":
        if value < Decimal("0.10"):
            return None
        return _format(value - Decimal("0.10"), max(places, 1), thousands)
    if kind == "swap":
        digits = [i for i, ch in enumerate(raw) if ch.isdigit()]
        for a, b in reversed(list(zip(digits, digits[1:], strict=False))):
            if raw[a] != raw[b]:
                swapped = raw[:a] + raw[b] + raw[a + 1:b] + raw[a] + raw[b + 1:]
                if swapped[0] == "0" and len(swapped) > 1 and swapped[1].isdigit():
                    continue  # a leading zero would not be printed
                return swapped
        return None
    raise ValueError(kind)


@lru_cache(maxsize=8)
def _loaded(path: str) -> LoadedText:
    return load_document(path)


@lru_cache(maxsize=8)
def _baseline(path: str) -> tuple[frozenset[tuple[str, str]], frozenset[tuple[int, int]], tuple]:
    loaded = _loaded(path)
    doc = extract_text(loaded)
    ctx = check_document(doc, loaded.text)
    findings = ctx.cache["findings"]
    cells = tuple((c.amount.prov.char_start, c.amount.prov.char_end, c.amount.raw, c.amount.prov.locator)
                  for _, _, c in doc.amounts())
    return frozenset((f.rule, f.message) for f in findings), frozenset(ctx.used), cells  # type: ignore[union-attr]


def trials_for(path: str, kinds: tuple[str, ...]) -> tuple[list[Trial], int, int]:
    """Trials for the cells that take part in some identity; also (all cells, cells in identities)."""
    _, used, cells = _baseline(path)
    out = []
    in_identity = [c for c in cells if (c[0], c[1]) in used]
    for start, end, raw, locator in in_identity:
        for kind in kinds:
            new = mutate(raw, kind)
            if new is not None and new != raw:
                out.append(Trial(path, start, end, raw, kind, new, locator))
    return out, len(cells), len(in_identity)


SERIOUS = ("mismatch", "shifted_column", "missing", "malformed")


def run_trial(trial: Trial) -> tuple[Trial, bool, str]:
    """(trial, caught, the most serious severity among the catching findings or '')."""
    loaded = _loaded(trial.path)
    known, _, _ = _baseline(trial.path)
    text = loaded.text[:trial.start] + trial.new_raw + loaded.text[trial.end:]
    doc = extract_text(replace(loaded, text=text, doc_id=doc_id_for(text)))
    severities = {f.severity for f in doc.findings
                  if f.severity != "info" and (f.rule, f.message) not in known
                  and any(a.prov.char_start == trial.start for a in f.values)}
    best = next((s for s in (*SERIOUS, "rounding") if s in severities), "")
    return trial, bool(best), best


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("paths", nargs="*", help="budget text files (default: data/samples/*.txt)")
    ap.add_argument("--kinds", default=",".join(KINDS), help="comma-separated: plus, minus, swap")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--limit", type=int, default=0, help="at most N trials per document (0 = all)")
    ap.add_argument("--show-missed", type=int, default=10, help="list up to N missed trials")
    args = ap.parse_args(argv)
    paths = [str(p) for p in (args.paths or sorted((ROOT / "data" / "samples").glob("*.txt")))]
    kinds = tuple(k for k in args.kinds.split(",") if k)
    started = time.time()
    trials: list[Trial] = []
    counts = {}
    for p in paths:
        got, n_cells, n_used = trials_for(p, kinds)
        if args.limit:
            step = max(1, len(got) // args.limit)
            got = got[::step][:args.limit]
        trials += got
        counts[p] = (n_cells, n_used)
    if args.workers > 1:
        with ProcessPoolExecutor(max_workers=args.workers) as pool:
            results = list(pool.map(run_trial, trials, chunksize=8))
    else:
        results = [run_trial(t) for t in trials]

    per_doc: dict[str, Counter] = defaultdict(Counter)
    per_kind: dict[str, Counter] = defaultdict(Counter)
    severities: Counter = Counter()
    missed = []
    for trial, caught, severity in results:
        name = Path(trial.path).name
        per_doc[name]["trials"] += 1
        per_kind[trial.kind]["trials"] += 1
        if caught:
            per_doc[name]["caught"] += 1
            per_kind[trial.kind]["caught"] += 1
            severities[severity] += 1
        else:
            missed.append(trial)
    print(f"{'document':32} {'cells':>6} {'in identities':>13} {'trials':>7} {'caught':>7} {'share':>7}")
    for p in paths:
        name = Path(p).name
        c = per_doc[name]
        share = c["caught"] / c["trials"] if c["trials"] else 0.0
        print(f"{name:32} {counts[p][0]:>6} {counts[p][1]:>13} {c['trials']:>7} {c['caught']:>7} {share:>7.1%}")
    total = sum(c["trials"] for c in per_doc.values())
    caught = sum(c["caught"] for c in per_doc.values())
    for kind in kinds:
        c = per_kind[kind]
        if c["trials"]:
            print(f"  {kind:6} {c['caught']}/{c['trials']} = {c['caught'] / c['trials']:.1%}")
    print(f"  caught by severity (most serious per cell): {dict(severities)}")
    serious = sum(n for sev, n in severities.items() if sev in SERIOUS)
    for t in missed[:args.show_missed]:
        print(f"  missed: {Path(t.path).name} {t.kind} {t.raw} -> {t.new_raw} at {t.start} ({t.locator})")
    share = caught / total if total else 0.0
    print(f"  caught by a mismatch-level finding (not only 尾差): {serious}/{total} = "
          f"{(serious / total if total else 0.0):.1%}")
    print(f"caught {caught}/{total} perturbed cells that take part in an identity = {share:.1%} "
          f"({time.time() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
