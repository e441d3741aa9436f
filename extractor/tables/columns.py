"""Column roles: what an amount column means, whatever the template prints as its header.

Checks and the QA engine work on roles (total, basic, personnel, gp, carryover_gp …); output keeps the printed
path too. Roles come from the names on the path, so a reordered or renamed header keeps its meaning."""

from __future__ import annotations

import re
from functools import lru_cache

from ..models import TableKind
from .templates import EXTRA_SPENDING_COLUMNS

FUNCTIONAL_KINDS = {TableKind.expenditure, TableKind.gp_expenditure, TableKind.gov_fund, TableKind.state_capital}

# (role, keywords any of which in a header name selects it); first match wins, order matters.
NAME_ROLES: list[tuple[str, tuple[str, ...]]] = [
    ("carryover", ("结转",)),
    ("gp", ("一般公共预算",)),
    ("gov_fund", ("政府性基金",)),
    ("state_capital", ("国有资本",)),
    ("special_account", ("财政专户",)),
    ("operating_income", ("事业单位经营",)),
    ("business_income", ("事业收入",)),
    ("superior_subsidy", ("上级补助",)),
    ("affiliated_income", ("附属单位",)),
    ("other_income", ("其他收入",)),
    ("unit_funds", ("单位资金",)),
    ("fiscal", ("财政拨款",)),
    ("wages", ("工资福利",)),
    ("family", ("对个人和家庭",)),
    ("goods", ("商品和服务",)),
    ("capital", ("资本性",)),
    ("personnel", ("人员经费", "人员支出")),
    ("public", ("公用经费", "公用支出")),
    ("project_operating", ("运转",)),
    ("project_specific", ("特定目标",)),
    ("basic", ("基本支出",)),
    ("project", ("项目支出",)),
    ("current", ("本年收入", "本年拨款", "本年支出")),
    ("gov_budget", ("政府预算资金",)),
    ("total", ("合计", "总计", "金额", "预算数", "资金总额", "决算数")),
]

# "三公" parts, most specific first: 公务用车购置及运行费 names both 购置 and 运行.
SANGONG_ROLES: list[tuple[str, tuple[str, ...]]] = [
    ("sangong_abroad", ("因公出国",)),
    ("sangong_vehicle", ("购置及运行", "购置和运行", "公务用车费", "公务用车购置及运行维护")),
    ("sangong_vehicle_purchase", ("购置",)),
    ("sangong_vehicle_operation", ("运行",)),
    ("sangong_reception", ("公务接待",)),
    ("sangong_total", ("三公", "共计", "合计", "总计")),
]
_WHERE = re.compile(r"^其中[：:]?|^[（(]?\d+[)）]|^\d+[、.．]")


def _strip(name: str) -> str:
    s = name
    while True:
        t = _WHERE.sub("", s).strip()
        if t == s:
            return s
        s = t


@lru_cache(maxsize=4096)
def name_role(name: str) -> str:
    n = _strip(name)
    for role, keys in NAME_ROLES:
        if any(k in n for k in keys):
            return role
    return ""


@lru_cache(maxsize=4096)
def sangong_role(name: str) -> str:
    n = _strip(re.sub(r"\s", "", name))
    for role, keys in SANGONG_ROLES:
        if any(k in n for k in keys):
            if role == "sangong_total" and "公务" in n:
                continue
            return role
    return ""


@lru_cache(maxsize=4096)
def role_of(kind: TableKind, path: str, common_prefix: str = "") -> str:
    """Canonical role of an amount column from its printed path. `common_prefix` is a caption that spans
    every amount column (e.g. 本年一般公共预算基本支出) and so says nothing about a single column."""
    parts = [p for p in path.split("/") if p]
    if common_prefix and parts and parts[0] == common_prefix and len(parts) > 1:
        parts = parts[1:]
    if not parts:
        return ""
    if kind == TableKind.sangong:
        for k in range(len(parts) - 1, -1, -1):
            if parts[k] in ("小计", "合计") and k > 0:
                continue
            role = sangong_role(parts[k])
            if role:
                return role
        return ""
    carry = any(name_role(p) == "carryover" for p in parts[:-1])
    leaf = parts[-1]
    k = len(parts) - 1
    role = name_role(leaf)
    if leaf in ("小计", "合计") and k > 0:
        role = name_role(parts[k - 1])
        if role == "total":
            role = ""
        role = role or "total"
    if role == "fiscal":
        role = "gp_fiscal" if (k == 0 or name_role(parts[k - 1]) in ("gp", "current", "total")) else "fiscal"
    if carry and role not in ("carryover",):
        role = "carryover" if role in ("total", "current") else f"carryover_{role}"
    return role


def common_caption(paths: list[str]) -> str:
    """The first path level when every amount column shares it (a caption over the whole table)."""
    heads = {p.split("/")[0] for p in paths if p}
    if len(heads) == 1 and len(paths) > 1 and all("/" in p for p in paths):
        return heads.pop()
    return ""


def functional_columns(header_text: str, n_amount: int) -> list[str]:
    """Canonical amount columns of the functional-classification family (支出总体情况表 and its siblings),
    a fallback for headers too damaged to read by position or sequence. Which names the header contains
    decides the columns; their order follows the order the names are printed in."""
    h = header_text
    groups: list[tuple[int, list[str]]] = []
    for name in ("合计", "总计", "金额"):   # 金额: a one-amount table (Jiangsu 公开08表)
        if name in h:
            groups.append((h.index(name), [name]))
            break
    if "基本支出" in h:
        cols = ["基本支出/小计"]
        leaves = [("工资福利支出", "人员经费"), ("对个人和家庭的补助", "人员经费"),
                  ("商品和服务支出", "公用经费"), ("资本性支出", "公用经费")]
        for group in ("人员经费", "公用经费"):
            present = [leaf for leaf, grp in leaves if grp == group and leaf[:4] in h]
            if group in h and not present:
                cols.append(f"基本支出/{group}")
            for leaf in present:
                cols.append(f"基本支出/{group}/{leaf}" if group in h else f"基本支出/{leaf}")
        groups.append((h.index("基本支出"), cols))
    if "项目支出" in h:
        cols = ["项目支出/小计"]
        m = re.search(r"(其他运转类|运转类经费[（(]?[^/]*?[)）]?(?=/|$)|运转类[^/]{0,12})", h)
        if m:
            cols.append("项目支出/" + m.group(1))
        if "特定目标" in h:
            cols.append("项目支出/特定目标类")
        groups.append((h.index("项目支出"), cols))
    for name in EXTRA_SPENDING_COLUMNS:   # other templates' columns (tables.templates)
        if name in h:
            groups.append((h.index(name), [name]))
    out = [c for _, cols in sorted(groups) for c in cols]
    if len(out) < n_amount:
        out.extend(f"列{i + 1}" for i in range(len(out), n_amount))
    return out
