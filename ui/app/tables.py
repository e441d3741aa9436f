"""Pure functions for the 数据 tab: a document's records as tables (CSV-ready) and chart data.

Amounts stay exact in the tables (strings of the Decimal, as printed); only chart series are floats,
because a bar's height needs no more precision than the eye has. Metric values come from the QA
catalogue (`rag.qa.catalogue.read_metric`), so a chart and an answer never disagree on what a metric is."""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Iterable, Sequence
from decimal import Decimal
from pathlib import Path

import pandas as pd

from extractor.models import BudgetDocument, Table, TableKind

from .adapters import short_department

AMOUNT = "金额"

# (group label, table kinds) in the order the 数据 tab lists them
TABLE_GROUPS: list[tuple[str, tuple[TableKind, ...]]] = [
    ("总体", (TableKind.summary, TableKind.income, TableKind.fiscal_summary)),
    ("功能分类", (TableKind.expenditure, TableKind.gp_expenditure, TableKind.gov_fund, TableKind.state_capital)),
    ("经济分类", (TableKind.gp_basic, TableKind.economic)),
    ("三公", (TableKind.sangong,)),
    ("项目", (TableKind.projects,)),
    ("绩效", (TableKind.dept_performance, TableKind.project_performance)),
    ("其他", (TableKind.generic,)),
]
_GROUP_OF = {k: g for g, kinds in TABLE_GROUPS for k in kinds}
_GROUP_RANK = {g: i for i, (g, _k) in enumerate(TABLE_GROUPS)}

SANGONG_PARTS = [("sangong_abroad", "因公出国（境）费"), ("sangong_vehicle_purchase", "公务用车购置费"),
                 ("sangong_vehicle_operation", "公务用车运行费"), ("sangong_reception", "公务接待费")]


def table_choices(doc: BudgetDocument) -> list[tuple[str, str]]:
    """(label, key) of every table of the document, grouped, plus indicators and narrative facts."""
    out: list[tuple[int, int, str, str]] = []
    for i, t in enumerate(doc.tables):
        group = _GROUP_OF.get(t.kind, "其他")
        title = _title(t) or t.kind.value
        out.append((_GROUP_RANK[group], i, f"{group} · {title}" + ("（空表）" if t.empty else ""), f"t{i}"))
    choices = [(label, key) for _g, _i, label, key in sorted(out)]
    if any(not ind.project for ind in doc.indicators):
        choices.append(("绩效 · 整体绩效指标", "ind:dept"))
    if any(ind.project for ind in doc.indicators):
        choices.append(("绩效 · 项目绩效指标", "ind:project"))
    if doc.facts:
        choices.append(("叙述 · 正文中的数字与事实", "facts"))
    return choices


def records_frame(doc: BudgetDocument, key: str) -> tuple[pd.DataFrame, str]:
    """(table, caption) for a key of `table_choices`; an unknown key gives an empty table and says so."""
    m = re.fullmatch(r"t(\d+)", key or "")
    if m and int(m.group(1)) < len(doc.tables):
        t = doc.tables[int(m.group(1))]
        return table_frame(t), f"{_title(t)} · 单位：{t.unit} · {len(t.rows)} 行"
    if key in ("ind:dept", "ind:project"):
        project = key == "ind:project"
        return indicators_frame(doc, project), "项目绩效指标" if project else "整体绩效指标"
    if key == "facts":
        return facts_frame(doc), "正文（叙述部分）中抽取的数字与事实"
    return pd.DataFrame(), "请选择一张表"


def _title(t: Table) -> str:
    return re.sub(r"\s+", "", t.title)


def _amount_text(value: Decimal) -> str:
    return format(value, "f")


def table_frame(t: Table) -> pd.DataFrame:
    lead: list[str] = ["编码", "名称"]
    if any(r.side for r in t.rows):
        lead.insert(0, "收/支")
    if any(r.gov_code for r in t.rows):
        lead += ["政府经济分类"]
    if any(r.category for r in t.rows):
        lead += ["类型"]
    if any(r.unit_name for r in t.rows):
        lead += ["单位"]
    columns = list(t.columns) or sorted({c.column for r in t.rows for c in r.cells})
    rows = []
    for r in t.rows:
        row: dict[str, str] = {"编码": r.code_raw or r.code, "名称": r.label}
        if "收/支" in lead:
            row["收/支"] = {"income": "收入", "expenditure": "支出"}.get(r.side, r.side)
        if "政府经济分类" in lead:
            row["政府经济分类"] = " ".join(x for x in (r.gov_code, r.gov_label) if x)
        if "类型" in lead:
            row["类型"] = r.category
        if "单位" in lead:
            row["单位"] = r.unit_name
        for c in r.cells:
            row[c.column] = _amount_text(c.amount.value)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=lead + [c for c in columns if c not in lead], dtype=object)
    return frame.fillna("")


def indicators_frame(doc: BudgetDocument, project: bool) -> pd.DataFrame:
    cols = (["项目"] if project else []) + ["一级指标", "二级指标", "三级指标", "指标值", "比较", "数值", "单位"]
    rows = []
    for ind in doc.indicators:
        if bool(ind.project) != project:
            continue
        row = {"一级指标": ind.level1, "二级指标": ind.level2, "三级指标": ind.level3, "指标值": ind.value_text,
               "比较": ind.comparator, "数值": "" if ind.number is None else _amount_text(ind.number),
               "单位": ind.unit}
        if project:
            row["项目"] = ind.project
        rows.append(row)
    return pd.DataFrame(rows, columns=cols)


