"""The evaluation package on small synthetic inputs: matching and metrics, QA scoring, suites that are not
available, the --baseline regression gate and report rendering."""

from __future__ import annotations

import json
import sys
import types
import xml.etree.ElementTree as ET
from decimal import Decimal
from pathlib import Path

import pytest

from evals import extraction, report, runner
from evals.dataset import GoldDoc, QACase, load_gold
from evals.metrics import PRF, number_matches, percentile, score_answer, score_answers, tolerance_for
from extractor.models import Amount, BudgetDocument, Cell, Fact, Table, TableKind, TableRow
from extractor.provenance import SourceRef
from ui.cli import main

TEXT = (
    "某某局2024年部门预算\n"
    "一、收入支出预算总体情况说明\n"
    "2024年收入总计286.55万元、支出总计286.55万元，与上年相比，减少12.5万元。\n"
    "支出总体情况表\n"
    "科目编码\t科目名称\t合计\t基本支出\n"
    "2010101\t行政运行\t100.00\t60.00\n"
    "2010350\t事业运行\t40\t40\n"
    "\n"
    "三公经费表\n"
    "合计\t2\n"
)

GOLD = """\
source: doc.txt
department: 某某局
year: 2024
kind: 预算
unit: 万元
values:
  - {table: narrative, row: "", code: "", column: revenue_total, value: "286.55", unit: 万元, quote: "286.55",
     anchor: "收入总计286.55"}
  - {table: narrative, row: "", code: "", column: expenditure_total, value: "286.55", unit: 万元, quote: "286.55",
     anchor: "支出总计286.55"}
  - {table: narrative, row: "", code: "", column: total_change_amount, value: "-12.5", unit: 万元, quote: "12.5",
     anchor: "减少12.5万元"}
  - {table: expenditure, row: 行政运行, code: "2010101", column: 合计, value: "100", unit: 万元, quote: "100.00",
     anchor: "行政运行\\t100.00"}
  - table: expenditure
    row: 行政运行
    code: "2010101"
    column: 基本支出  # shifted: belongs to 项目支出
    value: "60"
    unit: 万元
    quote: "60.00"
    anchor: "100.00\\t60.00"
  - {table: expenditure, row: 事业运行, code: "2010350", column: 合计, value: "40", unit: 万元, quote: "40",
     anchor: "事业运行\\t40"}
"""


@pytest.fixture()
def world(tmp_path: Path) -> tuple[GoldDoc, str]:
    (tmp_path / "doc.txt").write_text(TEXT, encoding="utf-8")
    path = tmp_path / "doc.yaml"
    path.write_text(GOLD, encoding="utf-8")
    gold = load_gold(path)
    assert gold.resolve(TEXT) == []
    return gold, TEXT


def _span(text: str, needle: str, after: str = "") -> tuple[int, int]:
    start = text.index(needle, text.index(after) + len(after) if after else 0)
    return start, start + len(needle)


def _doc(text: str, cells: list[tuple[str, str, str, str, str]] = (), facts: list[tuple[str, str, str, str]] = (),
         kind: TableKind = TableKind.expenditure) -> BudgetDocument:
    """cells: (row label, column, value, quote, text before the quote); facts: (name, value, quote, before)."""
    ref = SourceRef("d", "doc.txt", text)
    rows = []
    for label, column, value, quote, before in cells:
        s, e = _span(text, quote, before)
        amount = Amount(value=Decimal(value), unit="万元", raw=quote, prov=ref.span(s, e, label))
        rows.append(TableRow(label=label, cells=[Cell(column=column, amount=amount)]))
    table = Table(kind=kind, title="支出总体情况表", title_prov=ref.span(0, 1, "t"), rows=rows)
    out_facts = []
    for name, value, quote, before in facts:
        s, e = _span(text, quote, before)
        prov = ref.span(s, e, name)
        out_facts.append(Fact(name=name, amount=Amount(value=Decimal(value), unit="万元", raw=quote, prov=prov), prov=prov))
    return BudgetDocument(doc_id="d", source="doc.txt", department="某某局", year=2024, tables=[table], facts=out_facts)


PERFECT_CELLS = [("行政运行", "合计", "100", "100.00", "行政运行\t"), ("行政运行", "项目支出", "60", "60.00", "100.00\t"),
                 ("事业运行", "合计", "40", "40", "事业运行\t")]
