"""Table parsing, table-driven: one case per table type × damage kind and per table type × rendering, on
documents written from scratch (tests/variants.py). Each case checks every printed amount: right table,
row (label, code, side), column path, role, value, unit, and quote == source span; nothing extra."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from extractor.load import load_text_bytes
from extractor.models import TableKind
from extractor.pipeline import extract_text

from .variants import DAMAGES, DocSpec, build_document, check_expectations

# table cases: id -> (kinds in the document, spec overrides)
TABLES = {
    "summary": (["summary"], {}),
    "income": (["income"], {}),
    "expenditure": (["expenditure"], {}),
    "fiscal_summary": (["fiscal_summary"], {}),
    "fiscal_summary_3cell_income": (["fiscal_summary"], {"income_three_cells": True}),
    "gp_basic": (["gp_basic"], {}),
    "economic": (["economic"], {}),
    "sangong_wide": (["sangong"], {}),
    "sangong_list": (["sangong"], {"sangong_layout": "list"}),
    "projects": (["projects"], {}),
}
RENDERINGS = {
    "tsv": {},
    "pipe": {"style": "pipe"},
    "thousands": {"thousands": True},
    "yuan": {"unit": "元", "thousands": True},
    "yuan_pipe": {"unit": "元", "style": "pipe"},
    "codes_spaced": {"code_style": "spaced"},
    "codes_joined": {"code_style": "joined"},
}


def _extract(text: str):
    return extract_text(load_text_bytes(text.encode("utf-8"), Path("built.txt")))


def _case(table: str, rendering: dict, damage: str):
    kinds, overrides = TABLES[table]
    spec = DocSpec(**{**overrides, **rendering})
    text, expects = build_document(kinds, spec, damage)
    return spec, text, expects, _extract(text)


# the wide 三公 table is a single row: nothing to split across pages or to wrap
DAMAGE_CASES = [(t, style, d) for t in TABLES for d in DAMAGES for style in ("tsv", "pipe")
                if not (t == "sangong_wide" and d.startswith(("page_split", "wrapped")))]


@pytest.mark.parametrize(("table", "style", "damage"), DAMAGE_CASES,
                         ids=[f"{t}-{d}-{s}" for t, s, d in DAMAGE_CASES])
def test_table_damage(table, style, damage):
    spec, text, expects, doc = _case(table, RENDERINGS[style], damage)
    assert expects
    assert check_expectations(doc, text, expects, spec.unit) == []
    kind = TableKind(TABLES[table][0][0])
    found = doc.tables_of(kind)
    assert len(found) == 1, f"{kind}: {len(found)} tables (a page split must stay one table)"
    if damage.startswith("page_split"):
        assert found[0].parts == 2
    if damage == "wrapped_cell":
        assert any("wrapped" in n for n in doc.notes)


RENDER_CASES = [(t, r) for t in TABLES for r in RENDERINGS]


@pytest.mark.parametrize(("table", "rendering"), RENDER_CASES, ids=[f"{t}-{r}" for t, r in RENDER_CASES])
def test_table_rendering(table, rendering):
    spec, text, expects, doc = _case(table, RENDERINGS[rendering], "clean")
    assert check_expectations(doc, text, expects, spec.unit) == []
    for t in doc.tables:
        assert t.unit == spec.unit   # amounts keep the printed unit, never rescaled


@pytest.mark.parametrize("rendering", list(RENDERINGS), ids=list(RENDERINGS))
def test_whole_document(rendering):
    """All table types in one document, in the template's order and reversed."""
    kinds = ["summary", "income", "expenditure", "fiscal_summary", "gp_basic", "economic", "sangong", "gov_fund",
             "projects"]
    for order in (kinds, kinds[::-1]):
        spec = DocSpec(**RENDERINGS[rendering])
        text, expects = build_document(order, spec)
        doc = _extract(text)
        assert check_expectations(doc, text, expects, spec.unit) == []
        assert [t.kind.value for t in doc.tables] == order
        assert (doc.department, doc.year, doc.kind, doc.unit) == (spec.department, spec.year, "预算", spec.unit)


