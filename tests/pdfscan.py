"""An independent scanner of amount cells straight from a PDF (no loader or parser code is used).

Every pdfplumber word on the visible page that is a decimal amount (``1,234.56``, ``0.95``, ``3,000``) and
whose middle lies inside a table region found by pdfplumber's default table finder is an amount cell. Words
are counted per page (1-based), so a number printed twice must be extracted twice."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

AMOUNT_WORD = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+\.\d+)$")


def pdf_amount_words(path: str | Path, anywhere: bool = False) -> dict[int, Counter]:
    """Amount words per page inside table regions (or anywhere on the visible page with `anywhere`)."""
    import pdfplumber

    out: dict[int, Counter] = {}
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            visible = page.within_bbox(page.bbox)
            boxes = [t.bbox for t in visible.find_tables()]
            found: Counter = Counter()
            for w in visible.extract_words():
                if not AMOUNT_WORD.match(w["text"]):
                    continue
                x, y = (w["x0"] + w["x1"]) / 2, (w["top"] + w["bottom"]) / 2
                if anywhere or any(b[0] <= x <= b[2] and b[1] <= y <= b[3] for b in boxes):
                    found[w["text"]] += 1
            if found:
                out[page.page_number] = found
            page.close()
    return out


def covered(words: dict[int, Counter], extracted: dict[int, Counter]) -> tuple[int, int, list[tuple[int, str]]]:
    """(PDF amount cells, those extracted on the same page with the same text, the missing ones)."""
    total = found = 0
    missing: list[tuple[int, str]] = []
    for page, want in words.items():
        have = extracted.get(page, Counter())
        for text, n in want.items():
            k = min(n, have[text])
            total += n
            found += k
            missing.extend([(page, text)] * (n - k))
    return total, found, missing
