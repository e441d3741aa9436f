"""Chunks and hybrid retrieval: spans, row sentences, filters, scope resolution, two-character Chinese
terms, and documents the fixtures never saw (renamed departments, other years, scaled numbers)."""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from extractor.load import load_document
from extractor.pipeline import extract_text
from extractor.settings import Settings
from rag.chunk import MAX_NARRATIVE, chunk_document
from rag.evidence import ChunkRef, evidence_in, numbers_in
from rag.retrieve import Retriever, question_years, resolve_scope
from rag.store import Store, prepare_many
from tests.conftest import ROOT, SEEDS
from tests.variants import make_variant, variant_name

META_KEYS = {"doc_id", "source", "department", "region", "year", "doc_kind", "kind", "table", "table_title",
             "section", "code", "row", "locator", "group", "char_start", "char_end", "amounts"}


@pytest.fixture(scope="module")
def loaded():
    out = []
    for p in SEEDS:
        lt = load_document(p)
        out.append((lt, extract_text(lt)))
    return out


@pytest.fixture(scope="module")
def variant_files(tmp_path_factory, loaded) -> list[Path]:
    """Two unseen documents: another department and year, every decimal amount scaled."""
    folder = tmp_path_factory.mktemp("unseen")
    paths = []
    for i, (lt, doc) in zip((31, 47), (loaded[1], loaded[2]), strict=True):
        path = folder / f"unseen_{i}.txt"
        path.write_text(make_variant(lt.text, doc.department, i, year_shift=2, scale=Decimal("1.37")),
                        encoding="utf-8")
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def retriever(tmp_path_factory, variant_files) -> Retriever:
    root = tmp_path_factory.mktemp("retrieval") / "store"
    with Store.open(root, write=True, settings=Settings()) as st:
        stats = st.ingest(prepare_many([*SEEDS, *variant_files]))
    assert stats.documents == 7 and not stats.failed
    return Retriever(Store.open(root, settings=Settings()))


# ------------------------------------------------------------------------------------------- chunks


def test_chunks_point_at_exact_spans_and_carry_metadata(loaded):
    for lt, doc in loaded:
        chunks = chunk_document(doc, lt.text)
        assert chunks and len({c.id for c in chunks}) == len(chunks)
        kinds = {c.metadata["kind"] for c in chunks}
        assert {"row", "table"} <= kinds
        for c in chunks:
            assert META_KEYS - {"year"} <= set(c.metadata), c.id
            assert all(v is not None for v in c.metadata.values())
            assert 0 <= c.char_start < c.char_end <= len(lt.text)
            span = lt.text[c.char_start:c.char_end]
            assert span.strip(), c.id
            if c.metadata["kind"] == "narrative":
                assert c.char_end - c.char_start <= MAX_NARRATIVE
                plain = re.compile(r"[\s#*|-]+")  # markdown emphasis and cell bars are dropped from chunk text
                assert plain.sub("", span) in plain.sub("", c.text)  # the quote is in the chunk
            if c.metadata["kind"] == "row":
                # every number a row chunk states is printed in the span it cites
                body = c.text.split("：", 1)[1]
                body = re.sub(r"（政府经济分类[^）]*）|（表头：.*）$|(?:19|20)\d\d\s*年", "", body)  # headers may name years
                if c.metadata["code"]:  # a code is printed split ("201 03 01") or normalised in the chunk
                    body = body.replace(c.metadata["code"], " ", 1)
                assert numbers_in(body) <= numbers_in(span) | {Decimal(0)}, (c.text, span)


def test_chunking_is_deterministic(loaded):
    lt, doc = loaded[0]
    a, b = chunk_document(doc, lt.text), chunk_document(doc, lt.text)
    assert [(c.id, c.text, c.metadata) for c in a] == [(c.id, c.text, c.metadata) for c in b]


def test_row_chunk_is_a_self_contained_sentence(loaded):
    for lt, doc in loaded:
        rows = [c for c in chunk_document(doc, lt.text) if c.metadata["kind"] == "row" and c.metadata["code"]]
        assert rows, doc.source
        for c in rows[:20]:
            assert c.text.startswith(f"{doc.department} {doc.year}年 "), c.text
            assert c.metadata["table_title"] and f"{c.metadata['table_title']}：" in c.text
            assert c.metadata["code"] in c.text and doc.unit in c.text


def test_each_table_has_a_summary_chunk(loaded):
    for lt, doc in loaded:
        summaries = [c for c in chunk_document(doc, lt.text) if c.metadata["kind"] == "table"]
        assert len(summaries) == len(doc.tables)
        assert all("单位：" in c.text for c in summaries)


# ------------------------------------------------------------------------------------------- scope


CATALOG = {
    "a": {"department": "许昌市人民政府办公室", "region": "许昌市", "year": 2024},
    "b": {"department": "许昌市政务服务和大数据管理局", "region": "许昌市", "year": 2024},
    "c": {"department": "漯河市人民政府办公室", "region": "漯河市", "year": 2023},
    "d": {"department": "许昌市人民政府驻北京联络处", "region": "许昌市", "year": 2024},
    "e": {"department": "开封市民政局", "region": "开封市", "year": 2022},
}
SCOPES = [
    ("full-name", "许昌市人民政府办公室2024年收入总计", [], {"许昌市人民政府办公室"}, [2024]),
    ("nickname", "大数据局的人员经费", [], {"许昌市政务服务和大数据管理局"}, []),
    ("abbrev-city", "漯河市政府办死亡抚恤", [], {"漯河市人民政府办公室"}, []),
    ("typo-region", "漯河市政俯办一般公共服务支出", [], {"漯河市人民政府办公室"}, []),
    ("ambiguous", "市政府办公室劳务费", [], {"许昌市人民政府办公室", "漯河市人民政府办公室"}, []),
    ("two-departments", "大数据局和驻京联络处谁多", [], {"许昌市政务服务和大数据管理局", "许昌市人民政府驻北京联络处"}, []),
    ("comparison-year", "开封市民政局比2021年增加了多少", [], {"开封市民政局"}, []),
    ("followup-inherits", "那项目支出呢？", ["大数据局2024年基本支出多少？"], {"许昌市政务服务和大数据管理局"}, [2024]),
    ("followup-switches", "那市政府办公室呢？", ["大数据局有几辆车？"],
     {"许昌市人民政府办公室", "漯河市人民政府办公室", "许昌市政务服务和大数据管理局"}, []),
    ("followup-chain", "里面装修改造那个多少钱？", ["漯河市政府办2023年项目支出多少？", "其中项目呢？"],
     {"漯河市人民政府办公室"}, [2023]),
    ("no-department", "哪个部门车最多？", [], set(), []),
]


