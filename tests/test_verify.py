"""The answer verifier: numbers read with their kind and unit, checked against cited evidence (unit-aware),
recomputed through supplied formulas, everything else flagged; years, dates, ordinals and codes skipped."""

from __future__ import annotations

from decimal import Decimal

import pytest

from extractor.models import Amount
from extractor.provenance import Provenance
from rag.verify import Evidence, Formula, VerifyError, scan_numbers, verify_answer


@pytest.mark.parametrize("text,expected", [
    ("收入总计286.55万元", [("286.55", "万元", "amount")]),
    ("收入总计 4,596.71 万元", [("4596.71", "万元", "amount")]),
    ("收入总计２８６．５５万元", [("286.55", "万元", "amount")]),
    ("约2.87亿元", [("2.87", "亿元", "amount")]),
    ("2865500元", [("2865500", "元", "amount")]),
    ("共286.55万", [("286.55", "万元", "amount")]),
    ("占51.14%", [("51.14", "%", "percent")]),
    ("占５１．１４％", [("51.14", "%", "percent")]),
    ("下降1.5个百分点", [("1.5", "个百分点", "percent")]),
    ("车辆2辆，设备1台（套）", [("2", "辆", "count"), ("1", "台（套）", "count")]),
    ("2024年收入", [("2024", "年", "year")]),
    ("2024年度部门预算", [("2024", "年度", "year")]),
    ("于2024年5月26日公布", [("2024526", "", "date")]),
    ("2024-05-26", [("20240526", "", "date")]),
    ("12月31日前完成", [("1231", "", "date")]),
    ("第3项", [("3", "项", "ordinal")]),
    ("第 12 名", [("12", "名", "ordinal")]),
    ("1. 收入\n2、支出", [("1", "", "ordinal"), ("2", "", "ordinal")]),
    ("（1）公务用车", [("1", "", "ordinal")]),
    ("科目2010301行政运行", [("2010301", "", "code")]),
    ("科目 201 03 01 行政运行", [("2010301", "", "code")]),
    ("单位代码062", [("62", "", "code")]),
    ("项目编码411000240000000054403", [("411000240000000054403", "", "code")]),
    ("编码：301", [("301", "", "code")]),
    ("金额为140", [("140", "", "number")]),
], ids=["wan", "thousands", "fullwidth", "yi", "yuan", "wan-short", "pct", "pct-fullwidth", "pct-points", "counts",
        "year", "year-du", "date-cn", "date-iso", "date-md", "ordinal", "ordinal-space", "list", "list-paren",
        "code-7", "code-spaced", "unit-code", "project-code", "code-word", "bare"])
def test_scan_numbers(text, expected):
    got = [(str(m.value), m.unit, m.kind) for m in scan_numbers(text)]
    assert got == expected
    for m in scan_numbers(text):
        assert text[m.start:m.end] == m.text


def _amount(value: str, unit: str) -> Amount:
    prov = Provenance(doc_id="d", source="d.txt", locator="收支总体情况表/收入总计", char_start=0, char_end=len(value),
                      quote=value)
    return Amount(value=Decimal(value.replace(",", "")), unit=unit, raw=value, prov=prov)


CITED = [Evidence(quote="2024年度收入总计286.55万元，支出总计286.55万元。"),
         Evidence(quote="51.14", unit="%"),
         Evidence(amounts=[_amount("4,596.71", "万元")]),
         Evidence(amounts=[("28655", "元")]),
         Evidence(quote="一般公共预算基本支出146.55万元，其中：人员经费133.91万元")]

VERIFY = [
    ("收入总计为286.55万元。", [("286.55", "万元", "verified", 0, None)]),
    ("收入总计为2,865,500元。", [("2865500", "元", "verified", 0, None)]),
    ("收入总计为２８６．５５万元。", [("286.55", "万元", "verified", 0, None)]),
    ("收入总计约0.0287亿元。", [("0.0287", "亿元", "verified", 0, None)]),
    ("收入总计约0.03亿元。", [("0.03", "亿元", "unverified", None, None)]),
    ("支出合计4596.71万元，约0.46亿元。", [("4596.71", "万元", "verified", 2, None), ("0.46", "亿元", "verified", 2, None)]),
    ("合计45,967,100元。", [("45967100", "元", "verified", 2, None)]),
    ("经费2.87万元。", [("2.87", "万元", "verified", 3, None)]),
    ("收入总计286.55元。", [("286.55", "元", "unverified", None, None)]),
    ("收入总计286.56万元。", [("286.56", "万元", "unverified", None, None)]),
    ("基本支出占51.14%。", [("51.14", "%", "verified", 1, None)]),
    ("基本支出占51.1%。", [("51.1", "%", "verified", 1, None)]),
    ("基本支出占51.2%。", [("51.2", "%", "unverified", None, None)]),
    ("人员经费占基本支出的91.37%。", [("91.37", "%", "computed", None, "133.91 / 146.55 * 100")]),
    ("人员经费占基本支出的91.40%。", [("91.40", "%", "unverified", None, None)]),
    ("公用经费为12.64万元。", [("12.64", "万元", "computed", None, "146.55 - 133.91")]),
    ("2024年第3季度，科目2010301（201 03 01）的单位代码062。", []),
]


@pytest.mark.parametrize("answer,expected", VERIFY, ids=[
    "wan", "yuan-converted", "fullwidth", "yi-rounded", "yi-too-rounded", "record-and-yi", "record-yuan",
    "tuple-record", "wrong-unit", "wrong-value", "pct", "pct-rounded", "pct-wrong", "computed", "computed-wrong",
    "computed-amount",
    "not-amounts"])
def test_verify_answer(answer, expected):
    formulas = [Formula("133.91 / 146.55 * 100", "%"), Formula("146.55 - 133.91", "万元")]
    got = [(c.value, c.unit, c.status, c.citation, c.formula) for c in verify_answer(answer, CITED, formulas)]
    assert got == expected


def test_formula_with_an_uncited_input_is_not_computed():
    checks = verify_answer("增长50.82%", [Evidence(quote="增加96.55万元")], [Formula("96.55 / 190 * 100", "%")])
    assert [c.status for c in checks] == ["unverified"]
    checks = verify_answer("增长50.82%", [Evidence(quote="增加96.55万元，上年190万元")], ["96.55 / 190 * 100"])
    assert [(c.status, c.formula) for c in checks] == [("computed", "96.55 / 190 * 100")]


def test_bad_formula_is_a_clear_error():
    with pytest.raises(VerifyError):
        verify_answer("占10%", [], [Formula("__import__('os')", "%")])


def test_json_shape_matches_the_ask_contract():
    check = verify_answer("收入总计286.55万元", CITED)[0]
    assert check.as_json() == {"value": "286.55", "unit": "万元", "status": "verified", "citation": 0, "formula": None}