PERFECT_FACTS = [("revenue_total", "286.55", "286.55", "收入总计"), ("expenditure_total", "286.55", "286.55", "支出总计"),
                 ("total_change_amount", "-12.5", "12.5", "减少")]


def test_gold_loader_reads_shifted_comment_and_spans(world):
    gold, text = world
    shifted = gold.values[4]
    assert shifted.shifted and shifted.alt_columns == ["项目支出"]
    assert text[shifted.char_start:shifted.char_end] == "60.00"
    # the quote's position is its first occurrence inside the anchor, not in the file
    assert text[gold.values[1].char_start - 4:gold.values[1].char_start] == "支出总计"


def test_unresolvable_anchor_is_reported_with_file_and_line(tmp_path):
    path = tmp_path / "doc.yaml"
    path.write_text(GOLD.replace('anchor: "事业运行\\t40"', 'anchor: "事业运行\\t41"'), encoding="utf-8")
    gold = load_gold(path)
    problems = gold.resolve(TEXT)
    assert len(problems) == 1 and "doc.yaml:" in problems[0] and "not found" in problems[0]


def test_perfect_extraction_scores_one(world):
    gold, text = world
    r = extraction.score_document(gold, _doc(text, PERFECT_CELLS, PERFECT_FACTS), text)
    assert (r.prf.gold, r.prf.extracted, r.prf.correct) == (6, 6, 6)
    assert r.prf.f1 == 1.0 and r.span_exact.rate == 1.0
    assert r.column.rate == 1.0  # 合计 ×2 agree
    assert r.column_shifted.rate == 1.0  # 项目支出 accepted by the `# shifted: belongs to` comment
    assert r.metadata == {"department": True, "year": True, "kind": True, "unit": True}


@pytest.mark.parametrize(("cells", "facts", "expected"), [
    # a wrong value counts against precision and recall
    ([("行政运行", "合计", "100.01", "100.00", "行政运行\t"), *PERFECT_CELLS[1:]], PERFECT_FACTS, (6, 6, 5)),
    # a missing value only against recall
    (PERFECT_CELLS[:2], PERFECT_FACTS, (6, 5, 5)),
    # a wrong fact name at the right place is wrong for narrative values
    (PERFECT_CELLS, [PERFECT_FACTS[0], ("revenue_sum", "286.55", "286.55", "支出总计"), PERFECT_FACTS[2]], (6, 6, 5)),
    # one fact for a number that gold labels twice: one of the two gold values is missed
    (PERFECT_CELLS, [PERFECT_FACTS[0], PERFECT_FACTS[2]], (6, 5, 5)),
    # the sign of a change matters (exact Decimal match)
    (PERFECT_CELLS, [*PERFECT_FACTS[:2], ("total_change_amount", "12.5", "12.5", "减少")], (6, 6, 5)),
], ids=["wrong-value", "missing-value", "wrong-fact-name", "one-fact-for-two", "wrong-sign"])
def test_counts(world, cells, facts, expected):
    gold, text = world
    r = extraction.score_document(gold, _doc(text, cells, facts), text)
    assert (r.prf.gold, r.prf.extracted, r.prf.correct) == expected


def test_precision_counts_only_values_in_the_labeled_scope(world):
    gold, text = world
    inside = ("事业运行", "基本支出", "40", "40", "事业运行\t40\t")  # same row, unlabeled cell
    outside = ("合计", "合计", "2", "2", "三公经费表\n合计\t")  # 三公 table: gold labels none of it
    r = extraction.score_document(gold, _doc(text, [*PERFECT_CELLS, inside, outside], PERFECT_FACTS), text)
    assert (r.prf.extracted, r.prf.correct) == (7, 6)
    assert [fp["value"] for fp in r.false_positives] == ["40"]
    # a narrative fact outside the shared fact vocabulary is out of scope
    odd = [*PERFECT_FACTS, ("some_new_fact", "12.5", "12.5", "减少")]
    r = extraction.score_document(gold, _doc(text, PERFECT_CELLS, odd), text)
    assert r.prf.extracted == 6


def test_value_under_another_table_kind_is_a_diagnosed_miss(world):
    gold, text = world
    r = extraction.score_document(gold, _doc(text, PERFECT_CELLS, PERFECT_FACTS, kind=TableKind.gp_expenditure), text)
    assert r.by_table["expenditure"].correct == 0
    assert {m["reason"] for m in r.misses} == {"extracted as gp_expenditure"}


