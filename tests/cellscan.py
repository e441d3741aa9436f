"""An independent scanner of amount cells, straight from the source text (no parser code is used).

A grid cell (TSV or markdown pipe) whose whole text is a decimal number is an amount cell, unless it is
a code: an integer with a leading zero, or an integer with a text cell to its right (codes come before
the labels they code)."""

from __future__ import annotations

import re

NUM = re.compile(r"^-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?$")


def _cells(line: str, offset: int):
    s = line.strip()
    if s.startswith("|"):
        if re.match(r"^\|?[\s:|-]+\|?$", s):
            return []
        first = line.index("|")
        pos = offset + first + 1
        parts = line[first + 1:line.rstrip().rfind("|")].split("|")
    elif "\t" in line:
        pos = offset
        parts = line.split("\t")
    else:
        return []
    out = []
    for p in parts:
        t = p.strip()
        lead = len(p) - len(p.lstrip())
        out.append((t, pos + lead, pos + lead + len(t)))
        pos += len(p) + 1
    return out


def amount_cells(text: str) -> list[tuple[int, int, str]]:
    spans = []
    pos = 0
    for line in text.split("\n"):
        cells = _cells(line, pos)
        for i, (t, s, e) in enumerate(cells):
            if not NUM.match(t):
                continue
            integer = "." not in t and "," not in t
            text_right = any(c[0] and not NUM.match(c[0]) for c in cells[i + 1:])
            if integer and (t.startswith("0") and len(t) > 1 or text_right):
                continue
            spans.append((s, e, t))
        pos += len(line) + 1
    return spans