def facts_frame(doc: BudgetDocument) -> pd.DataFrame:
    rows = [{"事实": f.name, "限定": f.qualifier,
             "数值": "" if f.amount is None else _amount_text(f.amount.value),
             "单位": "" if f.amount is None else f.amount.unit, "文字": f.text or "", "章节": f.section}
            for f in doc.facts]
    return pd.DataFrame(rows, columns=["事实", "限定", "数值", "单位", "文字", "章节"])


def write_csv(frame: pd.DataFrame, path: Path) -> Path:
    """UTF-8 with BOM: spreadsheet programs then read the Chinese headers correctly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    frame.to_csv(tmp, index=False, encoding="utf-8-sig")
    os.replace(tmp, path)  # atomic: two sessions downloading the same table never read half a file
    return path


def csv_name(doc: BudgetDocument, label: str) -> str:
    base = f"{short_department(doc.department)}_{doc.year or ''}_{label}"
    return re.sub(r"[\\/:*?\"<>|\s·]+", "_", base).strip("_")[:120] + ".csv"


# ------------------------------------------------------------------------------------------ charts

def _series(rows: Iterable[tuple[str, Decimal, str]], label: str = "项目") -> pd.DataFrame:
    data = [{label: name, AMOUNT: float(v), "数值": _amount_text(v), "单位": unit} for name, v, unit in rows]
    return pd.DataFrame(data, columns=[label, AMOUNT, "数值", "单位"])


def functional_chart(doc: BudgetDocument) -> tuple[pd.DataFrame, str]:
    """Spending by functional class (类): the class rows where printed, else the 项 rows summed by class."""
    from rag.qa.catalogue import class_name

    for kind in (TableKind.gp_expenditure, TableKind.expenditure):
        for t in doc.tables_of(kind):
            rows = [(r, r.get("total")) for r in t.rows if r.code_kind == "functional" and not r.is_total]
            rows = [(r, c) for r, c in rows if c is not None]
            classes = [(r.label.strip() or class_name(r.code), c.amount.value, c.amount.unit or t.unit)
                       for r, c in rows if len(r.code) == 3]
            if classes:
                return _series(classes, "功能分类"), f"{_title(t)}：按功能分类（类）"
            leaves = [(r, c) for r, c in rows if len(r.code) == 7]
            if leaves:
                sums: dict[str, Decimal] = {}
                for r, c in leaves:
                    sums[class_name(r.code)] = sums.get(class_name(r.code), Decimal(0)) + c.amount.value
                return (_series([(k, v, t.unit) for k, v in sums.items()], "功能分类"),
                        f"{_title(t)}：项级科目按类汇总")
    return _series([], "功能分类"), "文件中没有按功能分类的支出表"


def _view(doc: BudgetDocument, text: str | None = None):
    from rag.qa.view import DocView

    return DocView(doc, text)


def _metric(view, key: str):
    from rag.qa.catalogue import read_metric

    try:
        return read_metric(view, key)
    except (KeyError, ValueError, AttributeError):
        return None


def basic_project_chart(doc: BudgetDocument) -> tuple[pd.DataFrame, str]:
    """基本支出 vs 项目支出, and within 基本支出 人员经费 vs 公用经费."""
    view = _view(doc)
    rows = []
    for key, name, group in (("basic", "基本支出", "支出结构"), ("project", "项目支出", "支出结构"),
                             ("personnel", "人员经费", "基本支出构成"), ("public", "公用经费", "基本支出构成")):
        v = _metric(view, key)
        if v is not None:
            rows.append({"项目": name, AMOUNT: float(v.value), "数值": _amount_text(v.value), "单位": v.unit,
                         "分组": group})
    frame = pd.DataFrame(rows, columns=["项目", AMOUNT, "数值", "单位", "分组"])
    return frame, ("基本支出与项目支出；人员经费与公用经费" if rows else "文件中没有基本支出/项目支出的数字")


def sangong_chart(doc: BudgetDocument) -> tuple[pd.DataFrame, str]:
    view = _view(doc)
    parts = []
    for key, name in SANGONG_PARTS:
        v = _metric(view, key)
        if v is not None:
            parts.append((name, v.value, v.unit))
    if not any(n.startswith("公务用车") for n, _v, _u in parts):
        v = _metric(view, "sangong_vehicle")
        if v is not None:
            parts.insert(1, ("公务用车购置及运行费", v.value, v.unit))
    total = _metric(view, "sangong_total")
    caption = f"“三公”经费合计 {_amount_text(total.value)}{total.unit}" if total is not None else "“三公”经费构成"
    return _series(parts), caption if parts else "文件中没有“三公”经费的数字"


def metric_choices() -> list[tuple[str, str]]:
    from rag.qa.catalogue import METRICS

    return [(m.name.replace("“", "").replace("”", ""), k) for k, m in METRICS.items()]


def compare_chart(docs: Sequence[BudgetDocument], key: str) -> tuple[pd.DataFrame, str]:
    """One metric across every document (department · year), largest first; documents without it are named."""
    from rag.qa.catalogue import METRICS

    metric = METRICS.get(key)
    if metric is None:
        return _series([], "部门"), "请选择一个指标"
    rows, missing = [], []
    for d in docs:
        v = _metric(_view(d), key)
        label = f"{short_department(d.department)} {d.year or ''}".strip()
        if v is None:
            missing.append(label)
        else:
            rows.append((label, v.value, v.unit))
    rows.sort(key=lambda r: -r[1])
    caption = f"{metric.name}（各部门）"
    if missing:
        caption += "；文件中没有此项：" + "、".join(missing)
    return _series(rows, "部门"), caption
