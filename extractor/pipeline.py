"""The extraction pipeline: load -> segment -> tables -> narrative facts -> indicators -> checks."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from .departments import clean_department, region_of
from .load import LoadedText, load_document
from .models import BudgetDocument
from .provenance import SourceRef
from .segment import find_sections, find_tables, split_lines
from .tables.assemble import build_tables

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
_CN_DIGITS = {"〇": "0", "○": "0", "零": "0", "一": "1", "二": "2", "三": "3", "四": "4", "五": "5", "六": "6",
              "七": "7", "八": "8", "九": "9"}
_CN_YEAR = re.compile(r"([一二〇○零][〇○零一二三四五六七八九]{3})\s*年")
_COVER_STOP = re.compile(r"^(?:目\s*录|第[一二三四五六七八九十]+部分|[-*]\s|[一二三四五六七八九十]+[、.．]|部门名称|单位名称|"
                         r"部门/单位|单位[：:]|附件|注[：:])")
_DATE_LINE = re.compile(r"^(?:(?:19|20)\d{2}|[一二〇○零][〇○零一二三四五六七八九]{3})\s*年\s*[\d一二三四五六七八九十]{1,3}\s*月"
                        r"(?:\s*[\d一二三四五六七八九十]{1,3}\s*日)?$")
_TITLE_END = re.compile(r"(预算|决算)(?:信息)?(?:公开|说明|情况说明|报告|草案)?(?:文本)?$")
_CJK_SPACE = re.compile(r"(?<=[\u3400-\u9fff（）()\d])\s+(?=[\u3400-\u9fff（）()])|(?<=[\u3400-\u9fff（）()])\s+(?=\d)")
_YEAR_PART = re.compile(r"(?:(?:19|20)\d{2}|[一二〇○零][〇○零一二三四五六七八九]{3})\s*年度?")
_DEPT_TAIL = re.compile(r"(?:部门|单位)?(?:预算|决算)(?:信息)?(?:公开|说明|情况说明|报告|草案)?(?:文本)?$")
_NARRATIVE_DEPT = re.compile(r"^([\u3400-\u9fff（）()]{4,40}?)\s*(?:19|20)\d{2}\s*年度?(?:部门)?(?:收入|支出|预算|决算)")


def _flat(text: str) -> str:
    return _CJK_SPACE.sub("", text.replace("**", "").strip().strip("#* ").strip())


def cover_title(text: str) -> str:
    """The cover title: the first lines before the table of contents, a date or the first heading/table,
    up to the line that ends like a title (…部门预算 / …决算公开 / …预算说明)."""
    out: list[str] = []
    seen = 0
    for line in text.split("\n", 40)[:40]:
        s = _flat(line)
        if not s:
            continue
        seen += 1
        if seen > 8 or _COVER_STOP.match(s) or _DATE_LINE.match(s) or "\t" in line or "|" in s or s.endswith("表") \
                or len(s) > 60:
            break
        out.append(s)
        if _TITLE_END.search(s):
            return _flat("".join(out))
    return _flat("".join(out)) if out and _TITLE_END.search("".join(out)) else ""


def years_in(text: str) -> list[int]:
    found = [int(y) for y in _YEAR.findall(text)]
    found += [int("".join(_CN_DIGITS[c] for c in y)) for y in _CN_YEAR.findall(text)]
    return found


def _most_common(values: list) -> object | None:
    return Counter(values).most_common(1)[0][0] if values else None


def department_of(title: str, dept_lines: list[str], text: str) -> str:
    """The department as printed on the tables' 部门名称 lines (most common), else from the cover title,
    else from the first narrative sentence naming it with a year."""
    printed = [re.sub(r"\s", "", d).strip("：:") for d in dept_lines if d and d.strip()]
    if printed:
        return str(_most_common(printed))
    if title:
        name = _DEPT_TAIL.sub("", _YEAR_PART.sub("", title)).strip()
        if len(name) >= 4:
            return name
    for line in text.split("\n", 400)[:400]:
        m = _NARRATIVE_DEPT.match(_flat(line))
        if m:
            return m.group(1)
    return ""


def document_kind(title: str, table_titles: list[str]) -> str:
    if "决算" in title:
        return "决算"
    if "预算" in title:
        return "预算"
    final = sum("决算" in t for t in table_titles)
    return "决算" if final and final * 2 >= len(table_titles) else "预算"


def document_year(title: str, table_titles: list[str], text: str) -> int | None:
    for source in ([title], table_titles):
        years = [y for t in source for y in years_in(t)]
        if years:
            return int(_most_common(years))
    years = years_in(text[:5000])
    return int(_most_common(years)) if years else None


def extract_text(loaded: LoadedText) -> BudgetDocument:
    text = loaded.text
    ref = SourceRef(loaded.doc_id, loaded.source, text, loaded.page_starts)
    lines = split_lines(text)
    blocks = find_tables(lines, text)
    first_table = min((b.title_start for b in blocks), default=len(text))
    sections = find_sections(lines, first_table)
    tables, notes = build_tables(ref, blocks)

    title = cover_title(text)
    department = department_of(title, [b.department_line for b in blocks], text)
    titles = [b.title for b in blocks]
    year = document_year(title, titles, text)
    kind = document_kind(title, titles)
    units = [b.unit for b in blocks if b.unit]
    unit = str(_most_common(units)) if units else "万元"

    doc = BudgetDocument(
        doc_id=loaded.doc_id, source=loaded.source,
        title=title or f"{department}{year or ''}年度部门{kind}",
        department=department, region=region_of(clean_department(department)), year=year, kind=kind, unit=unit,
        text_length=len(text), sections=sections, tables=tables, notes=notes,
    )
    from .narrative import extract_facts
    from .tables.performance import extract_indicators

    doc.facts = extract_facts(ref, text, sections, first_table)
    doc.indicators = extract_indicators(ref, blocks)
    from .checks import run_checks

    doc.findings = run_checks(doc, text)  # numeric reconciliation on every extraction; values stay as printed
    return doc


def extract_file(path: str | Path) -> BudgetDocument:
    return extract_text(load_document(path))