def test_overlapping_span_matches_but_is_not_exact_provenance(world):
    gold, text = world
    cells = [("行政运行", "合计", "100", "100.00\t60", "行政运行\t"), *PERFECT_CELLS[1:]]
    r = extraction.score_document(gold, _doc(text, cells, PERFECT_FACTS), text)
    assert r.prf.correct == 6
    assert r.span_exact.agree == 5 and r.span_exact.total == 6


def test_no_document_means_zero_recall(world):
    gold, text = world
    r = extraction.score_document(gold, None, text)
    assert r.prf.recall == 0.0 and r.prf.precision is None
    assert all(m["reason"] == "not extracted" for m in r.misses)


# ------------------------------------------------------------------------------------------------ metrics


def test_prf_arithmetic():
    p = PRF(gold=10, extracted=8, matched=8, correct=6)
    assert p.precision == 0.75 and p.recall == 0.6
    assert p.f1 == pytest.approx(2 * 0.75 * 0.6 / 1.35)
    assert PRF().f1 is None


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([], 50, None), ([5.0], 95, 5.0), ([1, 2, 3, 4], 50, 2.0), (list(range(1, 101)), 95, 95.0),
], ids=["empty", "one", "p50", "p95"])
def test_percentile(values, q, expected):
    assert percentile(values, q) == expected


@pytest.mark.parametrize(("expected", "unit", "got", "got_unit", "ok"), [
    ("9.20", "%", "9.2", "%", True), ("9.20", "%", "9.21", "%", False), ("75", "万元", "75.4", "万元", True),
    ("286.55", "万元", "2865500", "元", True), ("286.55", "万元", "286.55", "", True), ("0.5", "万元", "0.50", "万元", True),
], ids=["same", "off-by-0.01", "integer-tolerance", "yuan", "no-unit", "trailing-zero"])
def test_number_matches(expected, unit, got, got_unit, ok):
    assert number_matches(Decimal(expected), unit, Decimal(got), got_unit) is ok


def test_tolerance_follows_printed_places():
    assert tolerance_for(Decimal("9.20")) == Decimal("0.005")
    assert tolerance_for(Decimal("75")) == Decimal("0.5")


def _case(**kw) -> QACase:
    base = {"id": "q1", "kind": "lookup", "question": "收入总计？", "expected_numbers": [{"value": "286.55", "unit": "万元"}],
            "expected_sources": ["a.txt"]}
    return QACase.model_validate({**base, **kw})


def _answer(text: str = "", sources=("a.txt",), abstained=False, numbers=()) -> dict:
    return {"answer": text, "abstained": abstained, "citations": [{"source": s} for s in sources],
            "numbers": [{"value": v, "unit": "万元", "status": st} for v, st in numbers], "latency_ms": 10}


@pytest.mark.parametrize(("case", "answer", "ok"), [
    (_case(), _answer("收入总计286.55万元。"), True),
    (_case(), _answer(numbers=[("286.55", "verified")]), True),
    (_case(), _answer("收入总计286.56万元。"), False),
    (_case(), _answer("收入总计286.55万元。", sources=("b.txt",)), False),
    (_case(), _answer(abstained=True), False),
    (_case(kind="abstain", abstain=True, expected_numbers=[], expected_sources=[]), _answer(abstained=True), True),
    (_case(kind="abstain", abstain=True, expected_numbers=[], expected_sources=[]), _answer("是286.55万元"), False),
    (_case(kind="cross_list", expected_sources=["a.txt", "b.txt"]), _answer("286.55", sources=("b.txt",)), True),
    (_case(expected_sources=["a.txt", "b.txt"]), _answer("286.55", sources=("b.txt",)), False),
    (_case(expected_numbers=[], expected_text="显著"), _answer("指标值为显著。"), True),
], ids=["text-number", "numbers-list", "wrong-number", "wrong-doc", "false-abstain", "abstain", "should-abstain",
        "cross-any-doc", "all-docs-needed", "text"])
def test_score_answer(case, answer, ok):
    assert score_answer(case, answer).correct is ok


