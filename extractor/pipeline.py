"""The extraction pipeline: load -> segment -> tables -> narrative facts -> indicators -> checks."""

from __future__ import annotations

import re
from pathlib import Path

from .departments import clean_department, most_common_department, region_of
from .load import LoadedText, load_document
from .models import BudgetDocument
from .provenance import SourceRef
from .segment import find_sections, find_tables, split_lines
from .tables.assemble import build_tables

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")


def _title_lines(text: str) -> str:
    """The cover title: first non-empty lines before the table of contents or the first heading."""
    out = []
    for line in text.split("\n")[:12]:
        s = line.strip().strip("#* ")
        if not s:
            if out:
                continue
            continue
        if s.startswith(("目", "第一部分", "-")) or re.match(r"^二[〇○零]", s) or "\t" in line \
                or s.endswith("表") or s.startswith(("部门", "单位")):
            break
        out.append(s)
        if re.search(r"(预算|决算)(说明|公开)?$", s):
            break
    return "".join(out)


def extract_text(loaded: LoadedText) -> BudgetDocument:
    text = loaded.text
    ref = SourceRef(loaded.doc_id, loaded.source, text, loaded.page_starts)
    lines = split_lines(text)
    blocks = find_tables(lines, text)
    first_table = min((b.title_start for b in blocks), default=len(text))
    sections = find_sections(lines, first_table)
    tables, notes = build_tables(ref, blocks)

    title = _title_lines(text)
    dept_lines = [b.department_line for b in blocks if b.department_line]
    department = most_common_department(dept_lines) or clean_department(re.split(r"\d{4}", title)[0])
    years = [int(y) for y in _YEAR.findall(title)] or [int(y) for b in blocks for y in _YEAR.findall(b.title)]
    if not years:
        years = [int(y) for y in _YEAR.findall(text[:5000])]
    year = max(set(years), key=years.count) if years else None
    kind = "决算" if ("决算" in title or sum("决算" in b.title for b in blocks) > len(blocks) / 2) else "预算"
    units = [b.unit for b in blocks if b.unit]
    unit = max(set(units), key=units.count) if units else "万元"

    doc = BudgetDocument(
        doc_id=loaded.doc_id, source=loaded.source,
        title=title or f"{department}{year or ''}年度部门{kind}",
        department=department, region=region_of(department), year=year, kind=kind, unit=unit,
        text_length=len(text), sections=sections, tables=tables, notes=notes,
    )
    from .narrative import extract_facts
    from .tables.performance import extract_indicators

    doc.facts = extract_facts(ref, text, sections, first_table)
    doc.indicators = extract_indicators(ref, blocks)
    return doc


def extract_file(path: str | Path) -> BudgetDocument:
    return extract_text(load_document(path))
