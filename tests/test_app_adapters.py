"""The app's pure adapters and its service, without a browser: escaping, citations, badges, the source viewer,
records as tables and chart data, upload checks, launch options. Documents here are built from scratch
(departments and years no sample has), so nothing depends on the bundled samples' names or numbers."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from markdown_it import MarkdownIt

from extractor.errors import BudgetQAError, ConfigError
from extractor.load import SUPPORTED_SUFFIXES, load_text_bytes
from extractor.pipeline import extract_text
from extractor.settings import Settings
from tests.variants import DocSpec, build_document
from ui.app import adapters as A
from ui.app import tables as T

MD = MarkdownIt("commonmark")  # renders raw HTML and links: whatever escape_md lets through shows up here

HOSTILE = [
    ("script", "<script>window.__pwned=1</script>"),
    ("img-onerror", '<img src=x onerror="window.__pwned=2">'),
    ("md-link", "[点我](javascript:window.__pwned=3)"),
    ("md-image", "![x](http://evil.example/x.png)"),
    ("autolink", "<http://evil.example>"),
    ("emphasis", "**粗体** _斜体_ `code`"),
    ("heading", "# 标题\n- 列表\n1. 序号"),
    ("template", "${alert(1)} {{constructor}} `x`"),
    ("math", "$$x^2$$"),
    ("entity", "&lt;script&gt; &amp;"),
]


def _doc(department: str = "开封市审计局", year: int = 2025, kinds: tuple[str, ...] = (
        "summary", "income", "expenditure", "gp_basic", "economic", "sangong", "projects"), seed: int = 0):
    text, _ = build_document(list(kinds), DocSpec(department=department, year=year), seed=seed)
    loaded = load_text_bytes(text.encode("utf-8"), Path(f"{department}_{year}.txt"))
    return extract_text(loaded), loaded.text


# ------------------------------------------------------------------------------------------ escaping

@pytest.mark.parametrize("text", [t for _i, t in HOSTILE], ids=[i for i, _t in HOSTILE])
def test_escape_md_renders_as_literal_text(text):
    html = MD.render(A.escape_md(text))
    assert not re.search(r"<(?!/?p>)[a-z]", html), html  # no element other than the paragraph
    visible = re.sub(r"</?p>", "", html).strip()
    import html as h

    assert h.unescape(visible).replace("\n", " ").split() == text.replace("\n", " ").split()


@pytest.mark.parametrize("text", [t for _i, t in HOSTILE], ids=[i for i, _t in HOSTILE])
def test_escape_html_leaves_no_markup_or_template_syntax(text):
    out = A.escape_html(text)
    assert not set("<>\"'`${}") & set(out)
    import html as h

    assert h.unescape(out) == text


# ------------------------------------------------------------------------------------------ chat

def _answer(text: str, citations: int = 2, numbers: list[dict] | None = None, **kw) -> dict:
    cits = [{"doc_id": "d1", "source": f"s{i}.txt", "locator": f"表{i}/行/列", "quote": f"{i}0.5",
             "char_start": 10 * i, "char_end": 10 * i + 4} for i in range(citations)]
    return {"question": "q", "answer": text, "abstained": False, "mode": "offline", "citations": cits,
            "numbers": numbers or [], "latency_ms": 3, **kw}


def test_answer_markdown_links_citations_and_badges_each_number():
    a = _answer("某局2031年公用经费为12.5万元[1]，占基本支出250万元[2]的5%（计算：12.5 ÷ 250 = 5%）。", numbers=[
        {"value": "12.5", "unit": "万元", "status": "verified", "citation": 0},
        {"value": "250", "unit": "万元", "status": "verified", "citation": 1},
        {"value": "5", "unit": "%", "status": "computed", "formula": "12.5 ÷ 250 = 5%"},
        {"value": "12.5", "unit": "万元", "status": "verified", "citation": 0},  # engines may repeat a number
    ])
    md = A.answer_markdown(a, turn=7)
    html = MD.render(md)
    assert re.findall(r'href="#cite-7-(\d)"', html) == ["1", "2"]
    # badge right after the number and its unit, before the citation link; one badge per distinct number
    assert re.search(r"12\.5万元 <span class=\"bqa-badge bqa-ok\">.*?</span> <a href=\"#cite-7-1\">", html)
    assert re.search(r"5% <span class=\"bqa-badge bqa-calc\">", html)
    assert html.count("bqa-badge") == 3
    assert "（计算：12.5 ÷ 250 = 5%）" in re.sub(r"<[^>]+>", "", html)
    assert "离线" in md and "3 ms" in md


def test_answer_markdown_flags_unverified_and_abstained():
    md = A.answer_markdown(_answer("约有99辆车。", citations=0, numbers=[
        {"value": "99", "unit": "辆", "status": "unverified"}], abstained=True), turn=0)
    assert "bqa-warn" in md and "bqa-none" in md


def test_citation_marks_out_of_range_stay_text():
    html = MD.render(A.answer_markdown(_answer("见[1]与[5]。", citations=1), turn=0))
    assert 'href="#cite-0-1"' in html and "cite-0-5" not in html and "[5]" in html


@pytest.mark.parametrize("text", [t for _i, t in HOSTILE], ids=[i for i, _t in HOSTILE])
def test_answer_quoting_a_document_injects_nothing(text):
    a = _answer(f"文件中的说明：“{text}”[1]", citations=1)
    a["citations"][0]["quote"] = text
    a["citations"][0]["source"] = text
    for message in A.chat_messages(text, a, turn=0):
        html = MD.render(message["content"])
        tags = set(re.findall(r"<([a-z]+)", html))
        assert tags <= {"p", "a", "span", "ul", "li", "strong"}, (tags, html)
        assert not re.search(r'href="(?!#cite-0-1")', html)
        assert "<script" not in html and "onerror" not in re.sub(r"&[a-z]+;", "", html).split("=")[0]


def test_chat_messages_are_gradio_message_dicts():
    msgs = A.chat_messages("问题", _answer("1.5万元[1]", numbers=[{"value": "1.5", "unit": "万元",
                                                              "status": "verified", "citation": 0}]), turn=2)
    assert [m["role"] for m in msgs] == ["user", "assistant", "assistant"]
    assert msgs[2]["metadata"]["title"].startswith("来源与数字核查")
    assert "#cite-2-1" in msgs[2]["content"] and "见引用" in msgs[2]["content"]


@pytest.mark.parametrize("key,expected", [("3-2", (3, 2)), ("0-1", (0, 1)), ("", None), ("3", None),
                                          ("a-1", None), ("1-2-3", None), (None, None), ("-1-2", None)],
                         ids=["ok", "first", "empty", "no-dash", "letters", "three", "none", "negative"])
def test_parse_keys(key, expected):
    assert A.parse_cite_key(key) == expected
    assert A.parse_finding_key(key) == expected


def test_citation_panel_escapes_and_keys_buttons():
    html = A.citation_panel_html([{"source": "<b>x</b>.txt", "locator": "表/${x}", "quote": "<i>1</i>"}], 4)
    assert 'data-cite="4-1"' in html and "<b>x" not in html and "${" not in html and "<i>" not in html


@pytest.mark.parametrize("mode,expected", [("offline", "离线"), ("", "离线"), ("llm:deepseek-chat", "deepseek-chat"),
                                          ("qwen-max", "qwen-max")], ids=["offline", "empty", "llm-prefix", "model"])
def test_mode_label(mode, expected):
    assert expected in A.mode_label(mode)


# ------------------------------------------------------------------------------------------ source viewer

TEXT = "第一行\n收入总计 128.70 万元，支出总计 141.77 万元。\n<script>x</script> 第三行\n" + "填充行\n" * 800


def test_source_html_marks_exactly_the_quote_and_escapes_the_rest():
    s = TEXT.index("141.77")
    html = A.source_html(TEXT, [(s, s + 6)], quotes=["141.77"], title="a<b>.txt", subtitle="表/行")
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", html) == ["141.77"]
    assert "bqa-focus" in html and "&lt;script&gt;" in html and "<script" not in html and "a&lt;b&gt;" in html
    assert "后文省略" in html and "前文省略" not in html


def test_source_html_focus_and_several_spans():
    a, b = TEXT.index("128.70"), TEXT.index("141.77")
    html = A.source_html(TEXT, [(a, a + 6), (b, b + 6)], focus=1)
    assert re.findall(r'<mark class="([^"]+)">(.*?)</mark>', html) == [("bqa-hl", "128.70"),
                                                                        ("bqa-hl bqa-focus", "141.77")]


def test_source_html_repairs_or_reports_a_stale_span():
    b = TEXT.index("141.77")
    repaired = A.source_html(TEXT, [(b + 3, b + 9)], quotes=["141.77"])
    assert re.findall(r"<mark[^>]*>(.*?)</mark>", repaired) == ["141.77"]
    missing = A.source_html(TEXT, [(5, 11)], quotes=["999.99"])
    assert "<mark" not in missing and "不一致" in missing
    outside = A.source_html(TEXT, [(len(TEXT) + 5, len(TEXT) + 9)])
    assert "<mark" not in outside and "不一致" in outside


def test_source_html_window_is_bounded():
    far = len(TEXT) - 10
    html = A.source_html(TEXT, [(far, far + 3)], window=200)
    assert "前文省略" in html and len(html) < 2000


# ------------------------------------------------------------------------------------------ questions, lists

@pytest.mark.parametrize("q,dept,year,expected", [
    ("支出总计是多少？", "开封市审计局", "2025", "开封市审计局2025年支出总计是多少？"),
    ("开封市审计局的支出总计？", "开封市审计局", "", "开封市审计局的支出总计？"),
    ("2025年的三公经费？", "", "2025", "2025年的三公经费？"),
    ("那项目支出呢？", None, None, "那项目支出呢？"),
    ("  三公经费  ", "洛阳市民政局", "", "洛阳市民政局三公经费"),
], ids=["both", "named-already", "year-named", "no-filter", "strip"])
def test_scoped_question(q, dept, year, expected):
    assert A.scoped_question(q, dept, year) == expected


CATALOG = {
    "a1": {"source": "x.txt", "department": "洛阳市民政局（汇总）", "year": 2030, "doc_kind": "预算", "n_values": 9},
    "b2": {"source": "y.md", "department": "安阳市统计局", "year": 2029, "doc_kind": "决算", "n_values": 3},
}


def test_catalog_lists():
    assert A.department_choices(CATALOG) == ["安阳市统计局", "洛阳市民政局"]
    assert A.year_choices(CATALOG) == ["2030", "2029"]
    assert A.doc_choices(CATALOG)[0] == ("安阳市统计局 · 2029 · 决算 · y.md", "b2")
    qs = A.example_questions(CATALOG)
    assert qs and all("（汇总）" not in q for q in qs)
    assert any("安阳市统计局" in q for q in qs) and any("洛阳市民政局" in q for q in qs)
    assert A.example_questions({}) == []


@pytest.mark.parametrize("name,size,problem", [
    ("a.txt", 10, None), ("A.MD", 10, None), ("b.pdf", 10, None),
    ("c.exe", 10, "不支持"), ("noext", 10, "无扩展名"), ("d.txt", 0, "空"), ("e.txt", -1, "重新上传"),
    ("f.txt", 3 * 1024 * 1024, "太大"),
], ids=["txt", "upper-md", "pdf", "exe", "no-suffix", "empty", "gone", "too-big"])
def test_upload_problem(name, size, problem):
    got = A.upload_problem(name, size, 2.0, SUPPORTED_SUFFIXES)
    assert (got is None) if problem is None else (problem in got and name in got)


def test_upload_report_escapes_names():
    md = A.upload_report_md(["[x](javascript:1).txt"], [], 1, ["<img src=x onerror=1>.txt：不是预算文件"])
    html = MD.render(md)
    assert "<a" not in html and "<img" not in html and "替换" in md


# ------------------------------------------------------------------------------------------ checks

FINDINGS = [
    {"rule": "totals.rounding", "severity": "rounding", "message": "尾差 0.01", "values": []},
    {"rule": "sangong.identity", "severity": "mismatch", "message": "<b>合计</b> 不等于各项之和",
     "expected": "12", "actual": "10", "difference": "2",
     "values": [{"value": "10", "unit": "万元", "raw": "10.00",
                 "prov": {"doc_id": "d", "source": "s", "locator": "三公表/合计", "char_start": 5, "char_end": 10,
                          "quote": "10.00"}}]},
]


def test_findings_html_orders_by_severity_escapes_and_keys_chips_by_original_index():
    html = A.findings_html(FINDINGS)
    assert html.index("sangong.identity") < html.index("totals.rounding")
    assert 'data-finding="1-0"' in html and "<b>合计" not in html and "应为 12" in html
    assert "不一致 1" in A.findings_summary(FINDINGS) and "尾差 1" in A.findings_summary(FINDINGS)
    assert A.finding_spans(FINDINGS[1]) == ([(5, 10)], ["10.00"], FINDINGS[1]["message"])
    assert "没有" in A.findings_summary([])


# ------------------------------------------------------------------------------------------ tables, charts

def test_table_frames_keep_exact_amounts_and_csv_round_trips(tmp_path):
    doc, _text = _doc()
    choices = T.table_choices(doc)
    groups = [label.split(" · ")[0] for label, _k in choices]
    assert groups == sorted(groups, key=lambda g: [x for x, _ in T.TABLE_GROUPS].index(g)
                            if g in [x for x, _ in T.TABLE_GROUPS] else 99)
    key = next(k for label, k in choices if "支出总体" in label)
    frame, caption = T.records_frame(doc, key)
    t = doc.tables[int(key[1:])]
    assert "单位：万元" in caption and len(frame) == len(t.rows)
    cells = {(r.label, c.column): c.amount.value for r in t.rows for c in r.cells}
    for (label, column), value in cells.items():
        row = frame[frame["名称"] == label].iloc[0]
        assert Decimal(row[column]) == value
    path = T.write_csv(frame, tmp_path / "x" / T.csv_name(doc, "支出/总体 表"))
    assert path.read_bytes().startswith(b"\xef\xbb\xbf") and "/" not in path.name
    back = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    assert list(back.columns) == list(frame.columns) and len(back) == len(frame)
    assert T.records_frame(doc, "nope")[0].empty


def test_functional_chart_sums_items_into_classes_exactly():
    doc, _ = _doc(department="洛阳市司法局", year=2031)
    frame, caption = T.functional_chart(doc)
    t = doc.table("expenditure")
    expected: dict[str, Decimal] = {}
    for r in t.rows:
        if r.code_kind == "functional" and len(r.code) == 7 and r.get("total"):
            expected[r.code[:3]] = expected.get(r.code[:3], Decimal(0)) + r.get("total").amount.value
    assert sorted(Decimal(v) for v in frame["数值"]) == sorted(expected.values())
    assert "按类汇总" in caption


def test_basic_project_and_sangong_charts_read_the_documents_values():
    doc, _ = _doc(department="南阳市统计局", year=2032)
    bp, _ = T.basic_project_chart(doc)
    total = doc.table("expenditure").rows[0]
    assert Decimal(bp.set_index("项目").loc["基本支出", "数值"]) == total.get("basic").amount.value
    sg, caption = T.sangong_chart(doc)
    assert len(sg) >= 3 and "合计" in caption
    sangong_values = {c.amount.value for r in doc.table("sangong").rows for c in r.cells}
    assert {Decimal(v) for v in sg["数值"]} <= sangong_values


def test_compare_chart_ranks_documents_and_names_those_without_the_metric():
    docs = [_doc(department=f"{city}市教育局", year=2030, seed=i)[0] for i, city in enumerate(("商丘", "信阳"))]
    docs.append(_doc(department="周口市林业局", year=2030, kinds=("summary",), seed=2)[0])
    frame, caption = T.compare_chart(docs, "sangong_total")
    assert list(frame["金额"]) == sorted(frame["金额"], reverse=True) and len(frame) == 2
    assert "周口市林业局" in caption
    assert T.compare_chart(docs, "no-such-metric")[0].empty
    assert ("支出合计", "expenditure_sum") in T.metric_choices()


# ------------------------------------------------------------------------------------------ launch, service

def test_launch_options_bind_loopback_without_share_and_with_optional_auth():
    from ui.app import launch_options

    opts = launch_options(Settings(_env_file=None))
    assert opts["server_name"] == "127.0.0.1" and opts["server_port"] == 7860 and opts["share"] is False
    assert "auth" not in opts and opts["max_file_size"] == "20mb"
    s = Settings(auth_user="u", auth_password="p", max_upload_mb=5)
    opts = launch_options(s, host="0.0.0.0", port=9001)
    assert opts["auth"] == ("u", "p") and opts["server_name"] == "0.0.0.0" and opts["server_port"] == 9001
    with pytest.raises(ConfigError):
        launch_options(Settings(auth_user="u"))


class FakeEngine:
    def __init__(self):
        self.calls: list[tuple[str, str | None]] = []

    def answer(self, question, conversation_id=None):
        self.calls.append((question, conversation_id))
        return {"question": question, "answer": "ok", "citations": [], "numbers": []}


def test_service_scopes_questions_and_explains_an_empty_store(tmp_path):
    from ui.app.service import AppService

    empty = AppService(tmp_path / "none", Settings(), engine_factory=lambda root, s: FakeEngine())
    assert empty.catalog() == {}
    with pytest.raises(BudgetQAError, match="还没有文档"):
        empty.ask("支出总计？")
    svc = AppService(tmp_path / "none", Settings(), engine_factory=lambda root, s: FakeEngine())
    svc.catalog = lambda fresh=False: dict(CATALOG)  # type: ignore[method-assign]
    svc.ask("支出总计？", "c1", "安阳市统计局", "2029")
    assert svc.engine().calls == [("安阳市统计局2029年支出总计？", "c1")]
    with pytest.raises(BudgetQAError):
        svc.ask("   ")


def test_service_ingest_refuses_bad_uploads_with_the_file_name(tmp_path):
    from ui.app.service import AppService

    svc = AppService(tmp_path / "store", Settings(max_upload_mb=0.001))
    up = tmp_path / "upload-7f3a"
    up.mkdir()
    (up / "notes.csv").write_text("a,b\n", encoding="utf-8")
    (up / "big.txt").write_text("预算 万元 " * 400, encoding="utf-8")
    result = svc.ingest([up / "notes.csv", up / "big.txt"])
    assert result.added == [] and len(result.errors) == 2
    assert "notes.csv" in result.errors[0] and "不支持" in result.errors[0]
    assert "big.txt" in result.errors[1] and "太大" in result.errors[1]
    svc = AppService(tmp_path / "store", Settings())
    (up / "poem.txt").write_text("床前明月光，疑是地上霜。", encoding="utf-8")
    result = svc.ingest([up / "poem.txt"])
    assert result.added == [] and len(result.errors) == 1
    assert result.errors[0].startswith("poem.txt") and str(up) not in result.errors[0]  # no temp path shown


def test_eval_report_shows_deltas_against_the_previous_run():
    def run(f1: float) -> dict:
        return {"run": {"started": "t", "suites": ["qa"]},
                "suites": {"qa": {"status": "ok", "accuracy": f1, "cases": 10, "by_kind": {}}}}

    assert "第一次运行" in A.eval_report_md(run(0.9), None)
    md = A.eval_report_md(run(0.9), run(0.95))
    assert "qa.accuracy" in md and "-5.0" in md
    assert "还没有运行" in A.last_eval_md(None)


def test_service_keeps_each_eval_run_as_the_next_baseline(tmp_path, monkeypatch):
    import evals.runner
    from ui.app.service import AppService

    runs = iter([0.8, 0.9])

    def fake_run(suites, opts=None):
        return {"run": {"started": "t", "suites": list(suites)},
                "suites": {"qa": {"status": "ok", "accuracy": next(runs), "cases": 1, "by_kind": {}}}}

    monkeypatch.setattr(evals.runner, "run", fake_run)
    svc = AppService(tmp_path / "store", Settings())
    first, previous = svc.run_eval("qa")
    assert previous is None and svc.last_eval("qa")["suites"]["qa"]["accuracy"] == 0.8
    second, previous = svc.run_eval("qa")
    assert previous["suites"]["qa"]["accuracy"] == 0.8 and second["suites"]["qa"]["accuracy"] == 0.9
    assert "+10.0" in A.eval_report_md(second, previous)
    with pytest.raises(BudgetQAError, match="unknown eval suite"):
        svc.run_eval("nope")


@pytest.mark.parametrize("exc,shown", [
    (BudgetQAError("该文档不在库中", hint="刷新页面"), "该文档不在库中 (刷新页面)"),
    (KeyError("doc_id"), "内部错误（KeyError）"),
], ids=["user-error", "bug"])
def test_callback_failures_become_messages_not_tracebacks(exc, shown):
    import gradio as gr

    from ui.app.build import guarded

    def callback():
        raise exc

    with pytest.raises(gr.Error) as info:
        guarded(callback)()
    assert str(info.value.message) == shown or shown in str(info.value.message)
    assert "Traceback" not in str(info.value.message) and info.value.__cause__ is None
