"""Table titles -> table kinds, by aliases (patterns), never by one exact string.

The same table is printed as 收支总体情况表, 收支预算表, 部门收支预算表, 财务收支预算总表 …; order matters
(most specific first)."""

from __future__ import annotations

import re

from ..models import TableKind
from .templates import template_kind

_CLEAN = re.compile(r"^[#*\s>-]+|[*\s]+$")
_PREFIX = re.compile(r"^(?:附件\d*[：:]?)?(?:[一二三四五六七八九十]+[、.．]|\d+[、.．]|公开\d+表)?\s*"
                     r"(?:[^\s\d]{0,20}?(?:\d{4}\s*年度?)\s*)?")

# (kind, pattern) in priority order; patterns are matched against the title with spaces removed.
TITLE_PATTERNS: list[tuple[TableKind, re.Pattern[str]]] = [
    (TableKind.project_performance, re.compile(r"项目.{0,6}绩效目标|项目支出绩效")),
    (TableKind.dept_performance, re.compile(r"整体.{0,4}绩效目标|整体支出绩效|部门绩效目标")),
    (TableKind.sangong, re.compile(r"三公")),
    (TableKind.gov_fund, re.compile(r"政府性基金")),
    (TableKind.state_capital, re.compile(r"国有资本经营")),
    (TableKind.fiscal_summary, re.compile(r"财政拨款(?:预算)?收(?:入)?支(?:出)?(?!.{0,3}明细)")),
    (TableKind.gp_basic, re.compile(r"一般公共预算.{0,6}基本支出")),
    (TableKind.gp_expenditure, re.compile(r"一般公共预算(?:财政拨款|拨款)?支出")),
    (TableKind.economic, re.compile(r"支出经济分类|经济分类.{0,4}汇总|按经济分类")),
    (TableKind.projects, re.compile(r"项目支出")),
    (TableKind.summary, re.compile(r"收支|收入支出")),
    (TableKind.income, re.compile(r"收入")),
    (TableKind.expenditure, re.compile(r"支出")),
]

_TITLE_TAIL = re.compile(r"(?:表|预算|决算|情况)\s*[)）]?$|[（(]续表?[)）]$|续表$")


def clean_title(line: str) -> str:
    """Strip markdown marks, bold, pipes and surrounding spaces."""
    s = line.strip().strip("|").strip()
    s = _CLEAN.sub("", s)
    return s.replace("**", "").strip()


def classify_title(line: str) -> TableKind | None:
    """The table kind a title line names, or None if the line is not a table title."""
    title = clean_title(line)
    compact = re.sub(r"\s+", "", title)
    if not compact or len(compact) > 45 or not _TITLE_TAIL.search(compact):
        return None
    if compact.startswith(("-", "注", "备注")) or compact.endswith(("；", ";", "。")):
        return None
    if "说明" in compact or "目录" in compact:
        return None
    aliased = template_kind(compact)   # other provinces' / years' titles (tables.templates)
    if aliased is not None:
        return aliased
    for kind, pattern in TITLE_PATTERNS:
        if pattern.search(compact):
            return kind
    if compact.endswith("表"):
        return TableKind.generic
    return None
