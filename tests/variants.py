"""Variant budget documents for store tests and the retrieval benchmark (generated at run time, never committed).

A variant renames the department, shifts every year and scales every decimal amount of a real document,
so its text (and content hash) is new while its layout stays realistic. Nothing here knows which sample
it is given: the department name comes from the extractor."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

CITIES = ["开封市", "洛阳市", "平顶山市", "安阳市", "鹤壁市", "新乡市", "焦作市", "濮阳市", "南阳市", "商丘市",
          "信阳市", "周口市", "驻马店市", "三门峡市"]
OFFICES = ["教育局", "民政局", "司法局", "审计局", "统计局", "林业局", "水利局", "文化广电和旅游局", "市场监督管理局",
           "应急管理局", "医疗保障局", "退役军人事务局", "农业农村局", "生态环境局", "住房和城乡建设局",
           "交通运输局", "卫生健康委员会", "自然资源和规划局", "人力资源和社会保障局", "发展和改革委员会"]

_DECIMAL = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)\.(\d{1,2})(?![\d.])")
_YEAR = re.compile(r"(?<!\d)(20[12]\d)(?=\s*年)")


def variant_name(i: int) -> str:
    return f"{CITIES[i % len(CITIES)]}{OFFICES[(i // len(CITIES)) % len(OFFICES)]}"


def make_variant(text: str, department: str, i: int, *, year_shift: int | None = None,
                 scale: Decimal | None = None) -> str:
    """Variant `i` of a document whose department is `department` (as the extractor names it)."""
    name = variant_name(i)
    shift = (i % 3) if year_shift is None else year_shift
    factor = scale if scale is not None else Decimal(1) + Decimal(i % 17 + 1) / Decimal(40)
    out = text.replace(department, name) if department else text

    def scale_amount(m: re.Match[str]) -> str:
        places = len(m.group(2))
        value = Decimal(m.group(1).replace(",", "") + "." + m.group(2)) * factor
        return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))

    out = _DECIMAL.sub(scale_amount, out)
    if shift:
        out = _YEAR.sub(lambda m: str(int(m.group(1)) - shift), out)
    return out


def write_variants(samples: list[Path], out_dir: Path, n: int) -> list[Path]:
    """`n` variant files cycling over `samples`, written into `out_dir`; returns their paths."""
    from extractor.pipeline import extract_file

    out_dir.mkdir(parents=True, exist_ok=True)
    bases = [(p.read_text(encoding="utf-8"), extract_file(p).department) for p in samples]
    paths = []
    for i in range(n):
        text, department = bases[i % len(bases)]
        path = out_dir / f"variant_{i:04d}.txt"
        path.write_text(make_variant(text, department, i), encoding="utf-8")
        paths.append(path)
    return paths


# ===================================================================================================
# Damaged and variant documents for the extractor tests (tests/test_variants.py, tests/test_tables.py).
#
# Two families:
#  * `build_document(DocSpec)`: a budget document written from scratch, one or more standard tables in a
#    chosen rendering (TSV / pipe, code style, 元 or 万元, thousands separators, title aliases, damage such
#    as page splits and wrapped cells). Every amount is unique in the document, so each expectation pins
#    one source span: the test checks the value lands in the right table / row / code / column.
#  * text transforms of a real sample (`to_pipe`, `to_tsv`, `with_thousands`, `to_yuan`, `reorder_tables`,
#    `split_page`, `join_codes`, `encode`…): the extraction of the variant must equal the sample's.
# ===================================================================================================

import itertools  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402


@dataclass(frozen=True)
class Expect:
    """One amount the extractor must find: where it belongs and what it is."""

    kind: str
    label: str
    code: str
    column: str
    value: Decimal
    raw: str
    side: str = ""
    role: str = ""


@dataclass
class Val:
    """An amount cell in a table spec; rendered later (unit, separators) into its exact printed text."""

    value: Decimal
    label: str
    code: str
    column: str
    side: str = ""
    role: str = ""


Cell = str | Val


@dataclass
class TableSpec:
    kind: str
    title: str
    header: list[list[str]]
    rows: list[list[Cell]]
    label_col: int = 0                 # where the row label sits (for wrapped-cell damage)
    note: str = "注：如本表为空表，则表示本部门或单位当年无此项预算。"
    split: tuple[int, list[str]] | None = None        # page break: (rows before it, lines printed at it)


@dataclass
class DocSpec:
    department: str = "开封市文化广电和旅游局"
    year: int = 2025
    kind: str = "预算"                 # 预算 | 决算
    unit: str = "万元"                 # 万元 | 元
    style: str = "tsv"                 # tsv | pipe
    code_style: str = "cells"          # cells ('201','03','01') | spaced ('201 03 01') | joined ('2010301')
    thousands: bool = False
    cover: bool = True
    title_aliases: dict[str, str] = field(default_factory=dict)
    sangong_layout: str = "wide"       # wide | list
    income_three_cells: bool = False   # 一般公共预算 | 小计 | amount on the income side


class _Values:
    """Unique amounts: no two cells of a document print the same number."""

    def __init__(self, seed: int = 0):
        self._it = itertools.count(1)
        self.seed = seed

    def next(self) -> Decimal:
        i = next(self._it)
        return Decimal(f"{37 + i * 13 + self.seed * 1000}.{(i * 7 + 11) % 89 + 10:02d}")


TITLES = {
    "summary": "收支总体情况表", "income": "收入总体情况表", "expenditure": "支出总体情况表",
    "fiscal_summary": "财政拨款收支总体情况表", "gp_basic": "一般公共预算基本支出表", "economic": "支出经济分类汇总表",
    "sangong": "一般公共预算“三公”经费支出情况表", "gov_fund": "政府性基金预算支出情况表", "projects": "项目支出表",
}
# Other names the same tables are published under (seen across provinces and years).
ALIASES = {
    "summary": ["收支预算表", "部门收支预算表", "财务收支预算总表", "部门收支总表", "收入支出预算总表"],
    "income": ["收入预算表", "部门收入预算表", "部门收入总表"],
    "expenditure": ["支出预算表", "部门支出预算表", "部门支出总表"],
    "fiscal_summary": ["财政拨款收支预算总表", "财政拨款收支预算表"],
    "gp_basic": ["一般公共预算基本支出预算表", "一般公共预算基本支出情况表"],
    "economic": ["部门支出经济分类预算表", "按经济分类的支出预算表"],
    "sangong": ["“三公”经费预算表", "一般公共预算“三公”经费预算表"],
    "gov_fund": ["政府性基金预算支出预算表", "政府性基金支出表"],
    "projects": ["项目支出预算表", "部门项目支出预算表"],
}


def _functional_rows(v: _Values, spec: DocSpec, kind: str) -> tuple[list[list[str]], list[list[Cell]]]:
    cols = ["合计", "基本支出/小计", "基本支出/人员经费/工资福利支出", "基本支出/人员经费/对个人和家庭的补助",
            "基本支出/公用经费/商品和服务支出", "基本支出/公用经费/资本性支出", "项目支出/小计", "项目支出/其他运转类",
            "项目支出/特定目标类"]
    roles = ["total", "basic", "wages", "family", "goods", "capital", "project", "project_operating",
             "project_specific"]
    items = [(("201", "03", "01"), "行政运行", (0, 1, 2, 4)), (("201", "03", "02"), "一般行政管理事务", (0, 6, 7)),
             (("208", "05", "05"), "机关事业单位基本养老保险缴费支出", (0, 1, 2)),
             (("210", "11", "01"), "行政单位医疗", (0, 1, 2)), (("221", "02", "01"), "住房公积金", (0, 1, 2)),
             (("207", "01", "09"), "群众文化", (0, 6, 8))]
    if spec.code_style == "cells":
        code_head = [["科目编码", "", ""], ["类", "款", "项"], ["", "", ""]]
    else:
        code_head = [["科目编码"], ["类 款 项" if spec.code_style == "spaced" else ""], [""]]
    header = [code_head[0] + ["单位代码", "单位（科目名称）", "合计", "基本支出", "", "", "", "", "项目支出", "", ""],
              code_head[1] + ["", "", "", "小计", "人员经费", "", "公用经费", "", "小计", "其他运转类", "特定目标类"],
              code_head[2] + ["", "", "", "", "工资福利支出", "对个人和家庭的补助", "商品和服务支出", "资本性支出", "", "",
                              ""]]
    ncode = len(code_head[0])
    rows: list[list[Cell]] = []

    def amounts(label: str, code: str, filled: tuple[int, ...]) -> list[Cell]:
        return [Val(v.next(), label, code, cols[k], role=roles[k]) if k in filled else "" for k in range(len(cols))]

    rows.append([""] * ncode + ["", "合计"] + amounts("合计", "", (0, 1, 2, 3, 4, 6, 7, 8)))
    rows.append([""] * ncode + ["086", "开封市文化馆"] + amounts("开封市文化馆", "086", (0, 1, 2, 6)))
    for code, name, filled in items:
        full = "".join(code)
        if spec.code_style == "cells":
            printed = list(code)
        elif spec.code_style == "spaced":
            printed = [" ".join(code)]
        else:
            printed = [full]
        rows.append(printed + ["", name] + amounts(name, full, filled))
    return header, rows


def _table(kind: str, v: _Values, spec: DocSpec) -> TableSpec:
    title = spec.title_aliases.get(kind, TITLES[kind])
    if kind in ("expenditure", "gov_fund"):
        header, rows = _functional_rows(v, spec, kind)
        if kind == "gov_fund":  # printed, but with nothing in it: only the 合计 row, no amounts
            rows = [[c if isinstance(c, str) else "" for c in rows[0]]]
        return TableSpec(kind, title, header, rows, label_col=len(header[0]) - 10)
    if kind == "summary":
        left = [("一、一般公共预算", True), ("二、政府性基金预算拨款收入", True), ("三、事业收入", False),
                ("四、其他收入", False)]
        right = [("一、一般公共服务", True), ("二、教育", False), ("三、文化旅游体育与传媒", True),
                 ("四、社会保障和就业", True), ("五、住房保障支出", True)]
        rows = []
        for i in range(max(len(left), len(right))):
            row: list[Cell] = []
            if i < len(left):
                lab, has = left[i]
                row += [lab, Val(v.next(), lab, "", "收入/金额", "income", "total") if has else ""]
            else:
                row += ["", ""]
            lab, has = right[i]
            row += [lab, Val(v.next(), lab, "", "支出/金额", "expenditure", "total") if has else ""]
            rows.append(row)
        rows.append(["本年收入合计", Val(v.next(), "本年收入合计", "", "收入/金额", "income", "total"),
                     "本年支出合计", Val(v.next(), "本年支出合计", "", "支出/金额", "expenditure", "total")])
        return TableSpec(kind, title, [["收入", "", "支出", ""], ["项目", "金额", "项目", "金额"]], rows)
    if kind == "fiscal_summary":
        cols = ["支出/合计", "支出/一般公共预算/小计", "支出/一般公共预算/其中：财政拨款", "支出/政府性基金"]
        roles = ["total", "gp", "gp_fiscal", "gov_fund"]
        right = [("一、本年支出", (0, 1, 2, 3)), ("（一）一般公共服务支出", (0, 1, 2)), ("（二）教育支出", ()),
                 ("（三）城乡社区支出", (0, 3))]
        if spec.income_three_cells:
            left = [["一般公共预算", "小计", "一般公共预算/小计"], ["", "财政拨款", "一般公共预算/财政拨款"],
                    ["政府性基金", "", ""], ["", "", ""]]
            head = [["收入", "", "", "支出", "", "", "", ""],
                    ["项目", "", "金额", "项目", "合计", "一般公共预算", "", "政府性基金"],
                    ["", "", "", "", "", "小计", "其中：财政拨款", ""]]
        else:
            left = [["一、本年收入", "一、本年收入"], ["（一）一般公共预算拨款", "（一）一般公共预算拨款"],
                    ["（二）政府性基金预算拨款", "（二）政府性基金预算拨款"], ["二、上年结转", ""]]
            head = [["收入", "", "支出", "", "", "", ""], ["项目", "金额", "项目", "合计", "一般公共预算", "", "政府性基金"],
                    ["", "", "", "", "小计", "其中：财政拨款", ""]]
        rows = []
        for (lab, filled), lrow in zip(right, left, strict=True):
            *lcells, lname = lrow
            row: list[Cell] = list(lcells)
            row.append(Val(v.next(), lname, "", "收入/金额", "income", "total") if lname else "")
            row.append(lab)
            row += [Val(v.next(), lab, "", cols[k], "expenditure", roles[k]) if k in filled else ""
                    for k in range(len(cols))]
            rows.append(row)
        return TableSpec(kind, title, head, rows)
    if kind == "income":
        cols = ["总计", "本年收入/合计", "本年收入/一般公共预算/小计", "本年收入/一般公共预算/其中：财政拨款",
                "本年收入/政府性基金", "本年收入/事业收入", "上年结转结余/合计", "上年结转结余/一般公共预算"]
        roles = ["total", "current", "gp", "gp_fiscal", "gov_fund", "business_income", "carryover", "carryover_gp"]
        header = [["部门（单位）代码", "部门（单位）名称", "总计", "本年收入", "", "", "", "", "上年结转结余", ""],
                  ["", "", "", "合计", "一般公共预算", "", "政府性基金", "事业收入", "合计", "一般公共预算"],
                  ["", "", "", "", "小计", "其中：财政拨款", "", "", "", ""]]
        rows = []
        for code, name, filled in [("", "合计", (0, 1, 2, 3, 4, 5, 6, 7)), ("086", "开封市文化广电和旅游局", (0, 1, 2, 3, 6)),
                                   ("086001", "开封市文化广电和旅游局本级", (0, 1, 2, 3)),
                                   ("086002", "开封市文化馆", (0, 1, 4, 5, 6, 7))]:
            rows.append([code, name] + [Val(v.next(), name, code, cols[k], role=roles[k]) if k in filled else ""
                                        for k in range(len(cols))])
        return TableSpec(kind, title, header, rows, label_col=1)
    if kind == "gp_basic":
        cols = ["本年一般公共预算基本支出/合计", "本年一般公共预算基本支出/人员经费", "本年一般公共预算基本支出/公用经费"]
        roles = ["total", "personnel", "public"]
        header = [["部门预算支出经济分类科目", "", "政府预算支出经济分类科目编码", "", "本年一般公共预算基本支出", "", ""],
                  ["科目编码", "科目名称", "科目编码", "科目名称", "合计", "人员经费", "公用经费"]]
        items = [("30101", "基本工资", "50101", "工资奖金津补贴", 1), ("30101", "基本工资", "50501", "工资福利支出", 1),
                 ("30201", "办公费", "50201", "办公经费", 2), ("30201", "办公费", "50502", "商品和服务支出", 2),
                 ("30302", "退休费", "50905", "离退休费", 1), ("30112", "其他社会保障缴费", "50102", "社会保障缴费", 1)]
        rows = [["合计", "", "", ""] + [Val(v.next(), "合计", "", cols[k], role=roles[k]) for k in range(3)]]
        for code, name, gcode, gname, k in items:
            rows.append([code, name, gcode, gname, Val(v.next(), name, code, cols[0], role="total")]
                        + [Val(v.next(), name, code, cols[j], role=roles[j]) if j == k else "" for j in (1, 2)])
        return TableSpec(kind, title, header, rows, label_col=1)
    if kind == "economic":
        cols = ["总计", "一般公共预算/小计", "一般公共预算/其中：财政拨款", "政府性基金"]
        roles = ["total", "gp", "gp_fiscal", "gov_fund"]
        header = [["部门预算经济分类", "", "", "政府预算经济分类", "", "", "总计", "一般公共预算", "", "政府性基金"],
                  ["类", "款", "科目名称", "类", "款", "科目名称", "", "小计", "其中：财政拨款", ""]]
        rows = [["", "", "合计", "", "", ""] + [Val(v.next(), "合计", "", cols[k], role=roles[k]) for k in range(4)],
                ["086", "", "开封市文化广电和旅游局", "", "", ""]
                + [Val(v.next(), "开封市文化广电和旅游局", "086", cols[k], role=roles[k]) for k in range(3)] + [""]]
        for code, name, gcode, gname, filled in [("30101", "基本工资", "50501", "工资福利支出", (0, 1, 2)),
                                                 ("30102", "津贴补贴", "50501", "工资福利支出", (0, 1, 2)),
                                                 ("30201", "办公费", "50502", "商品和服务支出", (0, 1, 2, 3)),
                                                 ("30227", "委托业务费", "50502", "商品和服务支出", (0, 3))]:
            rows.append([code[:3], code[3:], name, gcode[:3], gcode[3:], gname]
                        + [Val(v.next(), name, code, cols[k], role=roles[k]) if k in filled else "" for k in range(4)])
        return TableSpec(kind, title, header, rows, label_col=2)
    if kind == "sangong":
        if spec.sangong_layout == "list":
            col = f"{spec.year}年“三公”经费预算数"
            items = [("共计", "sangong_total"), ("1、因公出国（境）费用", "sangong_abroad"), ("2、公务接待费", "sangong_reception"),
                     ("3、公务用车费", "sangong_vehicle"), ("其中：（1）公务用车运行维护费", "sangong_vehicle_operation"),
                     ("（2）公务用车购置", "sangong_vehicle_purchase")]
            rows = [[lab, Val(v.next(), lab, "", col, role=role)] for lab, role in items]
            return TableSpec(kind, title, [["项目", col]], rows)
        cols = ["“三公”经费合计", "因公出国（境）费", "公务用车购置及运行费/小计", "公务用车购置及运行费/公务用车购置费",
                "公务用车购置及运行费/公务用车运行费", "公务接待费"]
        roles = ["sangong_total", "sangong_abroad", "sangong_vehicle", "sangong_vehicle_purchase",
                 "sangong_vehicle_operation", "sangong_reception"]
        header = [["“三公”经费合计", "因公出国（境）费", "公务用车购置及运行费", "", "", "公务接待费"],
                  ["", "", "小计", "公务用车购置费", "公务用车运行费", ""]]
        return TableSpec(kind, title, header, [[Val(v.next(), "", "", cols[k], role=roles[k]) for k in range(6)]])
    if kind == "projects":
        cols = ["合计", "本年拨款/一般公共预算", "本年拨款/政府性基金预算", "财政拨款结转结余/一般公共预算"]
        roles = ["total", "gp", "gov_fund", "carryover_gp"]
        header = [["类型", "项目名称", "项目单位", "合计", "本年拨款", "", "财政拨款结转结余"],
                  ["", "", "", "", "一般公共预算", "政府性基金预算", "一般公共预算"]]
        rows = [["", "", ""] + [Val(v.next(), "", "", cols[k], role=roles[k]) for k in range(3)] + [""],
                ["", "086", "开封市文化广电和旅游局"] + [Val(v.next(), "开封市文化广电和旅游局", "086", cols[k], role=roles[k])
                                               for k in range(2)] + ["", ""]]
        for cat, name, filled in [("其他运转类", "【基本运转】文化馆运行经费", (0, 1)),
                                  ("特定目标类", "【专项资金】非遗保护专项资金", (0, 1, 2, 3))]:
            rows.append([cat, name, "开封市文化馆"] + [Val(v.next(), name, "", cols[k], role=roles[k]) if k in filled else ""
                                                 for k in range(4)])
        return TableSpec(kind, title, header, rows, label_col=1)
    raise ValueError(kind)


def make_tables(kinds: list[str], spec: DocSpec, seed: int = 0) -> list[TableSpec]:
    v = _Values(seed)
    return [_table(k, v, spec) for k in kinds]


def _fmt(value: Decimal, spec: DocSpec) -> str:
    if spec.unit == "元":
        value = (value * 10000).quantize(Decimal("0.01"))
    return f"{value:,}" if spec.thousands else str(value)


def _line(cells: list[str], spec: DocSpec) -> str:
    return "| " + " | ".join(cells) + " |" if spec.style == "pipe" else "\t".join(cells)


def _grid_lines(rows: list[list[str]], spec: DocSpec, header: bool) -> list[str]:
    out = [_line(r, spec) for r in rows]
    if header and spec.style == "pipe" and out:
        out.insert(1, "|" + "|".join("----" for _ in rows[0]) + "|")
    return out


def render_table(t: TableSpec, spec: DocSpec, expects: list[Expect]) -> list[str]:
    """The printed lines of one table (title, 部门名称, 单位, header, rows, note); fills `expects`."""
    lines = [f"{spec.year}年{t.title}", "", f"部门名称：{spec.department}", "", f"单位：{spec.unit}", ""]
    lines += _grid_lines(t.header, spec, header=True)
    cut, second = t.split if t.split else (len(t.rows), [])
    lines += [_line(render_row(r, t, spec, expects), spec) for r in t.rows[:cut]]
    lines += second
    lines += [_line(render_row(r, t, spec, expects), spec) for r in t.rows[cut:]]
    return lines + ["", t.note, ""]


def render_row(row: list[Cell], t: TableSpec, spec: DocSpec, expects: list[Expect]) -> list[str]:
    out = []
    for c in row:
        if isinstance(c, Val):
            raw = _fmt(c.value, spec)
            expects.append(Expect(t.kind, c.label, c.code, c.column, Decimal(raw.replace(",", "")), raw, c.side,
                                  c.role))
            out.append(raw)
        else:
            out.append(c)
    return out


def render_document(tables: list[TableSpec], spec: DocSpec) -> tuple[str, list[Expect]]:
    expects: list[Expect] = []
    parts = []
    if spec.cover:
        parts += ["", f"{spec.department}", f"{spec.year}年度部门{spec.kind}", "", "目 录", "",
                  "第一部分 部门概况", "", "一、主要职责", "", f"{spec.department}负责全市文化旅游工作。", ""]
    for t in tables:
        parts += render_table(t, spec, expects)
    text = "\n".join(parts) + "\n"
    raws = [e.raw for e in expects]
    assert len(set(raws)) == len(raws), "amounts of a built document must be unique"
    return text, expects


def build_document(kinds: list[str], spec: DocSpec | None = None, damage: str = "", seed: int = 0
                   ) -> tuple[str, list[Expect]]:
    """A document with the given tables, rendered per `spec`, with one kind of damage applied."""
    spec = spec or DocSpec()
    tables = make_tables(kinds, spec, seed)
    if damage:
        for t in tables:
            DAMAGES[damage](t, spec)
    return render_document(tables, spec)


# ---- damage applied to one table spec ---------------------------------------------------------------

def page_split(t: TableSpec, spec: DocSpec, *, title: str = "repeat", marker: str = "- 7 -") -> None:
    """Break the table after half of its rows; the next page repeats the title (or '（续）', or none: only
    a page number), the 部门/单位 lines and the header rows."""
    if len(t.rows) < 2:
        return
    cut = max(1, len(t.rows) // 2)
    if title == "none":
        second = ["", marker, ""] + _grid_lines(t.header, spec, header=True)
    else:
        name = f"{spec.year}年{t.title}" + ("（续）" if title == "continued" else "")
        second = ["", marker, "", name, "", f"部门名称：{spec.department}", "", f"单位：{spec.unit}", ""]
        second += _grid_lines(t.header, spec, header=True)
    t.split = (cut, second)


def wrapped_cell(t: TableSpec, spec: DocSpec) -> None:
    """The longest label of the table wraps: its last two characters go to a line of their own."""
    best = None
    for i, row in enumerate(t.rows):
        c = row[t.label_col] if t.label_col < len(row) else ""
        if isinstance(c, str) and len(c) >= 5 and not c.startswith(("合计", "总计")) and (
                best is None or len(c) > len(t.rows[best][t.label_col])):
            best = i
    if best is None:
        return
    row = t.rows[best]
    full = row[t.label_col]
    assert isinstance(full, str)
    row[t.label_col] = full[:-2]
    tail: list[Cell] = [""] * len(row)
    tail[t.label_col] = full[-2:]
    t.rows.insert(best + 1, tail)


def reordered_rows(t: TableSpec, spec: DocSpec) -> None:
    """Data rows after the totals printed in reverse order (templates do not sort them)."""
    keep = 2 if t.kind in ("expenditure", "income", "economic", "projects") else 1
    if t.kind in ("summary", "fiscal_summary", "sangong"):
        return
    t.rows = t.rows[:keep] + t.rows[keep:][::-1]


def merged_blanks(t: TableSpec, spec: DocSpec) -> None:
    """Cells merged over several rows print once: 类/款 of functional codes, the 部门经济分类 class of the
    汇总表, and the whole 部门经济分类 item of the 基本支出表 when it spans two 政府经济分类 rows."""
    span = {"expenditure": 3 if spec.code_style == "cells" else 0, "economic": 1, "gp_basic": 2}.get(t.kind, 0)
    prev: list[Cell] = []
    for row in t.rows:
        head = list(row[:span])
        if t.kind == "gp_basic":
            if head and head == prev and head[0]:
                row[0:2] = ["", ""]
        else:
            for k in range(span - 1 if t.kind == "expenditure" else span):
                if head[k] and prev[:k + 1] == head[:k + 1]:
                    row[k] = ""
        prev = head


def _noop(t: TableSpec, spec: DocSpec) -> None:
    return None


DAMAGES = {
    "clean": _noop,
    "page_split": page_split,
    "page_split_continued": lambda t, s: page_split(t, s, title="continued"),
    "page_split_untitled": lambda t, s: page_split(t, s, title="none", marker="第 3 页"),
    "wrapped_cell": wrapped_cell,
    "reordered_rows": reordered_rows,
    "merged_blanks": merged_blanks,
}


# ---- checking an extraction against a built document's expectations ----------------------------------

_WS = re.compile(r"\s+")


def _norm(s: str) -> str:
    return _WS.sub("", s or "")


def occurrences(text: str, raw: str) -> list[int]:
    """Start offsets of `raw` printed as a whole number (not inside a longer one)."""
    return [m.start() for m in re.finditer(rf"(?<![\d.,]){re.escape(raw)}(?![\d.,])", text)]


def check_expectations(doc, text: str, expects: list[Expect], unit: str) -> list[str]:
    """Every expected amount is extracted once, from its own characters (quote == source span), into the
    right table, row (label, code, side), column path and role, with its value and unit; nothing else is
    extracted. Returns the problems found (empty when all is right)."""
    cells = {}
    for t, r, c in doc.amounts():
        p = c.amount.prov
        cells[p.char_start] = (t, r, c)
    problems = []
    for e in expects:
        where = occurrences(text, e.raw)
        if len(where) != 1:
            problems.append(f"{e.raw}: printed {len(where)} times")
            continue
        got = cells.get(where[0])
        if got is None:
            problems.append(f"{e.raw} ({e.kind} / {e.label} / {e.column}): not extracted")
            continue
        t, r, c = got
        p = c.amount.prov
        have = {"table": t.kind.value, "label": _norm(r.label), "code": r.code, "column": c.column,
                "value": c.amount.value, "unit": c.amount.unit,
                "quote": (p.quote, text[p.char_start:p.char_end], c.amount.raw)}
        want = {"table": e.kind, "label": _norm(e.label), "code": e.code, "column": e.column, "value": e.value,
                "unit": unit, "quote": (e.raw, e.raw, e.raw)}
        if e.role:
            have["role"], want["role"] = c.role, e.role
        if e.side:
            have["side"], want["side"] = r.side, e.side
        diff = {k: (want[k], have[k]) for k in want if want[k] != have[k]}
        if diff:
            problems.append(f"{e.raw}: " + "; ".join(f"{k} want {w!r} got {h!r}" for k, (w, h) in diff.items()))
        elif r.label_prov is not None and e.label and text.count("\n", r.label_prov.char_start, p.char_start):
            problems.append(f"{e.raw}: label {r.label!r} is not on the amount's line")
    extra = len(cells) - len(expects)
    if extra:
        problems.append(f"{extra} amount cell(s) extracted beyond the {len(expects)} printed")
    return problems


# ---- transforms of a real document (the extraction of the result must match the original's) ----------

def _is_tsv(line: str) -> bool:
    return "\t" in line and not line.lstrip().startswith("|")


def _is_pipe(line: str) -> bool:
    s = line.strip()
    return s.startswith("|") and s.count("|") >= 2


def _pipe_cells(line: str) -> list[str]:
    s = line.strip()
    return [c.strip() for c in s[1:s.rfind("|")].split("|")]


def _is_pipe_rule(line: str) -> bool:
    return _is_pipe(line) and all(re.fullmatch(r":?-{2,}:?", c) for c in _pipe_cells(line))


def to_pipe(text: str) -> str:
    """TSV tables -> markdown pipe tables (a rule line after the first row of every run of rows)."""
    out, in_run = [], False
    for line in text.split("\n"):
        if _is_tsv(line):
            cells = line.split("\t")
            out.append("| " + " | ".join(c.strip() for c in cells) + " |")
            if not in_run:
                out.append("|" + "|".join("---" for _ in cells) + "|")
            in_run = True
        else:
            out.append(line)
            in_run = False
    return "\n".join(out)


def to_tsv(text: str) -> str:
    """Markdown pipe tables -> TSV."""
    out = []
    for line in text.split("\n"):
        if _is_pipe_rule(line):
            continue
        out.append("\t".join(_pipe_cells(line)) if _is_pipe(line) else line)
    return "\n".join(out)


def _amount_spans(text: str) -> list[tuple[int, int, str]]:
    from .cellscan import amount_cells

    return amount_cells(text)


def _rewrite_amounts(text: str, fn) -> str:
    out, pos = [], 0
    for s, e, t in _amount_spans(text):
        out.append(text[pos:s])
        out.append(fn(t))
        pos = e
    out.append(text[pos:])
    return "".join(out)


def with_thousands(text: str) -> str:
    """Table amounts printed with thousands separators (1042.10 -> 1,042.10)."""
    def fmt(t: str) -> str:
        d = Decimal(t.replace(",", ""))
        return f"{d:,}"
    return _rewrite_amounts(text, fmt)


def to_yuan(text: str) -> str:
    """Tables in 元 instead of 万元: every table amount ×10000, the 单位 lines say 元."""
    text = re.sub(r"(?m)^(\s*\|?\s*(?:金额)?单位\s*[：:]\s*)万元", r"\g<1>元", text)
    return _rewrite_amounts(text, lambda t: f"{(Decimal(t.replace(',', '')) * 10000).quantize(Decimal('0.01'))}")


def join_codes(text: str) -> str:
    """Functional codes printed '201 03 01' -> '2010301' (one cell, digits joined)."""
    return re.sub(r"(?m)(^|\t|\| )(\d{3}) (\d{2}) (\d{2})(?=\t| \|)", r"\1\2\3\4", text)


def with_crlf(text: str) -> str:
    return text.replace("\n", "\r\n")


def encode(text: str, encoding: str, bom: bool = False) -> bytes:
    """The document's bytes in `encoding`, with or without its byte-order mark."""
    boms = {"utf-8": b"\xef\xbb\xbf", "utf-16-le": b"\xff\xfe", "utf-16-be": b"\xfe\xff"}
    data = text.encode(encoding)
    return (boms[encoding] + data) if bom else data


