"""Fast checks of the hand-labeled fixtures: every gold quote is found (via its unique anchor) in its source
and parses to the gold value; every QA case is well-formed and its printed numbers are in its sources."""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cache

import pytest

from evals.dataset import (
    FACT_NAMES,
    GOLD_DIR,
    QA_KINDS,
    SAMPLES,
    VALUE_TABLES,
    GoldDoc,
    conversations,
    load_gold,
    load_qa,
    load_text,
)
from extractor.departments import clean_department
from extractor.numbers import NUMBER_IN_TEXT_RE, chinese_int, fold_width, parse_amount, parse_comparison

GOLD_FILES = sorted(GOLD_DIR.glob("*.yaml"))
GOLD_IDS = [p.stem[:3] for p in GOLD_FILES]
QA = load_qa()

SIGNED_FACTS = {"total_change_amount", "total_change_pct", "sangong_change"}
COUNT_UNITS = {"个", "辆", "台（套）", "台", "套", "人", "次", "项", "家", "期"}
_UP = ("增加", "增长", "上升", "提高", "多")
_DOWN = ("减少", "下降", "降低", "减", "少")


@cache
def _gold(path_name: str) -> tuple[GoldDoc, str]:
    doc = load_gold(GOLD_DIR / path_name)
    text = load_text(doc.source)
    doc.resolve(text)
    return doc, text


def change_sign(before: str) -> int:
    """Sign a change takes from the nearest direction word before its number: 减少 12 -> -1, 增长 3% -> +1."""
    best, sign = -1, 0
    for words, s in ((_UP, 1), (_DOWN, -1)):
        for w in words:
            i = before.rfind(w)
            if i > best or (i == best and i >= 0 and len(w) > 1):
                best, sign = i, s
    return sign


@pytest.mark.parametrize(("before", "sign"), [
    ("与上年相比，增加 ", 1), ("比2023年减少", -1), ("下降", -1), ("增长", 1), ("与上年相比，持平", 0),
    ("减少3.2万元，下降", -1), ("增加3.2万元，增长", 1),
], ids=["increase", "decrease", "fall", "growth", "flat", "decrease-pct", "increase-pct"])
def test_change_sign_rule(before, sign):
    assert change_sign(before) == sign


def test_there_are_gold_files():
    assert GOLD_FILES, f"no gold YAML in {GOLD_DIR}"


@pytest.mark.parametrize("path", GOLD_FILES, ids=GOLD_IDS)
def test_gold_header(path):
    doc, text = _gold(path.name)
    assert (SAMPLES / doc.source).exists()
    assert path.stem == doc.stem, "gold file is named after its source"
    assert doc.kind in ("预算", "决算")
    assert doc.year and 2000 <= doc.year <= 2100
    assert clean_department(doc.department) and clean_department(doc.department) in re.sub(r"\s", "", text)
    assert doc.values, "a gold file labels values"


@pytest.mark.parametrize("path", GOLD_FILES, ids=GOLD_IDS)
def test_every_anchor_is_unique_and_holds_its_quote(path):
    doc, _ = _gold(path.name)
    assert doc.problems == [], "\n".join(doc.problems[:20])


@pytest.mark.parametrize("path", GOLD_FILES, ids=GOLD_IDS)
def test_gold_entries_use_the_documented_format(path):
    doc, _ = _gold(path.name)
    bad = []
    for v in doc.values:
        where = f"{path.name}:{v.yaml_line}"
        if v.extra_keys:
            bad.append(f"{where} unknown keys {v.extra_keys}")
        if v.table not in VALUE_TABLES:
            bad.append(f"{where} table {v.table!r} is not a table kind")
        if v.table == "narrative" and v.column not in FACT_NAMES:
            bad.append(f"{where} narrative fact name {v.column!r} is not in the README list")
        if not v.unit:
            bad.append(f"{where} has no unit")
        if v.code and not v.code.isdigit():
            bad.append(f"{where} code {v.code!r} is not normalised digits")
    for group in (doc.texts, doc.indicators):
        for e in group:
            if e.extra_keys:
                bad.append(f"{path.name}:{e.yaml_line} unknown keys {e.extra_keys}")
    assert not bad, "\n".join(bad[:20])


def _parse_gold_quote(quote: str, unit: str) -> Decimal | None:
    value = parse_amount(quote)
    if value is None and unit in COUNT_UNITS:
        n = chinese_int(quote)
        value = Decimal(n) if n is not None else None
    return value


