"""LLM-assisted extraction over real HTTP against the scripted OpenAI-compatible server (evals/scripted_server.py).

The document is written here (a fictional department, another year), not a sample: the rules extract most of
it, and what they cannot read (举办业务培训8场) is what the LLM is asked about."""

from __future__ import annotations

import json
import logging
import threading
import time
from decimal import Decimal
from pathlib import Path

import pytest

from evals.scripted_server import FakeOpenAI, Reply, chat_reply
from extractor.llm import apply_llm
from extractor.llm.contract import Usage
from extractor.llm.grounding import Grounded, NormIndex, ground_fact
from extractor.llm.reconcile import Reconciler
from extractor.llm.schema import LLMFact
from extractor.llm.selection import Chunk, Excerpt, select_chunks
from extractor.load import load_document
from extractor.models import Amount, Fact, Finding
from extractor.pipeline import extract_text
from extractor.provenance import SourceRef
from extractor.settings import Settings, get_settings
from rag import provider
from rag.llm_adapter import ProviderLLM

KEY = "sk-test-SECRET-0123456789"
MODEL = "fake-chat"
FAST = {"retry-after-ms": "5"}   # the SDK honours it: retries in tests take milliseconds

DOC = """洛阳市审计局2025年度部门预算

# 第一部分 部门概况

## 一、主要职责

负责全市审计监督工作，拟订审计政策并组织实施；对财政收支进行审计监督。

## 二、机构设置

洛阳市审计局内设5个科室。

# 第二部分 2025年度部门预算情况说明

### 一、收入支出预算总体情况说明

洛阳市审计局2025年度收入总计500.00万元，支出总计500.00万元，与上年相比，增加20.00万元，增长4.17%，主要原因是审计项目增加。

### 二、其他重要事项情况说明

2025年计划开展审计项目36个，举办业务培训8场，培训审计人员240人次。

2024年末，我部门共有车辆3辆，其中：一般公务用车3辆。

人员编制情况表

单位：人

项目\t编制数\t实有人数
行政编制\t30\t28
事业编制\t12\t11
"""

TRAINING = {"name": "training_sessions", "qualifier": "业务培训", "value": "8", "unit": "场",
            "quote": "举办业务培训 8场"}          # the model dropped nothing but added a space: still grounded
PROJECTS = {"name": "project_count", "qualifier": "", "value": "36", "unit": "个", "quote": "开展审计项目36个"}
ROW = {"table_title": "人员编制情况表", "label": "行政编制", "code": "", "quote": "行政编制\t30\t28",
       "cells": [{"column": "编制数", "value": "30"}, {"column": "实有人数", "value": "28"}]}


def content(facts=(), texts=(), rows=()) -> str:
    return json.dumps({"facts": list(facts), "texts": list(texts), "rows": list(rows)}, ensure_ascii=False)


def reply(text: str, prompt_tokens: int = 120, completion_tokens: int = 30) -> dict:
    body = chat_reply(text, model=MODEL)
    body["usage"] = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                     "total_tokens": prompt_tokens + completion_tokens}
    return body


def router(narrative: str, table: str = content()):
    """Answer by what the request is about (chunks may be sent concurrently, in any order)."""
    def handle(path: str, body: dict) -> dict:
        user = body["messages"][-1]["content"]
        return reply(table if "表格" in body["messages"][1]["content"] and "repair" not in user else narrative)
    return handle


@pytest.fixture(autouse=True)
def _fresh_provider_state():
    provider._JSON_MODE_ONLY.clear()
    provider._NO_TEMPERATURE.clear()
    yield
    provider._JSON_MODE_ONLY.clear()
    provider._NO_TEMPERATURE.clear()


@pytest.fixture
def server():
    with FakeOpenAI() as s:
        yield s