_TITLE_LINE = re.compile(r"^[#\s*]*(?:\d{4}\s*年度?\s*)?\S.{0,38}?(?:表|预算|决算)[*\s]*$")


def table_chunks(text: str) -> tuple[str, list[list[str]]]:
    """(text before the first table, tables as groups of line blocks): a block runs from a title line (a
    short line ending in 表/预算/决算 followed by grid rows within 8 lines) to the next; consecutive blocks
    with the same title (a page split) stay in one group."""
    lines = text.split("\n")
    starts = []
    for i, line in enumerate(lines):
        if _is_tsv(line) or _is_pipe(line) or not _TITLE_LINE.match(line):
            continue
        ahead = lines[i + 1:i + 9]
        if any(_is_tsv(x) or _is_pipe(x) for x in ahead):
            starts.append(i)
    if not starts:
        return text, []
    head = "\n".join(lines[:starts[0]])
    groups: list[list[str]] = []
    last_title = None
    for k, s in enumerate(starts):
        end = starts[k + 1] if k + 1 < len(starts) else len(lines)
        block = "\n".join(lines[s:end])
        title = re.sub(r"\s", "", lines[s])
        if title == last_title:
            groups[-1].append(block)
        else:
            groups.append([block])
        last_title = title
    return head, groups


def reorder_tables(text: str) -> str:
    """The tables in reverse order (page-split pieces kept together and in order)."""
    head, groups = table_chunks(text)
    if not groups:
        return text
    body = ["\n".join(g) for g in groups[::-1]]
    return head + "\n" + "\n\n".join(b.rstrip("\n") for b in body) + "\n"