def test_score_answers_aggregates():
    cases = [_case(id="a"), _case(id="b", kind="share"), _case(id="c", kind="abstain", abstain=True,
                                                                 expected_numbers=[], expected_sources=[])]
    answers = {"a": _answer(numbers=[("286.55", "verified"), ("1", "unverified")]),
               "b": _answer("无", sources=("a.txt", "x.txt")), "c": _answer(abstained=True, sources=())}
    r = score_answers(cases, answers)
    assert r["accuracy"] == pytest.approx(2 / 3)
    assert r["by_kind"]["share"]["rate"] == 0.0
    assert r["citation_precision"] == pytest.approx(2 / 3)
    assert r["numbers_verified_share"] == 0.5 and r["abstention_recall"] == 1.0
    assert [f["id"] for f in r["failures"]] == ["b"]


# ------------------------------------------------------------------------------------------------ runner


def test_qa_suite_not_available_when_engine_missing(monkeypatch):
    monkeypatch.setattr(runner, "QA_ENTRY", "rag.no_such_engine_module:answer_batch")
    r = runner.run_qa(runner.RunOptions())
    assert r["status"] == "not available" and "not built" in r["reason"]


def test_llm_suite_not_available_without_endpoint():
    r = runner.run_qa(runner.RunOptions(), llm=True)
    assert r["status"] == "not available" and "LLM" in r["reason"]


def test_retrieval_not_available_without_bench(monkeypatch, tmp_path):
    monkeypatch.setattr(runner, "RETRIEVAL_BENCH", tmp_path / "missing_bench.py")
    monkeypatch.setattr(runner, "ROOT", tmp_path)
    r = runner.run_retrieval(runner.RunOptions())
    assert r["status"] == "not available"


def test_a_broken_engine_is_an_error_not_not_available(monkeypatch):
    """Only a missing engine module is 'not available'; an engine that fails to import is a real failure."""
    broken = types.ModuleType("budgetqa_broken_engine")
    monkeypatch.setitem(sys.modules, "budgetqa_broken_engine", broken)

    def fail(*a, **k):
        raise ModuleNotFoundError("No module named 'numpyy'", name="numpyy")

    monkeypatch.setattr(runner.importlib, "import_module", fail)
    with pytest.raises(ModuleNotFoundError):
        runner._import_entry("budgetqa_broken_engine:answer_batch")


def test_qa_suite_calls_the_engine_adapter(monkeypatch, tmp_path):
    qa = tmp_path / "qa.jsonl"
    qa.write_text("\n".join(json.dumps(c, ensure_ascii=False) for c in [
        {"id": "q1", "kind": "lookup", "question": "收入总计？", "expected_numbers": [{"value": "286.55", "unit": "万元"}],
         "expected_sources": ["a.txt"]},
        {"id": "q2", "kind": "followup", "question": "那支出呢？", "expected_numbers": [{"value": "1", "unit": "万元"}],
         "expected_sources": ["a.txt"], "conversation": "c1"},
    ]), encoding="utf-8")
    seen = {}

    def answer_batch(items, *, store=None):
        seen["items"], seen["store"] = items, store
        return [{"id": i["id"], "answer": "286.55万元", "abstained": False, "citations": [{"source": "a.txt"}],
                 "numbers": [], "latency_ms": 5} for i in items]

    engine = types.ModuleType("budgetqa_fake_engine")
    engine.answer_batch = answer_batch
    monkeypatch.setitem(sys.modules, "budgetqa_fake_engine", engine)
    monkeypatch.setattr(runner, "QA_ENTRY", "budgetqa_fake_engine:answer_batch")
    r = runner.run_qa(runner.RunOptions(qa_file=qa, store=tmp_path))
    assert r["status"] == "ok" and r["accuracy"] == 0.5
    assert seen["items"][1] == {"id": "q2", "q": "那支出呢？", "conversation": "c1"}  # the `ask --batch` input shape
    assert seen["store"] == tmp_path and r["latency_p50_ms"] == 5.0


def test_retrieval_summary_from_ranks():
    r = runner.retrieval_summary({"ours": [1, 2, None, 6], "baseline": {"ranks": [None, None, 3, 20]}})
    ours, base = r["systems"]["ours"], r["systems"]["baseline"]
    assert ours["recall@1"] == 0.25 and ours["recall@5"] == 0.5 and ours["recall@10"] == 0.75
    assert ours["mrr"] == pytest.approx((1 + 0.5 + 0 + 1 / 6) / 4)
    assert base["recall@5"] == 0.25 and r["recall@5_ratio_over_baseline"] == 2.0


# ------------------------------------------------------------------------------------------------ CLI + report