@pytest.fixture
def doc_file(tmp_path: Path) -> Path:
    p = tmp_path / "in" / "luoyang_audit_2025.txt"
    p.parent.mkdir()
    p.write_text(DOC, encoding="utf-8")
    return p


@pytest.fixture
def loaded(doc_file: Path):
    data = load_document(doc_file)
    return data, extract_text(data)


def make_settings(server: FakeOpenAI, tmp_path: Path, **kw) -> Settings:
    base = dict(openai_base_url=server.url, openai_api_key=KEY, llm_model=MODEL, llm_max_retries=2,
                llm_timeout_s=5.0, llm_concurrency=1, home=tmp_path / "store")
    base.update(kw)
    return Settings(**base)


def llm_for(server, tmp_path, **kw) -> ProviderLLM:
    return ProviderLLM(make_settings(server, tmp_path, **kw))


def llm_facts(doc) -> list[Fact]:
    return [f for f in doc.facts if f.method != "rules"]


def rules_view(doc) -> dict:
    """What the rules extracted (LLM additions and the usage report left out)."""
    data = doc.model_dump(mode="json", exclude={"llm_usage"})
    data["facts"] = [f for f in data["facts"] if f.get("method", "rules") == "rules"]
    data["findings"] = [f for f in data["findings"] if not f["rule"].startswith("llm_")]
    return data


# ---- selection ------------------------------------------------------------------------------------------

def test_selection_sends_only_uncovered_parts(loaded):
    data, doc = loaded
    chunks = select_chunks(doc, data.text)
    kinds = [c.kind for c in chunks]
    assert kinds == ["narrative", "table"]
    narrative = chunks[0].render(data.text)
    assert "举办业务培训8场" in narrative                     # uncovered: no rule reads 场
    assert "收入总计500.00万元" not in narrative               # covered by the rules: not sent
    assert "负责全市审计监督工作" not in narrative              # main_duties found by the rules
    assert sum(c.size for c in chunks) < len(data.text) / 3


def test_unknown_template_is_chunked_never_sent_whole(tmp_path):
    paragraphs = [f"第{i}项工作：本年度完成调研{i + 3}次，发放资料{i * 10 + 5}份，经费{i}.5万元。" for i in range(1, 60)]
    path = tmp_path / "report.txt"
    path.write_text("某单位2025年预算执行报告\n\n" + "\n\n".join(paragraphs) + "\n", encoding="utf-8")
    data = load_document(path)
    doc = extract_text(data)
    chunks = select_chunks(doc, data.text, max_chars=600)
    assert len(chunks) > 3
    assert all(c.size <= 600 for c in chunks)
    sent = "".join(c.render(data.text) for c in chunks)
    assert all(p in sent for p in paragraphs)          # every paragraph with amounts goes, in some chunk


# ---- grounding ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("quote,value,unit,name,ok", [
    ("收入总计 500.00万元", "500.00", "万元", "revenue_total", True),     # whitespace differences only
    ("收入总计500.00万元", "500", "万元", "revenue_total", True),         # same number, other spelling
    ("收入总计500.00万元", "500.01", "万元", "revenue_total", False),     # number not in the quote
    ("收入总计５００.００万元", "500.00", "万元", "revenue_total", False),  # digits folded: not whitespace
    ("收入合计500.00万元", "500.00", "万元", "revenue_total", False),     # quote not in the source
    ("收入总计500.00万元", "500.00", "元", "revenue_total", False),       # unit not the printed one
    ("支出总计500.00万元", "500.00", "万元", "revenue_total", False),     # label says expenditure
    ("增加20.00万元", "20.00", "万元", "total_change_amount", True),
    ("增加20.00万元", "-20.00", "万元", "total_change_amount", False),    # 增加 is not a decrease
    ("增加20.00万元", "20.00", "万元", "project_expenditure", False),     # a change is not a total
    ("增长4.17%", "4.17", "%", "total_change_pct", True),
    ("一般公务用车3辆", "3", "辆", "vehicles", True),
    ("一般公务用车3辆", "3", "个", "vehicles", False),
], ids=["spaces", "500==500.00", "wrong-number", "fullwidth", "not-in-source", "wrong-unit", "swapped-name",
        "change", "wrong-sign", "change-as-total", "pct", "vehicles", "vehicles-unit"])
