"""The offline QA engine end to end: answers with citations whose quotes are the exact source spans, the
department resolver (abbreviations, nicknames, typos, ambiguity), abstention, follow-ups, the numeric
verifier's statuses, documents the fixtures do not cover (renamed, re-dated, rescaled variants), the store
loader and `budgetqa ask`."""

from __future__ import annotations

import json
import re
import threading
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from extractor.departments import clean_department
from extractor.errors import StoreError
from extractor.load import load_document, load_text_bytes
from extractor.numbers import fold_width, parse_amount
from extractor.pipeline import extract_text
from rag.qa import Engine
from rag.verify import scan_numbers

from .conftest import SAMPLES, SEEDS

FIXTURES = Path(__file__).resolve().parents[1] / "evals" / "fixtures" / "qa.jsonl"


def _loaded(paths):
    out = []
    for p in paths:
        loaded = load_document(p)
        out.append((extract_text(loaded), loaded.text))
    return out


@pytest.fixture(scope="module")
def seeds():
    return _loaded(SEEDS)


@pytest.fixture(scope="module")
def engine(seeds):
    return Engine([d for d, _ in seeds], {d.doc_id: t for d, t in seeds})


@pytest.fixture(scope="module")
def texts(seeds):
    return {d.doc_id: t for d, t in seeds}


def source_of(answer) -> set[str]:
    return {c.source for c in answer.citations}


def numbers(answer) -> list[tuple[Decimal, str]]:
    return [(parse_amount(n.value), n.unit) for n in answer.numbers]


def has(answer, value: str, unit: str) -> bool:
    want = Decimal(value)
    return any(v is not None and abs(v - want) <= Decimal("0.005") and u == unit for v, u in numbers(answer))


# ---- citations: exact spans ---------------------------------------------------------------------------

def test_every_citation_quote_is_its_source_span(engine, texts):
    cases = [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines() if line.strip()]
    checked = 0
    for case in cases:
        conv = case.get("conversation")
        ans = engine.answer(case["question"], f"span:{conv}" if conv else None)
        for c in ans.citations:
            assert texts[c.doc_id][c.char_start:c.char_end] == c.quote, (case["id"], c)
            checked += 1
    assert checked > 300


# ---- the department resolver ---------------------------------------------------------------------------

RESOLVE = [
    ("许昌市人民政府驻北京联络处2024年收入总计是多少？", "000_97e268639aa13181.txt", "286.55"),
    ("驻京联络处收入总计", "000_97e268639aa13181.txt", "286.55"),
    ("驻京办收入总计", "000_97e268639aa13181.txt", "286.55"),
    ("驻京联洛处收入总计", "000_97e268639aa13181.txt", "286.55"),          # typo
    ("许昌市政府办公室收入总计", "001_b6e9d1983a777b41.txt", "3090.39"),
    ("许昌市政府办工室收入总计", "001_b6e9d1983a777b41.txt", "3090.39"),    # typo
    ("许昌政府办收入总计", "001_b6e9d1983a777b41.txt", "3090.39"),
    ("大数据局收入总计", "002_21a7bad79436d507.txt", "4458.96"),
    ("大数剧局收入总计", "002_21a7bad79436d507.txt", "4458.96"),            # typo
    ("许昌市政务服务和大数据管理局收入总计", "002_21a7bad79436d507.txt", "4458.96"),
    ("漯河市政府办收入总计", "003_a0ea54e8da336276.txt", "4596.71"),
    ("漯河市政俯办收入总计", "003_a0ea54e8da336276.txt", "4596.71"),        # typo
    ("济源招商中心收入总计", "004_ad7e3975b1f23db3.txt", "1042.10"),
    ("济源招商中新收入总计", "004_ad7e3975b1f23db3.txt", "1042.10"),        # typo
    ("招商引资服务中心收入总计", "004_ad7e3975b1f23db3.txt", "1042.10"),
]


@pytest.mark.parametrize("question,source,value", RESOLVE, ids=[q for q, _, _ in RESOLVE])
def test_department_names_abbreviations_nicknames_typos(engine, question, source, value):
    ans = engine.answer(question)
    assert not ans.abstained
    assert source_of(ans) == {source}
    assert has(ans, value, "万元")


