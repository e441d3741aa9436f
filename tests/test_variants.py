"""Generalisation on the real samples: each transform (pipe <-> TSV, thousands separators, 元 instead of
万元, reordered tables, page splits, joined codes, other department/year, encodings, CRLF) must give the same
extraction as the original, with every quote still its exact source span; plus metadata detection (title,
department, region, year, kind) on layouts not in the samples and table titles by alias."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from extractor.load import load_text_bytes, normalise_newlines
from extractor.models import TableKind
from extractor.pipeline import extract_text
from extractor.tables.registry import classify_title

from .cellscan import amount_cells
from .conftest import SEEDS
from .variants import (
    ALIASES,
    DocSpec,
    build_document,
    check_expectations,
    encode,
    join_codes,
    rename,
    reorder_tables,
    signature,
    split_page,
    to_pipe,
    to_tsv,
    to_yuan,
    with_crlf,
    with_thousands,
)

NAMES = [p.name for p in SEEDS]
PERFORMANCE = {"dept_performance", "project_performance"}
NON_PERFORMANCE = {k.value for k in TableKind} - PERFORMANCE


def _extract(text: str, name: str = "variant.txt"):
    return extract_text(load_text_bytes(text.encode("utf-8"), Path(name)))


@pytest.fixture(scope="module")
def originals():
    out = {}
    for p in SEEDS:
        text = normalise_newlines(p.read_text(encoding="utf-8"))
        out[p.name] = (text, _extract(text, p.name))
    return out


def _assert_provenance(doc, text: str) -> None:
    n = 0
    for _, _, c in doc.amounts():
        p = c.amount.prov
        assert text[p.char_start:p.char_end] == p.quote == c.amount.raw
        n += 1
    assert n > 30


def _coverage(doc, text: str) -> float:
    got = {(c.amount.prov.char_start, c.amount.prov.char_end) for _, _, c in doc.amounts()}
    cells = amount_cells(text)
    return sum((s, e) in got for s, e, _ in cells) / len(cells)


# (id, transform, signature scale, kinds compared)
TRANSFORMS = [
    ("pipe", to_pipe, 1, None),
    ("tsv", to_tsv, 1, None),
    ("pipe_then_tsv", lambda t: to_tsv(to_pipe(t)), 1, None),
    ("thousands", with_thousands, 1, None),
    ("yuan", to_yuan, 10000, NON_PERFORMANCE),
    ("reordered_tables", reorder_tables, 1, None),
    ("joined_codes", join_codes, 1, None),
]
CASES = [(name, t) for name in NAMES for t in TRANSFORMS]


@pytest.mark.parametrize(("name", "transform"), CASES, ids=[f"{t[0]}-{n[:3]}" for n, t in CASES])
def test_transform_keeps_extraction(originals, name, transform):
    _id, fn, scale, kinds = transform
    text, doc = originals[name]
    variant = fn(text)
    vdoc = _extract(variant)
    _assert_provenance(vdoc, variant)
    assert _coverage(vdoc, variant) >= 0.99
    assert signature(vdoc, Decimal(1) / Decimal(scale), kinds) == signature(doc, Decimal(1), kinds)
    assert (vdoc.department, vdoc.year, vdoc.kind) == (doc.department, doc.year, doc.kind)
    if _id == "yuan":
        assert {t.unit for t in vdoc.tables if t.kind.value not in PERFORMANCE} == {"元"}


SPLITS = [("000_97e268639aa13181.txt", "支出总体情况表"), ("001_b6e9d1983a777b41.txt", "基本支出表"),
          ("003_a0ea54e8da336276.txt", "收支预算表"), ("004_ad7e3975b1f23db3.txt", "支出经济分类汇总表"),
          ("002_21a7bad79436d507.txt", "收入总体情况表")]


@pytest.mark.parametrize(("name", "title", "repeat"), [(n, t, r) for n, t in SPLITS for r in (True, False)],
                         ids=[f"{n[:3]}-{'titled' if r else 'untitled'}" for n, _ in SPLITS for r in (True, False)])
def test_page_split_in_a_sample_table(originals, name, title, repeat):
    text, doc = originals[name]
    variant = split_page(text, title, repeat_title=repeat)
    assert variant != text
    vdoc = _extract(variant)
    _assert_provenance(vdoc, variant)
    assert signature(vdoc) == signature(doc)
    assert len(vdoc.tables) == len(doc.tables)
    before = {t.title: t.parts for t in doc.tables}
    assert any(t.parts == before.get(t.title, 1) + 1 for t in vdoc.tables if title in t.title)


@pytest.mark.parametrize("name", NAMES, ids=[n[:3] for n in NAMES])
def test_renamed_department_and_year(originals, name):
    text, doc = originals[name]
    new_dept = "驻马店市审计局"
    old = doc.department
    variant = rename(text, old, new_dept, doc.year, doc.year + 2)
    vdoc = _extract(variant)
    assert vdoc.department == new_dept and vdoc.year == doc.year + 2 and vdoc.region == "驻马店市"
    renamed = [(k, side, label.replace(new_dept, old), code, column.replace(str(doc.year + 2), str(doc.year)), *rest)
               for k, side, label, code, column, *rest in signature(vdoc)]
    assert sorted(renamed) == signature(doc)


ENCODINGS = [("utf-8", False), ("utf-8", True), ("gb18030", False), ("utf-16-le", True), ("utf-16-be", True),
             ("utf-16-le", False), ("utf-16-be", False)]


@pytest.mark.parametrize(("encoding", "bom"), ENCODINGS, ids=[f"{e}{'-bom' if b else ''}" for e, b in ENCODINGS])
@pytest.mark.parametrize("crlf", [False, True], ids=["lf", "crlf"])
def test_encodings_and_newlines(originals, encoding, bom, crlf):
    name = NAMES[3]
    text, doc = originals[name]
    data = encode(with_crlf(text) if crlf else text, encoding, bom)
    loaded = load_text_bytes(data, Path(name))
    assert loaded.text == text and loaded.doc_id == doc.doc_id
    assert loaded.encoding.replace("-sig", "") in (encoding, "utf-16-le" if encoding.startswith("utf-16") else "")
    assert signature(extract_text(loaded)) == signature(doc)


# ---- metadata on layouts not in the samples ---------------------------------------------------------

COVERS = [
    ("markdown_heading", "# 洛阳市教育局2025年部门预算\n\n目录\n", "洛阳市教育局2025年部门预算", "洛阳市教育局", 2025, "预算"),
    ("two_line_cover", "\n洛阳市教育局\n2025 年度部门预算公开\n\n二〇二五年三月\n", "洛阳市教育局2025年度部门预算公开",
     "洛阳市教育局", 2025, "预算"),
    ("final_accounts", "**洛阳市教育局2024年度部门决算**\n\n目 录\n", "洛阳市教育局2024年度部门决算", "洛阳市教育局", 2024,
     "决算"),
    ("chinese_numeral_year", "洛阳市教育局\n二〇二五年部门预算说明\n", "洛阳市教育局二〇二五年部门预算说明", "洛阳市教育局", 2025,
     "预算"),
    ("no_cover", "", "", "洛阳市教育局", 2025, "预算"),
]


@pytest.mark.parametrize(("cover", "expected_title", "dept", "year", "kind"),
                         [c[1:] for c in COVERS], ids=[c[0] for c in COVERS])
@pytest.mark.parametrize("dept_line", [True, False], ids=["with_dept_line", "without_dept_line"])
def test_document_metadata(cover, expected_title, dept, year, kind, dept_line):
    spec = DocSpec(department=dept, year=year, kind=kind, cover=False)
    body, expects = build_document(["summary", "expenditure"], spec)
    if not dept_line:
        body = body.replace(f"部门名称：{dept}", "")
    if not cover and not dept_line:
        body = f"{dept}{year}年度收入总计100.00万元。\n\n" + body
    text = cover + "\n" + body
    doc = _extract(text)
    assert (doc.department, doc.year, doc.kind, doc.region) == (dept, year, kind, "洛阳市")
    assert doc.title == (expected_title or f"{dept}{year}年度部门{kind}")
    assert check_expectations(doc, text, expects, "万元") == []


@pytest.mark.parametrize("unit", ["万元", "元"])
def test_table_unit_lines(unit):
    spec = DocSpec(unit=unit)
    text, expects = build_document(["income", "gp_basic"], spec)
    doc = _extract(text)
    assert doc.unit == unit and {t.unit for t in doc.tables} == {unit}
    assert check_expectations(doc, text, expects, unit) == []


ALIAS_CASES = [(kind, alias) for kind, names in ALIASES.items() for alias in names]


@pytest.mark.parametrize(("kind", "alias"), ALIAS_CASES, ids=[f"{k}-{a}" for k, a in ALIAS_CASES])
def test_title_alias(kind, alias):
    assert classify_title(f"2025年{alias}") == TableKind(kind)
    if kind == "gov_fund":
        return   # an empty table: nothing to check cell by cell
    spec = DocSpec(title_aliases={kind: alias})
    text, expects = build_document([kind], spec)
    doc = _extract(text)
    assert [t.kind.value for t in doc.tables] == [kind]
    assert check_expectations(doc, text, expects, "万元") == []


@pytest.mark.parametrize("title", ["收入支出决算总表", "收入决算表", "支出决算表", "财政拨款收入支出决算总表",
                                   "一般公共预算财政拨款支出决算表", "一般公共预算财政拨款基本支出决算表",
                                   "政府性基金预算财政拨款收入支出决算表", "“三公”经费支出决算表"])
def test_final_account_titles(title):
    expected = {"收入支出决算总表": "summary", "收入决算表": "income", "支出决算表": "expenditure",
                "财政拨款收入支出决算总表": "fiscal_summary", "一般公共预算财政拨款支出决算表": "gp_expenditure",
                "一般公共预算财政拨款基本支出决算表": "gp_basic", "政府性基金预算财政拨款收入支出决算表": "gov_fund",
                "“三公”经费支出决算表": "sangong"}[title]
    assert classify_title(title) == TableKind(expected)
    assert classify_title(f"{title}（续）") == TableKind(expected)