def _fake_run(f1: float, qa_status: str = "not available") -> dict:
    prf = {"gold": 10, "extracted": 10, "matched": 10, "correct": 9, "precision": f1, "recall": f1, "f1": f1}
    return {
        "suite": "extraction", "status": "ok", "documents": 1, "overall": prf,
        "by_doc": {"a.txt": {**prf, "provenance_accuracy": 1.0, "column_agreement": 0.5}},
        "by_table": {"expenditure": prf}, "provenance_accuracy": 1.0, "provenance_integrity": 1.0,
        "agreement": {"column": {"rate": 0.5}}, "texts": dict(prf), "indicators": {}, "metadata": {"year": 1.0},
        "counts": {"values": 10, "texts": 0, "indicators": 0},
        "miss_summary": [{"count": 1, "source": "a.txt", "table": "expenditure", "reason": "wrong value",
                          "example": {"line": 3, "row": "行政运行", "column": "合计", "value": "1", "got_value": "2"}}],
    }


@pytest.fixture()
def fake_suites(monkeypatch):
    state = {"f1": 0.9}
    monkeypatch.setitem(runner.RUNNERS, "extraction", lambda o: _fake_run(state["f1"]))
    for name in ("retrieval", "qa", "llm"):  # the real engines are exercised elsewhere; keep this fast
        monkeypatch.setitem(runner.RUNNERS, name, lambda o, n=name: runner.not_available(n, "not built yet"))
    return state


def _eval(tmp_path, *args) -> int:
    return main(["eval", *args])


@pytest.mark.parametrize(("baseline_f1", "current_f1", "margin", "code"), [
    (0.9, 0.9, None, 0), (0.9, 0.95, None, 0), (0.9, 0.897, None, 0), (0.9, 0.89, None, 1), (0.9, 0.89, "2", 0),
], ids=["same", "better", "within-margin", "regression", "wider-margin"])
def test_baseline_gate(tmp_path, fake_suites, capsys, baseline_f1, current_f1, margin, code):
    fake_suites["f1"] = baseline_f1
    assert _eval(tmp_path, "--suite", "extraction", "--report", str(tmp_path / "base.md")) == 0
    fake_suites["f1"] = current_f1
    args = ["--suite", "extraction", "--baseline", str(tmp_path / "base.json")]
    if margin:
        args += ["--margin", margin]
    capsys.readouterr()
    assert _eval(tmp_path, *args) == code
    out = capsys.readouterr().out
    assert "Against the baseline" in out
    if code:
        assert "extraction.f1" in out and "regression" in out


def test_bad_baseline_is_a_user_error(tmp_path, fake_suites, capsys):
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    assert _eval(tmp_path, "--suite", "extraction", "--baseline", str(tmp_path / "bad.json")) == 2
    err = capsys.readouterr().err
    assert "bad.json" in err and "Traceback" not in err
    assert _eval(tmp_path, "--suite", "extraction", "--baseline", str(tmp_path / "none.json")) == 2