def test_grounding(loaded, quote, value, unit, name, ok):
    data, doc = loaded
    qualifier = "一般公务用车" if name == "vehicles" else ""
    chunk = select_chunks(doc, data.text, everything=True)
    whole = Chunk(0, "narrative", [e for c in chunk for e in c.excerpts])
    found, why = ground_fact(LLMFact(name=name, qualifier=qualifier, value=value, unit=unit, quote=quote),
                             data.text, NormIndex(data.text, whole))
    assert bool(found) == ok, why
    if found:
        g = found[0]
        s, e = g.quote_span
        assert "".join(data.text[s:e].split()) == "".join(quote.split())
        ns, ne = g.number_span
        assert Decimal(data.text[ns:ne]) == abs(Decimal(value))


# ---- end to end over HTTP -------------------------------------------------------------------------------

def test_correct_extraction(server, tmp_path, loaded):
    data, doc = loaded
    server.set_default(router(content([TRAINING, PROJECTS]), content(rows=[ROW])))
    out = apply_llm(doc, data.text, llm_for(server, tmp_path))
    added = llm_facts(out)
    assert [(f.name, f.amount.value, f.amount.unit, f.method) for f in added] == [
        ("training_sessions", Decimal("8"), "场", f"llm:{MODEL}")]
    fact = added[0]
    assert data.text[fact.prov.char_start:fact.prov.char_end] == fact.prov.quote == "举办业务培训8场"
    assert data.text[fact.amount.prov.char_start:fact.amount.prov.char_end] == "8"
    u = out.llm_usage
    assert (u.accepted, u.agreed, u.rejected) == (1, 3, 0)        # 36个 + the row's two cells agree
    assert (u.requests, u.prompt_tokens, u.completion_tokens) == (2, 240, 60)
    assert 0 < u.tokens_sent_estimate and 0 < u.tokens_whole_estimate   # the ratio is an eval figure
    # the request carried the schema as structured output and the text fenced as data
    body = server.requests[0][2]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["strict"] is True
    assert "<<<DOCUMENT_EXCERPT" in body["messages"][1]["content"]
    assert "DATA, never" in body["messages"][0]["content"]


INVENTED = {
    "quote-not-in-source": content([{**TRAINING, "quote": "举办业务培训8场次"}]),
    "number-not-in-quote": content([{**TRAINING, "value": "9"}]),
    "wrong-unit": content([{**TRAINING, "unit": "个"}]),
    "swapped-name": content([{**TRAINING, "name": "project_count", "qualifier": ""}]),
    "invented-row": content(rows=[{**ROW, "label": "工勤编制", "quote": "工勤编制\t5\t5",
                                   "cells": [{"column": "编制数", "value": "5"}]}]),
    "row-value-not-printed": content(rows=[{**ROW, "cells": [{"column": "编制数", "value": "31"}]}]),
    "text-not-in-source": content(texts=[{"name": "change_reason", "qualifier": "", "quote": "人员经费大幅增加"}]),
}


@pytest.mark.parametrize("reply_text", list(INVENTED.values()), ids=list(INVENTED))
def test_invented_values_are_rejected(server, tmp_path, loaded, reply_text):
    data, doc = loaded
    server.set_default(router(reply_text, reply_text))
    out = apply_llm(doc, data.text, llm_for(server, tmp_path))
    assert llm_facts(out) == []
    assert [c for _, _, c in out.amounts() if c.method != "rules"] == []
    rejected = [f for f in out.findings if f.rule == "llm_ungrounded"]
    assert rejected and all(f.severity == "malformed" for f in rejected)
    assert out.llm_usage.accepted == 0 and out.llm_usage.rejected >= 1
    assert rules_view(out) == rules_view(doc)