def test_ambiguous_name_asks_which_one(seeds):
    """Two budgets of the same year whose names both fit 市政府办公室: the engine asks instead of guessing."""
    xc = next(t for d, t in seeds if clean_department(d.department) == "许昌市人民政府办公室")
    other = _doc("ly.txt", xc.replace("许昌市人民政府办公室", "洛阳市人民政府办公室"))
    e = Engine([d for d, _ in seeds] + [other[0]], {**{d.doc_id: t for d, t in seeds}, other[0].doc_id: other[1]})
    ans = e.answer("市政府办公室2024年收入总计是多少？")
    assert ans.abstained and not ans.numbers
    assert "许昌市人民政府办公室" in ans.answer and "洛阳市人民政府办公室" in ans.answer and "哪一个" in ans.answer
    # naming the city settles it
    ans = e.answer("洛阳市政府办公室2024年收入总计是多少？")
    assert source_of(ans) == {"ly.txt"}


def test_ambiguity_settled_by_the_most_recent_budget_is_said(engine):
    ans = engine.answer("市政府办公室人员经费多少？")
    assert source_of(ans) == {"001_b6e9d1983a777b41.txt"} and has(ans, "2320.84", "万元")
    assert "漯河市人民政府办公室" in ans.answer   # the other reading is named, not hidden


# ---- abstention -------------------------------------------------------------------------------------------

ABSTAIN = [
    "许昌市教育局2024年部门预算收入总计是多少？",        # department not in the corpus
    "郑州市大数据管理局2024年项目支出多少？",            # another city's lookalike
    "许昌市人民政府驻上海联络处2024年预算多少？",
    "驻京联络处2019年三公经费多少？",                    # year not in the corpus
    "漯河市政府办2024年收入总计是多少？",
    "大数据局2025年预算会增加多少？",                    # a forecast
    "漯河市政府办2023年机关运行经费是多少？",            # metric the document does not state
    "漯河市政府办内设几个科室？",
    "大数据局2023年的基本支出是多少？",                  # last year's figure that cannot be derived
    "许昌市政府办公室2024年决算支出实际是多少？",        # 决算 asked of a 预算
    "许昌市政府办公室12345热线项目今年上半年执行了多少钱？",
    "济源招商中心有多少在编人员？",
    "驻京联络处人均经费是多少？",
]


@pytest.mark.parametrize("question", ABSTAIN, ids=ABSTAIN)
def test_abstains_when_the_corpus_has_no_answer(engine, question):
    ans = engine.answer(question)
    assert ans.abstained
    assert "文件中没有" in ans.answer
    assert all(n.status != "computed" for n in ans.numbers)


# ---- answers of each kind --------------------------------------------------------------------------------

ANSWERS = [
    ("驻京联络处2024年基本支出占支出合计的比例是多少？", [("146.55", "万元"), ("51.14", "%")]),
    ("许昌市政府办公室公用经费占基本支出的比例？", [("14.47", "%")]),
    ("大数据局项目支出是基本支出的几倍？", [("4.17", "倍")]),
    ("驻京联洛处2023年的收支总计大概是多少？", [("190", "万元")]),
    ("济源招商中心一般公共预算收支和政府性基金收支分别比2023年增加了多少？", [("983.70", "万元"), ("58.40", "万元")]),
    ("许昌市政府办公室基本支出里基本工资一共多少？", [("494.40", "万元")]),
    ("大数据局市民之家运行经费是多少？", [("205", "万元"), ("111.05", "万元")]),
    ("漯河市政务信息中心（001010）项目资金一共多少？", [("222.23", "万元")]),
    ("12345热线话务员数量指标是多少人？", [("70", "人")]),
    ("许昌市政府办公室下设几个二级机构？", [("3", "个")]),
    ("五个部门住房公积金（2210201）一共安排了多少？", [("487.65", "万元")]),
    ("哪个部门基本支出占支出合计的比例最高？", [("87.8", "%")]),
]


@pytest.mark.parametrize("question,expected", ANSWERS, ids=[q for q, _ in ANSWERS])
def test_answers(engine, question, expected):
    ans = engine.answer(question)
    assert not ans.abstained, ans.answer
    for value, unit in expected:
        assert has(ans, value, unit), (value, unit, ans.answer)


