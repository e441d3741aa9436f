"""Well-formed codes: functional codes 3/2/2 digits of a known 类, economic codes 3 or 5 digits, project codes
of one length within a document."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache

from ..models import Finding, Table, TableRow
from .engine import Context, rule, table_name
from .structure import KNOWN_CLASSES

_SEGMENTS = (3, 2, 2)
_FUNCTIONAL = re.compile(r"[0-9]{3}(?:[0-9]{2}){0,2}")   # 3, 5 or 7 (ASCII) digits
_PRINTED = re.compile(r"\S+|\S{3}\s+\S{2}(?:\s+\S{2})?")   # one piece, or pieces of 3/2/2
_ECONOMIC = re.compile(r"[35][0-9]{2}(?:[0-9]{2})?")   # well-formed by the rule below (ASCII digits)


def _coded_rows(ctx: Context) -> tuple[list, list, list]:
    """(table, row) of the rows each code rule reads — functional, economic or with a 政府经济分类 code, project
    with a code — in document order, from one pass over the rows per document."""
    got = ctx.cache.get("coded_rows")
    if got is None:
        functional: list[tuple[Table, TableRow]] = []
        economic: list[tuple[Table, TableRow]] = []
        project: list[tuple[Table, TableRow]] = []
        for table in ctx.tables:
            for row in table.rows:
                kind = row.code_kind
                if kind == "functional":
                    functional.append((table, row))
                elif kind == "project":
                    if row.code:
                        project.append((table, row))
                if kind == "economic" or row.gov_code:
                    economic.append((table, row))
        got = ctx.cache["coded_rows"] = (functional, economic, project)
    return got  # type: ignore[return-value]


@lru_cache(maxsize=16384)
def _well_formed_functional(code: str, code_raw: str) -> bool:
    """3, 5 or 7 ASCII digits of a known 类, printed as one piece or as pieces of 3/2/2."""
    return bool(_FUNCTIONAL.fullmatch(code)) and code[:3] in KNOWN_CLASSES and bool(_PRINTED.fullmatch(code_raw.strip()))


def _where(row: TableRow) -> list:
    """Codes have no amount of their own: a malformed code's finding points at its row's amounts."""
    return [c.amount for c in row.cells]


@rule("codes.functional", "功能分类科目编码：类3位/款2位/项2位，类须为已知类")
def functional_codes(ctx: Context) -> Iterator[Finding]:
    """A functional (支出功能分类, 2xx) code has 3, 5 or 7 digits (类 3, 款 2, 项 2); printed with spaces its
    pieces are 3/2/2 digits long; its 类 is one of the classes of 政府收支分类科目 (201 一般公共服务 … 234)."""
    for table, row in _coded_rows(ctx)[0]:
        if not row.code or not row.code.startswith("2"):
            continue  # functional classes are 2xx; other digits are another classification, not a typo
        if _well_formed_functional(row.code, row.code_raw):
            continue  # well-formed (the usual case): the checks below would find nothing
        problems = []
        if len(row.code) not in (3, 5, 7) or not row.code.isdigit():
            problems.append(f"位数为 {len(row.code)}（应为 3、5 或 7 位）")
        pieces = [p for p in re.split(r"\s+", row.code_raw.strip()) if p]
        if len(pieces) > 1 and [len(p) for p in pieces] != list(_SEGMENTS[:len(pieces)]):
            problems.append(f"分段为 {'/'.join(str(len(p)) for p in pieces)} 位（应为 3/2/2）")
        if row.code[:3] not in KNOWN_CLASSES:
            problems.append(f"类 {row.code[:3]} 不是已知的支出功能分类")
        if problems:
            yield ctx.finding("codes.functional", "malformed",
                              f"{table_name(table)}「{row.label}」的功能分类编码 {row.code_raw or row.code}："
                              + "；".join(problems), _where(row))


@rule("codes.economic", "经济分类科目编码：3 位或 5 位")
def economic_codes(ctx: Context) -> Iterator[Finding]:
    """An economic-classification code (部门预算支出经济分类 3xx, 政府预算支出经济分类 5xx) has 3 digits (类) or 5
    digits (类 + 款)."""
    for table, row in _coded_rows(ctx)[1]:
        own = row.code if row.code_kind == "economic" else ""
        gov = row.gov_code
        if (not own or _ECONOMIC.fullmatch(own)) and (not gov or _ECONOMIC.fullmatch(gov)):
            continue   # most rows: no code, or well-formed ones (one regex instead of the checks below)
        for code, what in ((own, "经济分类编码"), (gov, "政府预算经济分类编码")):
            if not code:
                continue
            if len(code) not in (3, 5) or not code.isdigit() or code[0] not in "35":
                yield ctx.finding("codes.economic", "malformed",
                                  f"{table_name(table)}「{row.label}」的{what} {code} 应为以 3 或 5 开头的 3 位或 5 位数字",
                                  _where(row))


@rule("codes.project", "项目编码在同一文件内长度一致")
def project_codes(ctx: Context) -> Iterator[Finding]:
    """Project codes follow one numbering scheme per document, so they have one length: codes of another
    length than most are malformed (a digit dropped or doubled, e.g. 20 instead of 21 digits)."""
    rows = _coded_rows(ctx)[2]
    lengths = Counter(len(r.code) for _, r in rows)
    if len(lengths) < 2:
        return
    (usual, n), (_, second) = lengths.most_common(2)
    if n == second:
        return  # no majority: nothing says which length is right
    for table, row in rows:
        if len(row.code) != usual:
            yield ctx.finding("codes.project", "malformed",
                              f"{table_name(table)}「{row.label}」的项目编码 {row.code} 为 {len(row.code)} 位，"
                              f"本文件其余 {n} 个项目编码为 {usual} 位", _where(row))