def test_malformed_json_is_repaired_then_given_up(server, tmp_path, loaded):
    data, doc = loaded
    server.enqueue(*[reply("{not json") for _ in range(3)])     # the narrative chunk: 1 + 2 repair turns
    server.enqueue(reply(content()))                             # the table chunk
    out = apply_llm(doc, data.text, llm_for(server, tmp_path))
    assert len(server.requests) == 4
    repair = server.requests[1][2]["messages"]
    assert repair[-2] == {"role": "assistant", "content": "{not json"}
    assert "did not match the required JSON schema" in repair[-1]["content"]
    assert [f.rule for f in out.findings if f.rule.startswith("llm_")] == ["llm_malformed"]
    assert out.llm_usage.errors == [] and out.llm_usage.requests == 4
    assert rules_view(out) == rules_view(doc)


def test_schema_violation_then_success_on_retry(server, tmp_path, loaded):
    data, doc = loaded
    bad = content([{**TRAINING, "value": "8场"}])                # a unit inside the value: invalid
    server.enqueue(reply(bad), reply(content([TRAINING])), reply(content()))
    out = apply_llm(doc, data.text, llm_for(server, tmp_path))
    assert [f.name for f in llm_facts(out)] == ["training_sessions"]
    second = server.requests[1][2]["messages"]
    assert "facts.0.value" in second[-1]["content"]
    assert not [f for f in out.findings if f.rule.startswith("llm_")]


def test_items_that_never_validate_are_dropped_with_a_finding(server, tmp_path, loaded):
    data, doc = loaded
    bad = content([TRAINING, {**PROJECTS, "name": "Project Count"}])
    server.enqueue(reply(bad), reply(bad), reply(bad), reply(content()))
    out = apply_llm(doc, data.text, llm_for(server, tmp_path))
    assert [f.name for f in llm_facts(out)] == ["training_sessions"]      # the valid item is kept
    dropped = [f for f in out.findings if f.rule == "llm_schema"]
    assert len(dropped) == 1 and "Project Count" in dropped[0].message


def test_json_mode_fallback_for_servers_without_json_schema(server, tmp_path, loaded):
    data, doc = loaded
    server.enqueue(Reply(status=400, body={"error": {"message": "response_format type json_schema is unavailable",
                                                     "type": "invalid_request_error"}}),
                   reply(content([TRAINING])), reply(content()))
    out = apply_llm(doc, data.text, llm_for(server, tmp_path))
    assert [f.name for f in llm_facts(out)] == ["training_sessions"]
    fallback = server.requests[1][2]
    assert fallback["response_format"] == {"type": "json_object"}
    assert '"facts"' in fallback["messages"][0]["content"]                 # the schema travels in the prompt
    assert server.requests[2][2]["response_format"] == {"type": "json_object"}  # remembered for the endpoint


def test_temperature_refused_then_sent_without(server, tmp_path, loaded):
    data, doc = loaded
    server.enqueue(Reply(status=400, body={"error": {"message": "Unsupported value: 'temperature' does not support 0"}}),
                   reply(content([TRAINING])), reply(content()))
    out = apply_llm(doc, data.text, llm_for(server, tmp_path))
    assert [f.name for f in llm_facts(out)] == ["training_sessions"]
    assert "temperature" in server.requests[0][2] and "temperature" not in server.requests[1][2]
    assert "temperature" not in server.requests[2][2]


def test_429_then_success(server, tmp_path, loaded):
    data, doc = loaded
    server.enqueue(Reply(status=429, headers=FAST), reply(content([TRAINING])), reply(content()))
    out = apply_llm(doc, data.text, llm_for(server, tmp_path))
    assert [f.name for f in llm_facts(out)] == ["training_sessions"]
    assert len(server.requests) == 3 and out.llm_usage.errors == []