MORE = [
    # (question, expected figures, text that must appear)
    ("大数据局的专项转移支付项目有几个", [("0", "个")], ""),
    ("大数据局基本支出比项目支出少多少", [("2732.40", "万元")], "3595.68 − 863.28"),
    ("大数据局的事业运行和行政运行合计多少", [("710.55", "万元")], "291.55 + 419"),
    ("许昌市政府办公室项目支出中最大的项目是哪个", [("346.14", "万元")], "12345"),
    ("驻京联络处有哪些项目", [("140", "万元")], "驻京联络处运行经费"),
    ("驻京联络处一般公务用车有几辆", [("2", "辆")], "一般公务用车"),
    ("大数据局工资福利支出多少", [("679.51", "万元")], ""),
    ("驻京联络处内设科室有哪些", [], "招商引智科"),
    ("济源招商中心的主要职责", [], "招商引资"),
    ("大数据局的信息化建设资金项目绩效目标有哪些", [], "信息化建设项目数量"),
]


@pytest.mark.parametrize("question,expected,text", MORE, ids=[q for q, _, _ in MORE])
def test_more_kinds_of_questions(engine, question, expected, text):
    ans = engine.answer(question)
    assert not ans.abstained, ans.answer
    for value, unit in expected:
        assert has(ans, value, unit), (value, unit, ans.answer)
    assert text in ans.answer
    assert ans.citations


@pytest.mark.parametrize("question", ["驻京联络处的会议费是多少", "许昌市政府办公室差旅费", "今年的GDP是多少"])
def test_no_quote_passed_off_as_the_answer(engine, question):
    """A sentence that merely mentions the words (会议费 in a definition) is not an answer to 'how much'."""
    ans = engine.answer(question)
    assert ans.abstained and "文件中没有" in ans.answer and not ans.numbers


def test_follow_up_that_names_a_new_item_does_not_reuse_the_old_one(engine):
    engine.answer("大数据局信息化建设资金项目多少钱？", "new-item")
    ans = engine.answer("许昌市政府办公室差旅费", "new-item")
    assert ans.abstained and "差旅费" in ans.answer and "信息化" not in ans.answer


