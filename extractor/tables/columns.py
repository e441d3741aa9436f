"""Column roles: what an amount column means, whatever the template prints as its header.

Checks and the QA engine work on roles (total, basic, personnel …); output keeps the printed path too."""

from __future__ import annotations

from ..models import TableKind

FUNCTIONAL_KINDS = {TableKind.expenditure, TableKind.gp_expenditure, TableKind.gov_fund, TableKind.state_capital}

# (role, keywords any of which in the column path selects it); first match wins, order matters.
ROLE_RULES: list[tuple[str, tuple[str, ...]]] = [
    ("wages", ("工资福利",)),
    ("family", ("对个人和家庭",)),
    ("goods", ("商品和服务",)),
    ("capital", ("资本性",)),
    ("project_operating", ("运转类", "运转")),
    ("project_specific", ("特定目标",)),
    ("personnel", ("人员经费", "人员支出")),
    ("public", ("公用经费", "公用支出")),
    ("sangong_abroad", ("因公出国",)),
    ("sangong_vehicle_purchase", ("公务用车购置费", "车辆购置")),
    ("sangong_vehicle_operation", ("公务用车运行", "运行维护费", "运行费")),
    ("sangong_vehicle", ("公务用车购置及运行", "公务用车费")),
    ("sangong_reception", ("公务接待",)),
    ("sangong_total", ("三公", "经费合计")),
]


def role_of(kind: TableKind, path: str) -> str:
    """Canonical role of an amount column from its printed path."""
    leaf = path.split("/")[-1] if path else ""
    if kind in FUNCTIONAL_KINDS or kind in (TableKind.gp_basic,):
        if path.startswith("基本支出") and leaf in ("小计", "合计", "基本支出"):
            return "basic"
        if path.startswith("项目支出") and leaf in ("小计", "合计", "项目支出"):
            return "project"
        if leaf in ("合计", "总计") and "/" not in path:
            return "total"
    if kind == TableKind.sangong:
        for role, keys in ROLE_RULES:
            if role.startswith("sangong") and any(k in leaf for k in keys):
                if role == "sangong_vehicle" and leaf == "小计":
                    return "sangong_vehicle"
                return role
        if leaf == "小计" and "公务用车" in path:
            return "sangong_vehicle"
        return ""
    if leaf in ("合计", "总计", "金额", "预算数") and ("/" not in path or kind in (TableKind.summary,)):
        return "total"
    for role, keys in ROLE_RULES:
        if role.startswith("sangong"):
            continue
        if any(k in leaf for k in keys):
            return role
    if leaf in ("小计",):
        head = path.split("/")[0]
        if "一般公共预算" in head:
            return "gp"
        if "本年收入" in head or "本年拨款" in head:
            return "current"
    if "其中：财政拨款" in leaf or leaf == "财政拨款":
        return "gp_fiscal"
    if "一般公共预算" in leaf:
        return "gp"
    if "政府性基金" in leaf:
        return "gov_fund"
    if "国有资本" in leaf:
        return "state_capital"
    if "上年结转" in leaf or "结转结余" in path.split("/")[0]:
        return "carryover" if leaf in ("合计", "小计") or "/" not in path else "carryover_" + leaf
    return ""


def functional_columns(header_text: str, n_amount: int) -> list[str]:
    """Canonical amount columns of the functional-classification family (支出总体情况表 and its siblings).

    Their multi-row headers are the most often damaged in PDF conversion (rows merged, cells shifted), so
    the paths come from which column names the header contains, in the template's fixed order."""
    h = header_text
    personnel_group = "人员经费" in h
    cols: list[str] = []
    if "合计" in h or "总计" in h:
        cols.append("总计" if "总计" in h and "合计" not in h else "合计")
    if "基本支出" in h:
        cols.append("基本支出/小计")
        leaves = [("工资福利支出", "人员经费"), ("对个人和家庭的补助", "人员经费"),
                  ("商品和服务支出", "公用经费"), ("资本性支出", "公用经费")]
        present = [(leaf, grp) for leaf, grp in leaves if leaf[:4] in h]
        if not present and personnel_group:
            present = [("人员经费", ""), ("公用经费", "")]
        for leaf, grp in present:
            cols.append(f"基本支出/{grp}/{leaf}" if personnel_group and grp else f"基本支出/{leaf}")
    if "项目支出" in h:
        cols.append("项目支出/小计")
        if "运转" in h:
            import re

            m = re.search(r"(其他运转类|运转类经费[（(]?[^/]*?[)）]|运转类[^/]{0,12})", h)
            cols.append("项目支出/" + (m.group(1) if m else "运转类"))
        if "特定目标" in h:
            cols.append("项目支出/特定目标类")
    if len(cols) < n_amount:
        cols.extend(f"列{i + 1}" for i in range(len(cols), n_amount))
    return cols