@pytest.mark.parametrize("question,context,departments,years", [s[1:] for s in SCOPES], ids=[s[0] for s in SCOPES])
def test_scope_resolution(question, context, departments, years):
    scope = resolve_scope(question, context, CATALOG)
    assert set(scope.departments) == departments
    assert scope.years == years


def test_year_not_in_the_corpus_is_reported_not_filtered():
    scope = resolve_scope("许昌市人民政府办公室2025年三公经费", [], CATALOG)
    assert scope.departments == ["许昌市人民政府办公室"] and scope.years == [] and scope.unmatched_years == [2025]


@pytest.mark.parametrize("text,years", [("2024年收入", [2024]), ("比2023年增加", []), ("与2023年相比", []),
                                        ("2023年相比增长", []), ("２０２４年", [2024]), ("今年", [])],
                         ids=["plain", "bi", "yu-xiangbi", "xiangbi-after", "full-width", "none"])
def test_question_years(text, years):
    assert question_years(text) == years


# ------------------------------------------------------------------------------------------- retrieval


TWO_CHAR = [("三公", ("三公",)), ("项目", ("项目",)), ("社保", ("社保", "社会保障"))]


@pytest.mark.parametrize("term,expect", TWO_CHAR, ids=[t[0] for t in TWO_CHAR])
def test_two_character_terms_find_their_chunks(retriever, term, expect):
    hits = retriever.search(term, k=5, vector=False)
    assert len(hits) == 5
    assert all(any(e in h.text for e in expect) for h in hits), [h.text[:60] for h in hits]
    hybrid = retriever.search(f"{term}是多少", k=5)
    assert any(e in hybrid[0].text for e in expect)


def test_filters_restrict_every_hit(retriever):
    deps = {e["department"] for e in retriever.catalog.values()}
    dep = sorted(deps)[0]
    for hit in retriever.search("基本支出", k=10, department=dep):
        assert hit.metadata["department"] == dep
    for hit in retriever.search("基本支出", k=10, year=2022):
        assert hit.metadata["year"] == 2022
    for hit in retriever.search("基本支出", k=10, table="gp_basic"):
        assert hit.metadata["table"] == "gp_basic"
    for hit in retriever.search("基本支出", k=10, kind="narrative"):
        assert hit.metadata["kind"] == "narrative"
    assert retriever.search("基本支出", year=1999) == []


def test_hits_quote_their_source_exactly(retriever):
    for hit in retriever.search("机关运行经费", k=8):
        quote = retriever.quote(hit)
        assert quote and quote == retriever.store.text(hit.doc_id)[hit.char_start:hit.char_end]


def _printed_after(text: str, label: str) -> Decimal:
    m = re.search(label + r"[^0-9\n]{0,24}?(\d+(?:\.\d+)?)\s*万元", re.sub(r"\s+", "", text))
    assert m, label
    return Decimal(m.group(1))


UNSEEN = [  # (variant index, question template, label whose printed amount is the evidence)
    (0, "{name}{year}年机关运行经费是多少？", "机关运行经费支出预算"),
    (0, "{name}{year}年三公经费预算多少", "“三公”经费预算"),
    (1, "{short}的人员经费多少", "人员经费"),
    (1, "{name}收入总计是多少？", "收入总计"),
]


@pytest.mark.parametrize("index,template,label", UNSEEN, ids=["operating", "sangong", "personnel", "revenue"])
def test_unseen_departments_and_years(retriever, variant_files, index, template, label):
    path = variant_files[index]
    text = path.read_text(encoding="utf-8")
    name = variant_name((31, 47)[index])
    year = int(re.search(r"(20\d\d)\s*年度", text).group(1))
    question = template.format(name=name, short=name[3:], year=year)
    expected = _printed_after(text, label)
    hits = retriever.search(question, k=5)
    assert hits and all(h.source == path.name for h in hits), [h.source for h in hits]
    refs = [ChunkRef(h.source, h.text, h.char_start, h.char_end) for h in hits]
    assert any(evidence_in(r, [expected], [path.name], {path.name: text}) for r in refs), \
        (question, expected, [h.text[:80] for h in hits])


def test_cross_document_questions_spread_over_documents(retriever):
    hits = retriever.search("哪个部门车最多？", k=5)
    assert len({h.doc_id for h in hits}) >= 4


def test_followup_uses_the_conversation(retriever):
    hits = retriever.search("公用经费呢？", k=5, context=["大数据局2024年人员经费多少？"])
    assert hits and all("大数据" in h.metadata["department"] for h in hits)
    assert any("公用经费" in h.text for h in hits)


def test_jieba_is_silent_at_import_and_first_use():
    code = "import rag.lexical as l; l.tokenize('三公经费和项目支出'); l.query_tokens('社保')"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout == "" and out.stderr == ""