# Phrasings written after the engine was built, scored before any fix (first run: 32/35 and 27/30); the
# expected figures are read from the documents. None = the corpus cannot answer.
FRESH = [
    ("驻京联络处今年一共有多少预算收入？", ["286.55"]),
    ("许昌大数据局社保就业方面花了多少？", ["57.87"]),
    ("济源招商中心的钱里面有多少是政府性基金？", ["58.40"]),
    ("许昌市政府办的车辆数是多少", ["18"]),
    ("驻京联络处卫生健康方面的支出占一般公共预算支出的比重", ["1.73"]),
    ("济源招商中心公车运行维护费是多少", ["1.50"]),
    ("许昌市政府办公室人员经费占基本支出多少", ["85.53"]),
    ("大数据局的公务接待费今年预算多少", ["0.5"]),
    ("济源招商中心政府采购工程预算", ["0"]),
    ("市政府办公室2024年纳入绩效管理的项目有几个", ["4"]),
    ("驻京联络处基本支出和项目支出哪个多", ["146.55", "140"]),
    ("大数据局2024年比2023年多了多少钱？", ["440.4"]),
    ("济源招商中心2023年的收入是多少？", ["0"]),
    ("驻京联络处的住房保障支出是多少？", ["9.42"]),
    ("许昌市政府办公室2024年支出预算总额是多少？", ["3090.39"]),
    ("漯河市政府办2023年一般公共服务支出多少", ["3795.95"]),
    ("漯河市政府办社会保障和就业支出", ["446.67"]),
    ("济源招商中心的事业运行支出是多少？", ["744.00"]),
    ("驻京联络处的三公经费预算和去年相比增加了多少", ["2"]),
    ("大数据局的基本支出占全部支出的比例", ["19.36"]),
    ("这几个部门里哪个的人员经费最少？", ["133.91"]),
    ("许昌的三个部门三公经费一共多少？", ["85.5"]),
    ("济源招商中心和驻京联络处谁的项目支出多？", ["158.40", "140"]),
    ("大数据局信息化建设资金占全部项目支出多少？", ["83.43"]),
    ("漯河市政府办公务用车运行维护费比许昌市政府办公室少多少？", ["60"]),
    ("许昌市政府办公室12345热线项目的预算是多少", ["346.14"]),
    ("济源招商中心招商引资经费项目年度实际吸收外资省定目标", ["1724"]),
    ("大数据局2025年的三公经费", None),
    ("驻京联络处的决算数", None),
    ("新郑市财政局收入总计", None),
    ("济源招商中心的公务用车有几辆", ["1"]),
    ("许昌市政府办公室的通用设备有多少台", ["1"]),
    ("大数据局的一般公共服务支出占比", ["96.66"]),
    ("驻京联络处2024年的三公经费比2023年多多少", ["2"]),
    ("许昌市政府办公室支出里面基本支出占多少", ["87.8"]),
    ("驻京联络处的年度预算规模有多大？", ["286.55"]),
    ("许昌市人民政府办公室的公用经费在基本支出中占比是多少？", ["14.47"]),
    ("大数据局今年的项目经费是多少？", ["3595.68"]),
    ("济源招商中心的人员支出是多少？", ["840.40"]),
    ("漯河政府办的基本支出中工资福利支出是多少", ["2679.43"]),
    ("许昌市政府办公室2024年的因公出国费用", ["0"]),
    ("驻京联络处2024年三公经费同比增长了多少万元？", ["2"]),
    ("大数据局一般公共预算拨款收支增长率", ["10.96"]),
    ("许昌市政府办公室2024年行政运行项的基本支出", ["2124.16"]),
    ("漯河市政府办的支出经济分类里维修(护)费", ["3.60"]),
    ("济源招商中心的两个禁止平台项目资金来源是什么？", ["58.40"]),
    ("大数据局的市民之家运行经费一共多少？", ["316.05"]),
    ("许昌市政府办公室慰问经费项目的慰问人数目标", ["120"]),
    ("驻京联络处收入中一般公共预算占多少", ["286.55"]),
    ("许昌三个部门里哪个基本支出最多", ["2713.45"]),
    ("哪个部门项目支出占比最高？", ["80.64"]),
    ("许昌市政府办公室和驻京联络处的人员经费合计", ["2454.75"]),
    ("济源招商中心比驻京联络处多几辆车？", ["1"]),
    ("大数据局有多少辆公务车？", ["2"]),
    ("许昌市政府办公室的三公经费中公务接待费占多少比例？", ["4.00"]),
    ("济源招商中心2025年的预算", None),
    ("驻京联络处的执行情况如何", None),
    ("许昌市交通运输局三公经费", None),
    ("大数据局2022年项目支出", None),
    ("济源招商中心人均公用经费", None),
    ("漯河市政府办有几辆车", None),
    ("驻京联络处的一般公共服务支出比上年增长多少", None),
    ("许昌市政府办公室2010302一般行政管理事务多少", ["376.94"]),
    ("驻京联络处事业单位医疗支出多少？", ["4.95"]),
    ("大数据局的办公费（基本支出）是多少？", ["25.1"]),
]


@pytest.mark.parametrize("question,expected", FRESH, ids=[q for q, _ in FRESH])
def test_fresh_phrasings(engine, question, expected):
    ans = engine.answer(question)
    if expected is None:
        assert ans.abstained and "文件中没有" in ans.answer, ans.answer
        return
    assert not ans.abstained, ans.answer
    got = [parse_amount(n.value) for n in ans.numbers]
    for value in expected:
        assert any(v is not None and abs(v - Decimal(value)) <= Decimal("0.01") for v in got), (value, ans.answer)


def test_derived_figures_show_their_formula(engine):
    ans = engine.answer("许昌市政府办公室公用经费占基本支出的比例？")
    computed = [n for n in ans.numbers if n.status == "computed"]
    assert computed and all(n.formula for n in computed)
    assert "392.61 ÷ 2713.45" in ans.answer
    ans = engine.answer("驻京联络处2023年的收支总计是多少？")
    assert "286.55 − 96.55" in ans.answer and has(ans, "190", "万元")


# ---- follow-ups ------------------------------------------------------------------------------------------

