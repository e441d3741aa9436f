"""Per-PDF extraction figures: pages, characters, tables found by kind, amount-cell coverage, time.

Coverage is measured from the PDF itself, independently of the loader's layout and of the table parsers
(`tests/pdfscan.py`): every pdfplumber word on a page that is a decimal amount (``1,234.56`` / ``0.95``) and
lies inside a table region is an amount cell; it is covered when the extracted document holds an amount with
that exact text on that page (a per-page multiset match, so a number printed twice must be extracted twice).

    .venv/bin/python benchmarks/pdf_coverage.py [PDF or DIR ...]     (default: data/realdocs)
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pdfscan import covered, pdf_amount_words  # noqa: E402


@dataclass
class Measure:
    name: str
    pages: int
    chars: int
    seconds: float
    kinds: Counter
    cells_pdf: int
    cells_found: int
    quote_errors: int
    missing: list[tuple[int, str]]

    @property
    def coverage(self) -> float:
        return self.cells_found / self.cells_pdf if self.cells_pdf else 1.0


def measure(path: Path) -> Measure:
    from extractor.load import load_document
    from extractor.pipeline import extract_text

    t0 = time.perf_counter()
    loaded = load_document(path)
    doc = extract_text(loaded)
    seconds = time.perf_counter() - t0
    got: dict[int, Counter] = {}
    quote_errors = 0
    for _, _, cell in doc.amounts():
        p = cell.amount.prov
        if loaded.text[p.char_start:p.char_end] != p.quote or p.quote != cell.amount.raw:
            quote_errors += 1
        got.setdefault(p.page or 0, Counter())[p.quote] += 1
    total, found, missing = covered(pdf_amount_words(path), got)
    kinds = Counter(t.kind.value for t in doc.tables)
    return Measure(path.name, len(loaded.page_starts), len(loaded.text), seconds, kinds, total, found,
                   quote_errors, missing)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("paths", nargs="*", default=[str(ROOT / "data" / "realdocs")])
    ap.add_argument("--missing", type=int, default=0, help="show up to N missing cells per PDF")
    args = ap.parse_args(argv)
    files: list[Path] = []
    for p in map(Path, args.paths):
        files.extend(sorted(p.glob("*.pdf")) if p.is_dir() else [p])
    total_pdf = total_found = 0
    print(f"{'file':<44} {'pages':>5} {'chars':>7} {'cells':>6} {'found':>6} {'cover':>7} {'quote!':>6} "
          f"{'sec':>6}  tables by kind")
    for f in files:
        m = measure(f)
        total_pdf += m.cells_pdf
        total_found += m.cells_found
        kinds = " ".join(f"{k}:{n}" for k, n in sorted(m.kinds.items()))
        print(f"{m.name[:44]:<44} {m.pages:>5} {m.chars:>7} {m.cells_pdf:>6} {m.cells_found:>6} "
              f"{m.coverage:>7.1%} {m.quote_errors:>6} {m.seconds:>6.2f}  {kinds}")
        for page, text in m.missing[:args.missing]:
            print(f"    missing p{page}: {text}")
    if total_pdf:
        print(f"{'ALL':<44} {'':>5} {'':>7} {total_pdf:>6} {total_found:>6} {total_found / total_pdf:>7.1%}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