def test_json_output_and_not_available_suite(tmp_path, fake_suites, capsys):
    assert _eval(tmp_path, "--suite", "all", "--json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["suites"]["qa"]["status"] == "not available"
    assert data["suites"]["extraction"]["overall"]["f1"] == 0.9
    assert set(data["suites"]) == {"extraction", "retrieval", "qa", "llm"}


def test_report_files_and_markdown(tmp_path, fake_suites, capsys):
    assert _eval(tmp_path, "--suite", "all", "--report", str(tmp_path / "r" / "eval.md")) == 0
    md = (tmp_path / "r" / "eval.md").read_text(encoding="utf-8")
    assert "## extraction" in md and "| a.txt |" in md and "*not available*" in md and "![" in md
    assert json.loads((tmp_path / "r" / "eval.json").read_text(encoding="utf-8"))["suites"]
    ET.fromstring((tmp_path / "r" / "eval.svg").read_text(encoding="utf-8"))  # well-formed SVG


def test_render_qa_and_retrieval_sections():
    run = {"run": {"started": "t", "suites": ["qa", "retrieval"]}, "suites": {
        "qa": {"status": "ok", "cases": 2, "accuracy": 0.5, "by_kind": {"lookup": {"agree": 1, "total": 2, "rate": 0.5}},
               "latency_p50_ms": 3.0, "latency_p95_ms": 9.0, "failures": [{"id": "q2", "kind": "lookup",
                                                                          "reason": "missing 1万元"}]},
        "retrieval": {"status": "ok", **runner.retrieval_summary({"ours": [1, 1], "baseline": [None, 2]})}}}
    md = report.render_markdown(run)
    assert "Accuracy 50.0" in md and "| lookup | 2 | 1 | 50.0 |" in md and "q2 (lookup)" in md
    assert "| ours | 2 | 100.0 | 100.0 | 100.0 | 1.000 |" in md and "2.00×" in md


def test_headline_ignores_unavailable_suites_and_latency_does_not_gate():
    base = {"suites": {"qa": {"status": "ok", "accuracy": 0.9, "by_kind": {}, "latency_p95_ms": 10.0}}}
    cur = {"suites": {"qa": {"status": "ok", "accuracy": 0.9, "by_kind": {}, "latency_p95_ms": 500.0},
                      "retrieval": {"status": "not available"}}}
    rows, regressions = report.compare(cur, base, 0.5)
    assert regressions == [] and any(r["metric"] == "qa.latency_p95_ms" for r in rows)


def test_retrieval_cases_carry_conversation_context_and_skip_unretrievable():
    from evals.dataset import Dataset

    cases = [_case(id="a", conversation="c1"), _case(id="b", kind="followup", question="那支出呢？", conversation="c1"),
             _case(id="c", kind="abstain", abstain=True, expected_numbers=[], expected_sources=[]),
             _case(id="d", expected_numbers=[{"value": "9.99", "unit": "%"}])]
    evidence = types.SimpleNamespace(
        as_decimals=lambda values: [abs(Decimal(str(v))) for v in values],
        retrievable_numbers=lambda expected, sources, texts: [n for n in expected if str(n) in texts["a.txt"]])
    out = runner.retrieval_cases(Dataset[QACase](name="t", cases=cases), {"a.txt": "收入总计286.55万元"}, evidence)
    assert [c["id"] for c in out] == ["a", "b"]
    assert out[0]["context"] == [] and out[1]["context"] == ["收入总计？"]
    assert out[1]["numbers"] == [Decimal("286.55")]


def test_llm_mode_needs_an_engine_switch(monkeypatch):
    engine = types.ModuleType("budgetqa_fake_engine_nollm")
    engine.answer_batch = lambda items, store=None: []
    monkeypatch.setitem(sys.modules, "budgetqa_fake_engine_nollm", engine)
    monkeypatch.setattr(runner, "QA_ENTRY", "budgetqa_fake_engine_nollm:answer_batch")
    with pytest.raises(runner.NotAvailable):
        runner.qa_answers([], None, llm=True)


def test_a_crashing_suite_is_reported_and_fails_the_run(fake_suites, tmp_path, capsys):
    def boom(opts):
        raise RuntimeError("index corrupted")

    runner.RUNNERS["retrieval"] = boom  # restored by the fixture's monkeypatch
    assert _eval(tmp_path, "--suite", "all", "--json") == 1
    data = json.loads(capsys.readouterr().out)
    assert data["suites"]["retrieval"]["status"] == "error"
    assert data["suites"]["extraction"]["status"] == "ok"


@pytest.mark.parametrize(("facts", "correct"), [
    ([("change_reason", "人员增加。")], 1),
    ([("sangong_change", "持平"), ("change_reason", "人员增加")], 1),  # the better of two overlapping facts
    ([("change_reason", "人员")], 0),                                  # cut short
    ([], 0),
], ids=["same-text", "best-candidate", "truncated", "none"])
def test_text_facts(facts, correct):
    from evals.dataset import GoldText

    text = "与上年相比，持平，主要原因是人员增加。"
    gold = GoldText(column="change_reason", quote="人员增加", anchor="原因是人员增加")
    gold.char_start = text.index("人员增加")
    gold.char_end = gold.char_start + 4
    ref = SourceRef("d", "doc.txt", text)
    extracted = [types.SimpleNamespace(name=n, text=t, prov=ref.span(text.index("持平"), len(text), n)) for n, t in facts]
    res = extraction.DocResult("doc.txt")
    extraction._score_texts(res, GoldDoc(path=Path("doc.yaml"), source="doc.txt", department="某", texts=[gold]),
                            extracted, text)
    assert res.texts.correct == correct and res.texts.gold == 1
    assert len(res.misses) == 1 - correct