def test_concurrency_limit(server, tmp_path, loaded):
    data, doc = loaded
    state = {"now": 0, "max": 0}
    lock = threading.Lock()

    def slow(path, body):
        with lock:
            state["now"] += 1
            state["max"] = max(state["max"], state["now"])
        time.sleep(0.15)
        with lock:
            state["now"] -= 1
        return reply(content())

    server.set_default(slow)
    apply_llm(doc, data.text, llm_for(server, tmp_path, llm_concurrency=2), everything=True, max_chars=60)
    assert len(server.requests) >= 4
    assert state["max"] == 2


def test_cache_hit_on_rerun_sends_nothing(server, tmp_path, loaded):
    data, doc = loaded
    server.set_default(router(content([TRAINING]), content(rows=[ROW])))
    first = apply_llm(doc, data.text, llm_for(server, tmp_path))
    n = len(server.requests)
    second = apply_llm(doc, data.text, llm_for(server, tmp_path))
    assert len(server.requests) == n == 2
    assert second.llm_usage.cached == second.llm_usage.chunks == 2
    assert second.llm_usage.requests == 0 and second.llm_usage.cost == 0
    assert first.model_dump(exclude={"llm_usage"}) == second.model_dump(exclude={"llm_usage"})
    assert (tmp_path / "store" / "llm_cache").is_dir()


@pytest.mark.parametrize("failure", [
    [Reply(status=500, headers=FAST)] * 3,
    [Reply(delay=1.5, body=reply(content([TRAINING])))],
    [Reply(raw=b"<html>bad gateway</html>")],
], ids=["500", "timeout", "body-not-json"])
def test_failing_endpoint_keeps_the_rule_results(server, tmp_path, loaded, failure):
    data, doc = loaded
    server.enqueue(*failure)
    server.set_default(router(content([TRAINING])))
    out = apply_llm(doc, data.text, llm_for(server, tmp_path, llm_timeout_s=0.5, llm_max_retries=len(failure) - 1))
    assert out.llm_usage.errors and out.llm_usage.chunks_failed == 2   # the second chunk is not attempted
    assert llm_facts(out) == []
    assert rules_view(out) == rules_view(doc)
    assert KEY not in json.dumps(out.llm_usage.errors)


# ---- the CLI ----------------------------------------------------------------------------------------------