@pytest.mark.parametrize("title", ["政府性基金预算支出情况表", "国有资本经营预算支出情况表", "国有资本经营预算"],
                         ids=["gov_fund", "state_capital", "state_capital_title_without_biao"])
def test_empty_table_is_recognised(title):
    text, expects = build_document(["gov_fund"], DocSpec(title_aliases={"gov_fund": title}))
    doc = _extract(text)
    assert not expects and not list(doc.amounts())
    (table,) = doc.tables
    assert table.kind == (TableKind.gov_fund if "基金" in title else TableKind.state_capital)
    assert table.empty
    assert [r.label for r in table.rows] == ["合计"] and table.rows[0].is_total
    assert table.columns[:2] == ["合计", "基本支出/小计"]


def test_row_kinds_and_codes():
    """Unit rows, functional rows (code as printed and normalised), project rows with category and unit."""
    for style in ("cells", "spaced", "joined"):
        doc = _extract(build_document(["expenditure", "projects"], DocSpec(code_style=style))[0])
        exp = doc.table(TableKind.expenditure)
        rows = {r.label: r for r in exp.rows}
        assert rows["合计"].is_total and not rows["合计"].code
        assert (rows["开封市文化馆"].code, rows["开封市文化馆"].code_kind) == ("086", "unit")
        run = rows["行政运行"]
        assert (run.code, run.code_kind) == ("2010301", "functional")
        assert run.code_raw == {"cells": "201 03 01", "spaced": "201 03 01", "joined": "2010301"}[style]
    proj = {r.label: r for r in doc.table(TableKind.projects).rows}
    assert proj[""].is_total
    unit = proj["开封市文化广电和旅游局"]
    assert (unit.code, unit.code_kind, unit.category) == ("086", "unit", "")
    special = proj["【专项资金】非遗保护专项资金"]
    assert (special.category, special.unit_name) == ("特定目标类", "开封市文化馆")
    assert {c.role for c in special.cells} == {"total", "gp", "gov_fund", "carryover_gp"}


def test_merged_blank_economic_item_spans_two_government_rows():
    doc = _extract(build_document(["gp_basic"], damage="merged_blanks")[0])
    rows = [r for r in doc.table(TableKind.gp_basic).rows if not r.is_total]
    assert [(r.code, r.label, r.gov_code) for r in rows] == [
        ("30101", "基本工资", "50101"), ("30101", "基本工资", "50501"), ("30201", "办公费", "50201"),
        ("30201", "办公费", "50502"), ("30302", "退休费", "50905"), ("30112", "其他社会保障缴费", "50102")]
    assert rows[1].label_prov is None and rows[0].label_prov.quote == "基本工资"


def test_sangong_roles_in_both_layouts():
    wide = _extract(build_document(["sangong"])[0]).table(TableKind.sangong)
    listed = _extract(build_document(["sangong"], DocSpec(sangong_layout="list"))[0]).table(TableKind.sangong)
    roles = ["sangong_total", "sangong_abroad", "sangong_vehicle", "sangong_vehicle_purchase",
             "sangong_vehicle_operation", "sangong_reception"]
    assert sorted(c.role for c in wide.rows[0].cells) == sorted(roles)
    assert sorted(c.role for r in listed.rows for c in r.cells) == sorted(roles)
    assert listed.rows[0].is_total and listed.rows[0].label == "共计"


def test_two_sided_three_cell_income_side():
    doc = _extract(build_document(["fiscal_summary"], DocSpec(income_three_cells=True))[0])
    income = [r for r in doc.table(TableKind.fiscal_summary).rows if r.side == "income"]
    assert [r.label for r in income][:3] == ["一般公共预算/小计", "一般公共预算/财政拨款", "政府性基金"]
    assert income[0].label_prov.quote == "小计"


def test_amounts_in_yuan_are_not_rescaled():
    text, expects = build_document(["expenditure"], DocSpec(unit="元", thousands=True))
    doc = _extract(text)
    total = doc.table(TableKind.expenditure).rows[0].get("total").amount
    assert total.unit == "元" and "," in total.raw and total.value == Decimal(total.raw.replace(",", ""))