@pytest.mark.parametrize("path", GOLD_FILES, ids=GOLD_IDS)
def test_every_quote_parses_to_its_gold_value(path):
    doc, text = _gold(path.name)
    bad = []
    for v in doc.values:
        if not v.resolved:
            continue  # reported by the anchor test
        where = f"{path.name}:{v.yaml_line} {v.table}/{v.row}/{v.column}"
        assert text[v.char_start:v.char_end] == v.quote
        parsed = _parse_gold_quote(v.quote, v.unit)
        if parsed is None:
            bad.append(f"{where}: quote {v.quote!r} does not parse as a number")
        elif v.table == "narrative" and v.column in SIGNED_FACTS:
            sign = change_sign(text[max(0, v.char_start - 12):v.char_start])
            if abs(parsed) != abs(v.value):
                bad.append(f"{where}: quote {v.quote!r} parses to {parsed}, gold {v.value}")
            elif sign and v.value != 0 and (v.value > 0) != (sign > 0):
                bad.append(f"{where}: gold {v.value} has the wrong sign for the text before it")
        elif parsed != v.value:
            bad.append(f"{where}: quote {v.quote!r} parses to {parsed}, gold {v.value}")
    assert not bad, "\n".join(bad[:20])


@pytest.mark.parametrize("path", GOLD_FILES, ids=GOLD_IDS)
def test_texts_and_indicators_match_their_source(path):
    doc, text = _gold(path.name)
    flat = re.sub(r"\s", "", text)
    bad = []
    for t in doc.texts:
        if t.text and re.sub(r"\s", "", t.text) not in flat:
            bad.append(f"{path.name}:{t.yaml_line} text is not in the source (whitespace aside)")
        if t.text and re.sub(r"\s", "", t.quote) not in re.sub(r"\s", "", t.text):
            bad.append(f"{path.name}:{t.yaml_line} quote is not part of its text")
    for ind in doc.indicators:
        where = f"{path.name}:{ind.yaml_line} {ind.level3}"
        if ind.value_text not in ind.anchor:
            bad.append(f"{where}: value_text {ind.value_text!r} is not in the anchor")
            continue
        cmp = parse_comparison(ind.value_text)
        if ind.number is None:
            if cmp is not None and cmp.number is not None:
                bad.append(f"{where}: {ind.value_text!r} holds a number but gold has none")
            continue
        if cmp is None:
            bad.append(f"{where}: {ind.value_text!r} does not parse as a comparison")
            continue
        # a bare number is an equality target: the README writes it with "="
        got = (cmp.comparator or "=", cmp.number, cmp.unit)
        if got != (ind.comparator, ind.number, ind.unit):
            bad.append(f"{where}: {ind.value_text!r} parses to {got}, gold {(ind.comparator, ind.number, ind.unit)}")
    assert not bad, "\n".join(bad[:20])


# ------------------------------------------------------------------------------------------------ QA


def test_qa_set_size_and_kinds():
    assert len(QA) >= 150
    kinds = QA.count_by(lambda c: c.kind)
    assert set(kinds) == set(QA_KINDS), f"kinds without a case: {set(QA_KINDS) - set(kinds)}"


def test_conversation_turns_are_contiguous():
    positions = {c.id: i for i, c in enumerate(QA.cases)}
    for conv, turns in conversations(QA).items():
        idx = [positions[t.id] for t in turns]
        assert idx == list(range(idx[0], idx[0] + len(idx))), f"conversation {conv} is not contiguous"
        assert 2 <= len(turns) <= 3, f"conversation {conv} has {len(turns)} turns"
    for c in QA:
        assert (c.kind == "followup") <= bool(c.conversation), f"{c.id}: a follow-up needs its conversation"


@pytest.mark.parametrize("case", QA.cases, ids=[c.id for c in QA.cases])
def test_qa_case_is_well_formed(case):
    assert case.question.strip()
    assert (case.kind == "abstain") == case.abstain or (case.abstain and case.kind == "followup")
    if case.abstain:
        assert case.expected_numbers == [] and case.expected_sources == []
        return
    assert case.expected_sources, "an answerable case names its source document(s)"
    for s in case.expected_sources:
        assert (SAMPLES / s).exists(), f"unknown source {s}"
    assert case.expected_numbers or case.expected_text, "an answerable case expects a number or a text"
    for n in case.expected_numbers:
        assert n.unit, "expected numbers carry their unit"


@cache
def _numbers_in(source: str) -> frozenset[Decimal]:
    text = fold_width(load_text(source))
    found = {Decimal(m.group(0).replace(",", "").replace("−", "-")) for m in NUMBER_IN_TEXT_RE.finditer(text)}
    for m in re.finditer(r"[零〇一二两三四五六七八九十百]+", text):
        n = chinese_int(m.group(0))
        if n is not None:
            found.add(Decimal(n))
    return frozenset(abs(x) for x in found)


PRINTED = [c for c in QA.cases if not c.abstain and not c.computed]


@pytest.mark.parametrize("case", PRINTED, ids=[c.id for c in PRINTED])
def test_expected_numbers_are_printed_in_the_cited_sources(case):
    """Numbers that are not computed (no formula in the note) must be printed in a cited document."""
    for n in case.expected_numbers:
        assert any(abs(n.value) in _numbers_in(s) for s in case.expected_sources), (
            f"{case.id}: {n.value}{n.unit} is not printed in {case.expected_sources} "
            "(if it is derived, write the formula in `note`)")
    if case.expected_text:
        assert any(case.expected_text in load_text(s) for s in case.expected_sources)