CONVERSATIONS = [
    [("大数据局2024年基本支出多少？", "863.28", "万元"), ("那项目支出呢？", "3595.68", "万元"),
     ("和去年比总的增加了多少？", "440.4", "万元")],
    [("驻京联络处三公经费多少？", "2", "万元"), ("其中公务用车运行费呢？", "2", "万元"), ("去年是多少？", "0", "万元")],
    [("许昌市政府办公室一般公共服务支出多少？", "2511.17", "万元"), ("占比多少？", "81.26", "%"),
     ("其中行政运行呢？", "2124.16", "万元")],
    [("济源招商中心政府采购预算多少？", "67.61", "万元"), ("服务类的呢？", "58.4", "万元"), ("货物呢？", "9.21", "万元")],
    [("漯河市政府办2023年项目支出一共多少？", "1458.05", "万元"), ("驻北京联络处的项目占多少？", "581.52", "万元"),
     ("里面装修改造那个多少钱？", "500.00", "万元")],
    [("大数据局有几辆车？", "2", "辆"), ("那市政府办公室呢？", "18", "辆")],
    [("济源招商中心基本支出多少？", "883.70", "万元"), ("人员经费占多少？", "95.10", "%"), ("公用经费呢？", "4.90", "%")],
    [("驻京联络处收入总计多少？", "286.55", "万元"), ("比上年多了多少？", "96.55", "万元"),
     ("这个部门的车辆有多少？", "2", "辆")],
]


@pytest.mark.parametrize("turns", CONVERSATIONS, ids=[t[0][0] for t in CONVERSATIONS])
def test_follow_ups_resolve_against_earlier_turns(engine, turns):
    cid = "conv:" + turns[0][0]
    for question, value, unit in turns:
        ans = engine.answer(question, cid)
        assert not ans.abstained, (question, ans.answer)
        assert has(ans, value, unit), (question, ans.answer)


def test_follow_up_without_conversation_does_not_guess(engine):
    ans = engine.answer("那项目支出呢？")
    assert ans.abstained and not ans.numbers


def test_future_follow_up_abstains(engine):
    engine.answer("许昌市政府办公室2024年三公经费多少？", "future")
    ans = engine.answer("那2025年预计会是多少？", "future")
    assert ans.abstained and "文件中没有" in ans.answer


def test_conversations_are_independent_under_concurrency(engine):
    questions = [("驻京联络处收入总计多少？", "96.55"), ("大数据局收入总计多少？", "440.4"),
                 ("许昌市政府办公室收入总计多少？", "371.72")]
    errors: list[str] = []

    def worker(i: int) -> None:
        q, change = questions[i % len(questions)]
        cid = f"thread-{i}"
        engine.answer(q, cid)
        ans = engine.answer("比上年多了多少？", cid)
        if not has(ans, change, "万元"):
            errors.append(f"{i}: {ans.answer}")

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


# ---- the numeric verifier's statuses ---------------------------------------------------------------------

def test_every_number_has_a_status_and_verified_means_quoted(engine):
    cases = [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines() if line.strip()]
    for case in cases:
        conv = case.get("conversation")
        ans = engine.answer(case["question"], f"verify:{conv}" if conv else None)
        stated = [m for m in scan_numbers(_unquoted(ans.answer)) if m.kind in ("amount", "percent", "count", "number")]
        assert len(ans.numbers) >= len(stated), (case["id"], ans.answer)
        for n in ans.numbers:
            assert n.status in ("verified", "computed", "unverified")
            if n.status == "verified":
                quote = fold_width(ans.citations[n.citation].quote).replace(",", "")
                values = [m.value for m in scan_numbers(quote)]
                assert parse_amount(n.value) in values, (case["id"], n, quote)
            if n.status == "computed":
                assert n.formula, (case["id"], n)
        assert not [n for n in ans.numbers if n.status == "unverified"], (case["id"], ans.answer)


def _unquoted(text: str) -> str:
    return re.sub(r"「[^」]*」|\[\d+\]", "", text)


# ---- documents the fixtures do not cover -------------------------------------------------------------------

def _doc(name: str, text: str):
    loaded = load_text_bytes(text.encode("utf-8"), Path(name))
    return extract_text(loaded), loaded.text