@pytest.fixture
def cli_env(server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", server.url)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.setenv("BUDGETQA_LLM_MODEL", MODEL)
    monkeypatch.setenv("BUDGETQA_HOME", str(tmp_path / "store"))
    monkeypatch.setenv("BUDGETQA_LLM_MAX_RETRIES", "0")
    monkeypatch.setenv("BUDGETQA_LLM_TIMEOUT_S", "0.5")
    monkeypatch.setenv("BUDGETQA_LLM_CONCURRENCY", "4")
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def run_cli(*argv: str) -> int:
    from ui.cli import main

    return main(list(argv))


def test_cli_without_endpoint_names_the_variables(doc_file, tmp_path, capsys, monkeypatch):
    get_settings.cache_clear()
    try:
        code = run_cli("extract", str(doc_file), "-o", str(tmp_path / "out"), "--llm")
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert code == 2
    assert "OPENAI_BASE_URL" in err and "BUDGETQA_LLM_MODEL" in err and "Traceback" not in err


def test_cli_llm_adds_nothing_new_output_unchanged(server, cli_env, doc_file, tmp_path, capsys):
    server.set_default(router(content([PROJECTS]), content(rows=[ROW])))   # only what the rules have
    assert run_cli("extract", str(doc_file), "-o", str(tmp_path / "plain")) == 0
    assert run_cli("extract", str(doc_file), "-o", str(tmp_path / "llm"), "--llm") == 0
    out = capsys.readouterr().out
    plain = json.loads((tmp_path / "plain" / f"{doc_file.stem}.json").read_text(encoding="utf-8"))
    with_llm = json.loads((tmp_path / "llm" / f"{doc_file.stem}.json").read_text(encoding="utf-8"))
    usage = with_llm.pop("llm_usage")
    assert plain.pop("llm_usage") is None
    assert with_llm == plain
    assert usage["agreed"] == 3 and usage["accepted"] == 0 and usage["requests"] == 2
    assert "llm (fake-chat): 1 document(s), 2 request(s)" in out and "tokens sent" in out


@pytest.mark.parametrize("script", [
    [Reply(status=500)], [Reply(delay=1.5, body={})], [Reply(status=401)], [reply("{not json")] * 3,
], ids=["500", "timeout", "401", "malformed"])
def test_cli_failing_endpoint_writes_rule_results_with_a_warning(server, cli_env, doc_file, tmp_path, capsys,
                                                                 caplog, script):
    caplog.set_level(logging.DEBUG)
    server.enqueue(*script)
    server.set_default(lambda path, body: Reply(status=500))
    code = run_cli("extract", str(doc_file), "-o", str(tmp_path / "out"), "--llm", "--format", "jsonl")
    captured = capsys.readouterr()
    assert code == 0
    lines = (tmp_path / "out" / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    doc = json.loads(lines[0])
    assert any(f["name"] == "revenue_total" for f in doc["facts"])               # rule results written
    assert f"warning: {doc_file}" in captured.err and "rule results were written" in captured.err
    assert "Traceback" not in captured.err
    everything = captured.out + captured.err + caplog.text + json.dumps(doc, ensure_ascii=False)
    assert KEY not in everything


# ---- reconciliation -------------------------------------------------------------------------------------

def _rule_fact(ref: SourceRef, text: str, needle: str, name: str) -> Fact:
    k = text.index(needle)
    amount = Amount(value=Decimal(needle), unit="万元", raw=needle, prov=ref.span(k, k + len(needle), name))
    return Fact(name=name, amount=amount, prov=ref.span(k, k + len(needle), name))


@pytest.mark.parametrize("broken_rule,expect_rule,expect_value", [
    (False, "llm_disagrees", Decimal("300.00")),
    (True, "llm_overrides", Decimal("310.00")),
], ids=["rule-wins", "checks-show-rule-broken"])
def test_reconcile_disagreement(monkeypatch, broken_rule, expect_rule, expect_value):
    text = "甲表收入总计300.00万元。乙段收入总计310.00万元。"
    ref = SourceRef("d", "d.txt", text)
    from extractor.models import BudgetDocument

    doc = BudgetDocument(doc_id="d", source="d.txt", facts=[_rule_fact(ref, text, "300.00", "revenue_total")])
    rule_span = (doc.facts[0].amount.prov.char_start, doc.facts[0].amount.prov.char_end)

    def fake_checks(d, t):
        spans = {(f.amount.prov.char_start, f.amount.prov.char_end) for f in d.facts if f.amount}
        if broken_rule and rule_span in spans:
            return [Finding(rule="narrative_vs_table", severity="mismatch", message="x",
                            values=[f.amount for f in d.facts if f.amount])]
        return []

    monkeypatch.setattr("extractor.llm.reconcile._checks", fake_checks)
    k = text.index("310.00")
    rec = Reconciler(doc, text, ref, MODEL)
    rec.fact(LLMFact(name="revenue_total", qualifier="", value="310.00", unit="万元", quote="收入总计310.00万元"),
             [Grounded((k - 4, k + 8), (k, k + 6), Decimal("310.00"), "万元", "")])
    assert [f.rule for f in rec.out.findings] == [expect_rule]
    assert [f.amount.value for f in doc.facts if f.name == "revenue_total"] == [expect_value]


def test_usage_cost_with_prices(server, tmp_path, loaded):
    llm = llm_for(server, tmp_path)
    llm.price_in, llm.price_out = Decimal("2"), Decimal("8")     # per million tokens
    assert llm.cost(Usage(1_000_000, 500_000, 3)) == Decimal("6")
    assert llm_for(server, tmp_path).cost(Usage(10, 10, 1)) is None


def test_excerpts_never_joined_by_a_quote(loaded):
    data, _ = loaded
    a = data.text.index("举办业务培训")
    b = data.text.index("2024年末")
    chunk = Chunk(0, "narrative", [Excerpt(a, a + 4, "s"), Excerpt(b, b + 6, "s")])
    index = NormIndex(data.text, chunk)
    assert index.locate(data.text[a:a + 4]) == [(a, a + 4)]
    assert index.locate(data.text[a + 2:a + 4] + data.text[b:b + 2]) == []


def test_llm_suite_catches_injected_errors():
    from evals.llm_suite import run_llm_suite

    report = run_llm_suite(sources=["000_97e268639aa13181.txt"], modes=("pipeline", "llm_only"))
    run = report["runs"]["llm_only"]
    assert run["injected_errors"] > 40 and run["caught"] == run["injected_errors"], run["missed"]
    assert run["kept"] == run["correct_items"], run["dropped_correct"]
    assert set(run["caught_by_kind"]) == {"wrong_number", "swapped_fields", "invented_row", "quote_not_in_source"}
    assert report["runs"]["pipeline"]["tokens_share_max"] <= 0.2


def test_llm_values_go_through_the_numeric_checks(server, tmp_path, loaded, monkeypatch):
    data, doc = loaded
    seen: list[list[str]] = []

    def fake_checks(d, t):
        llm = [f.amount for f in d.facts if f.amount is not None and f.method != "rules"]
        seen.append([a.raw for a in llm])
        return [Finding(rule="narrative.table", severity="mismatch", message="培训次数与表不符", values=llm)] if llm else []

    monkeypatch.setattr("extractor.llm.reconcile._checks", fake_checks)
    server.set_default(router(content([TRAINING]), content()))
    out = apply_llm(doc, data.text, llm_for(server, tmp_path))
    assert seen == [["8"]]                                   # run once, over the document with the LLM value
    assert [f.message for f in out.findings if f.rule == "narrative.table"] == ["培训次数与表不符"]


def test_cache_is_keyed_by_model_and_content(server, tmp_path, loaded):
    data, doc = loaded
    server.set_default(router(content([TRAINING]), content()))
    apply_llm(doc, data.text, llm_for(server, tmp_path))
    assert len(server.requests) == 2
    apply_llm(doc, data.text, llm_for(server, tmp_path, llm_model="another-model"))
    assert len(server.requests) == 4                         # another model: asked again
    changed = data.text.replace("举办业务培训8场", "举办业务培训9场")
    apply_llm(extract_text(type(data)(**{**data.__dict__, "text": changed})), changed, llm_for(server, tmp_path))
    assert len(server.requests) == 5                         # the changed section only; the table chunk is cached


def test_cli_writes_documents_in_input_order_while_llm_calls_overlap(server, cli_env, tmp_path, capsys):
    folder = tmp_path / "many"
    folder.mkdir()
    (folder / "a_slow.txt").write_text(DOC, encoding="utf-8")
    (folder / "b_fast.txt").write_text(DOC.replace("举办业务培训8场", "举办业务培训9场"), encoding="utf-8")

    def handle(path, body):
        if "8场" in body["messages"][-1]["content"]:
            time.sleep(0.4)                       # the first document's answer comes last
        return reply(content())

    server.set_default(handle)
    assert run_cli("extract", str(folder), "-o", str(tmp_path / "out"), "--llm", "--format", "jsonl") == 0
    lines = (tmp_path / "out" / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(x)["source"] for x in lines] == ["a_slow.txt", "b_fast.txt"]