def split_page(text: str, title_word: str, marker: str = "- 12 -", repeat_title: bool = True) -> str:
    """Break the first table whose title contains `title_word` a third into its data rows: a page number,
    then (optionally) the title, 部门/单位 lines and header rows printed again."""
    head, groups = table_chunks(text)
    for gi, group in enumerate(groups):
        block = group[0]
        lines = block.split("\n")
        if title_word not in lines[0]:
            continue
        grid = [i for i, x in enumerate(lines) if _is_tsv(x) or _is_pipe(x)]
        amount_rows = [i for i in grid if _amount_spans(lines[i])]
        if len(amount_rows) < 2:
            continue
        first_data = amount_rows[0]
        header = [lines[i] for i in grid if i < first_data]
        preamble = [x for x in lines[1:grid[0]] if x.strip()]
        cut = amount_rows[max(1, len(amount_rows) // 3)]
        insert = ["", marker, ""]
        if repeat_title:
            insert += [lines[0], ""] + [p + "\n" for p in preamble]
        insert += header
        lines[cut:cut] = insert
        group[0] = "\n".join(lines)
        groups[gi] = group
        return head + "\n" + "\n".join("\n".join(g) for g in groups)
    raise ValueError(f"no table with {title_word!r} and two data rows")


def rename(text: str, old: str, new: str, year_from: int, year_to: int) -> str:
    """Another department and year: names and years (as '2024年' / '2024 年') replaced everywhere."""
    text = text.replace(old, new)
    return re.sub(rf"(?<!\d){year_from}(?=\s*年)", str(year_to), text)


def signature(doc, scale: Decimal = Decimal(1), kinds: set[str] | None = None) -> list[tuple]:
    """What was extracted, independent of layout: (table, side, row label, code, column, role, value)."""
    out = []
    for t, r, c in doc.amounts():
        if kinds is not None and t.kind.value not in kinds:
            continue
        out.append((t.kind.value, r.side, _norm(r.label), r.code, c.column, c.role, c.amount.value * scale))
    return sorted(out)