def variant(text: str, old: str, new: str, years: int = 1, factor: Decimal = Decimal(2)) -> str:
    """Rename the department, move every year, scale every decimal amount (not percentages)."""
    out = text.replace(old, new) if old else text

    def scale(m: re.Match[str]) -> str:
        places = len(m.group(2))
        value = Decimal(m.group(1).replace(",", "") + "." + m.group(2)) * factor
        return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))

    out = re.sub(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)\.(\d{1,2})(?![\d.])(?!\s*[%％])", scale, out)
    return re.sub(r"(?<!\d)(20[12]\d)(?=\s*年)", lambda m: str(int(m.group(1)) + years), out)


def scaled(value: str, factor: Decimal) -> str:
    places = len(value.split(".")[1]) if "." in value else 0
    return str((Decimal(value) * factor).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def variant_engine(seeds):
    by_dept = {clean_department(d.department): t for d, t in seeds}
    docs = list(seeds)
    docs.append(_doc("kf.txt", variant(by_dept["许昌市政务服务和大数据管理局"], "许昌市政务服务和大数据管理局",
                                       "开封市文化广电和旅游局")))
    docs.append(_doc("bd2025.txt", variant(by_dept["许昌市政务服务和大数据管理局"], "", "", factor=Decimal(3))))
    docs.append(_doc("xx.txt", variant(by_dept["济源产城融合示范区招商引资服务中心"], "济源产城融合示范区招商引资服务中心",
                                       "新乡市投资促进中心", factor=Decimal("1.5"))))
    return Engine([d for d, _ in docs], {d.doc_id: t for d, t in docs})


VARIANTS = [
    # (question, cited source, expected (value, unit) computed from the originals, not from the engine)
    ("开封市文化广电和旅游局2025年基本支出是多少？", "kf.txt", [(scaled("863.28", 2), "万元")]),
    ("文化广电和旅游局的人员经费和公用经费分别多少？", "kf.txt",
     [(scaled("783.84", 2), "万元"), (scaled("79.45", 2), "万元")]),
    ("开封市文化广电和旅游局公用经费占基本支出的比例？", "kf.txt", [("9.20", "%")]),
    ("开封市文化广电和旅游局2025年收支总计比上年增加了多少？", "kf.txt",
     [(scaled("440.4", 2), "万元"), ("10.96", "%")]),
    ("开封市文化广电和旅游局2024年的收支总计是多少？", "kf.txt",
     [(str(Decimal(scaled("4458.96", 2)) - Decimal(scaled("440.4", 2))), "万元")]),
    ("开封市文化广电和旅游局信息化项目尾款安排了多少？", "kf.txt", [(scaled("116.39", 2), "万元")]),
    ("大数据局2025年基本支出是多少？", "bd2025.txt", [(scaled("863.28", 3), "万元")]),
    ("大数据局基本支出是多少？", "bd2025.txt", [(scaled("863.28", 3), "万元")]),      # latest budget
    ("大数据局2024年基本支出是多少？", "002_21a7bad79436d507.txt", [("863.28", "万元")]),
    ("新乡市投资促进中心政府采购预算里服务类占比多少？", "xx.txt", [(scaled("58.4", Decimal("1.5")), "万元")]),
    ("新乡市投资促进中心2025年收支总计比上年增加多少？为什么？", "xx.txt",
     [(scaled("1042.10", Decimal("1.5")), "万元")]),
    ("新乡市投资促进中心人员经费占基本支出的比例？", "xx.txt", [("95.10", "%")]),
]


@pytest.mark.parametrize("question,source,expected", VARIANTS, ids=[q for q, _, _ in VARIANTS])
def test_generalises_to_variant_documents(variant_engine, question, source, expected):
    ans = variant_engine.answer(question)
    assert not ans.abstained, ans.answer
    assert source in source_of(ans), ans.answer
    for value, unit in expected:
        assert has(ans, value, unit), (value, unit, ans.answer)


def test_variant_abstentions(variant_engine):
    for q in ("开封市文化广电和旅游局2023年三公经费多少？", "开封市教育局2025年收入总计是多少？"):
        ans = variant_engine.answer(q)
        assert ans.abstained and "文件中没有" in ans.answer, ans.answer


def test_cross_document_questions_take_each_departments_latest_budget(variant_engine):
    ans = variant_engine.answer("哪个部门的项目支出最多？")
    cited = source_of(ans)
    assert "bd2025.txt" in cited and "002_21a7bad79436d507.txt" not in cited
    assert has(ans, scaled("3595.68", 3), "万元")


# ---- loading from a store and the CLI ---------------------------------------------------------------------

def _write_store(root: Path, seeds, wrapped: bool = True) -> Path:
    records = root / "records"
    records.mkdir(parents=True)
    for doc, text in seeds:
        data = ({"doc_id": doc.doc_id, "document": doc.model_dump(mode="json"), "text": text} if wrapped
                else doc.model_dump(mode="json"))
        (records / f"{doc.doc_id}.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return root


@pytest.mark.parametrize("wrapped", [True, False], ids=["store-records", "plain-documents"])
def test_engine_from_store(tmp_path, seeds, wrapped):
    e = Engine.from_store(_write_store(tmp_path / "s", seeds, wrapped))
    ans = e.answer("大数据局2024年基本支出安排了多少？")
    assert has(ans, "863.28", "万元") and source_of(ans) == {"002_21a7bad79436d507.txt"}


def test_empty_store_explains_how_to_ingest(tmp_path):
    with pytest.raises(StoreError) as err:
        Engine.from_store(tmp_path / "nothing")
    assert "budgetqa ingest data/samples" in str(err.value)


def test_cli_ask_batch_json(tmp_path, seeds, capsys):
    from ui.cli import main

    store = _write_store(tmp_path / "s", seeds)
    batch = tmp_path / "q.jsonl"
    lines = [{"id": "a", "q": "大数据局2024年基本支出多少？", "conversation": "c1"},
             {"id": "b", "q": "驻京联络处三公经费多少？", "conversation": "c2"},
             {"id": "c", "q": "那项目支出呢？", "conversation": "c1"},
             {"id": "d", "q": "其中公务用车运行费呢？", "conversation": "c2"},
             {"id": "e", "q": "许昌市教育局2024年收入总计是多少？"}]
    batch.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n", encoding="utf-8")
    assert main(["ask", "--batch", str(batch), "--json", "--store", str(store)]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [o["id"] for o in out] == ["a", "b", "c", "d", "e"]
    assert {"answer", "abstained", "mode", "citations", "numbers", "latency_ms"} <= set(out[0])
    assert out[2]["numbers"][0]["value"] == "3595.68"
    assert out[3]["numbers"][0]["value"] == "2" and out[3]["citations"][0]["source"] == "000_97e268639aa13181.txt"
    assert out[4]["abstained"] is True


def test_cli_conversation_persists_between_runs(tmp_path, seeds, capsys):
    from ui.cli import main

    store = _write_store(tmp_path / "s", seeds)
    assert main(["ask", "大数据局有几辆车？", "--store", str(store), "--conversation", "x"]) == 0
    capsys.readouterr()
    assert main(["ask", "那市政府办公室呢？", "--store", str(store), "--conversation", "x", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["numbers"][0]["value"] == "18" and out["numbers"][0]["unit"] == "辆"


def test_cli_errors_are_clear(tmp_path, capsys):
    from ui.cli import main

    assert main(["ask", "大数据局收入总计", "--store", str(tmp_path / "empty")]) == 2
    assert "budgetqa ingest data/samples" in capsys.readouterr().err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": 1, "q": "ok"}\nnot json\n', encoding="utf-8")
    assert main(["ask", "--batch", str(bad), "--json", "--store", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "bad.jsonl" in err and "line 2" in err


def test_samples_directory_is_the_corpus():
    assert len(SEEDS) == 5 and SAMPLES.is_dir()


def test_a_number_without_evidence_is_flagged_in_the_answer_itself():
    from rag.qa.catalogue import Value
    from rag.qa.compose import Builder

    b = Builder()
    b.add("收入为" + b.num(Value(Decimal("12.5"), "万元", "收入")) + "。")
    ans = b.answer("q")
    assert [n.status for n in ans.numbers][0] == "unverified"
    assert "未能在引用的原文中核验" in ans.answer
