"""PDF input: the real PDFs in data/realdocs (coverage measured from the PDFs' own words, exact provenance,
page numbers), PDFs of our own in the Shanghai / Jiangsu layouts (generated here, with the traps real ones
have: merged and wrapped header cells, titles inside the grid, double rules, invisible boxes, a row whose
rules were not drawn, page numbers, spaced digits), and the refusals (scan, encrypted, damaged)."""

from __future__ import annotations

import hashlib
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from extractor.errors import LoadError
from extractor.load import load_document
from extractor.models import TableKind
from extractor.pdf import load_pdf_bytes
from extractor.pipeline import extract_text

from .conftest import ROOT
from .pdfgen import Page, Pdf
from .pdfscan import covered, pdf_amount_words

REALDOCS = sorted((ROOT / "data" / "realdocs").glob("*.pdf"))


@pytest.fixture(scope="session")
def real_docs():
    out = {}
    for path in REALDOCS:
        loaded = load_document(path)
        out[path.name] = (path, loaded, extract_text(loaded))
    return out


def _extracted_by_page(doc) -> dict[int, Counter]:
    got: dict[int, Counter] = {}
    for _, _, c in doc.amounts():
        got.setdefault(c.amount.prov.page or 0, Counter())[c.amount.prov.quote] += 1
    return got


def _check_spans(text: str, doc) -> int:
    n = 0
    for _, _, c in doc.amounts():
        p = c.amount.prov
        assert text[p.char_start:p.char_end] == p.quote == c.amount.raw
        n += 1
    for t in doc.tables:
        assert text[t.title_prov.char_start:t.title_prov.char_end] == t.title_prov.quote
    for f in doc.facts:
        assert text[f.prov.char_start:f.prov.char_end] == f.prov.quote
    return n


# ---- the real PDFs ---------------------------------------------------------------------------------------

def test_every_real_pdf_is_present():
    assert len(REALDOCS) >= 8


@pytest.mark.parametrize("name", [p.name for p in REALDOCS])
def test_real_pdf_amount_cell_coverage(real_docs, name):
    path, _, doc = real_docs[name]
    words = pdf_amount_words(path)
    total, found, missing = covered(words, _extracted_by_page(doc))
    if total == 0:   # a blank template: its tables are still recognised, empty
        assert doc.tables and all(t.empty for t in doc.tables)
        return
    assert total > 50
    assert found / total >= 0.95, f"{name}: {found}/{total}; missing e.g. {missing[:5]}"


@pytest.mark.parametrize("name", [p.name for p in REALDOCS])
def test_real_pdf_quotes_pages_and_ids(real_docs, name):
    path, loaded, doc = real_docs[name]
    text = loaded.text
    _check_spans(text, doc)
    assert loaded.doc_id == hashlib.sha256(text.encode("utf-8")).hexdigest()[:16] == doc.doc_id
    starts = loaded.page_starts
    assert starts[0] == 0 and starts == sorted(starts) and len(starts) > 10
    words = pdf_amount_words(path, anywhere=True)
    n_pages = len(starts)
    for _, _, c in doc.amounts():
        p = c.amount.prov
        assert 1 <= p.page <= n_pages
        # the value is printed on the page its provenance names
        if "." in p.quote or "," in p.quote:
            assert words.get(p.page, Counter())[p.quote] > 0, (p.page, p.quote)


@pytest.mark.parametrize("name", [p.name for p in REALDOCS])
def test_real_pdf_table_units_and_department(real_docs, name):
    _, _, doc = real_docs[name]
    assert doc.department and doc.year and doc.kind in ("预算", "决算")
    assert doc.table(TableKind.summary) is not None and doc.table(TableKind.sangong) is not None
    for t, _, c in doc.amounts():
        assert c.amount.unit == t.unit in ("元", "万元")


def test_real_pdfs_cover_both_units(real_docs):
    units = {t.unit for _, _, doc in real_docs.values() for t in doc.tables if not t.empty}
    assert {"元", "万元"} <= units


def test_real_sangong_totals_are_three_parts(real_docs):
    """Wherever a 三公 table states its parts, sangong_total = 出国 + 用车 + 接待, and a 合计 that also covers
    会议费/培训费 is the table total, never the 三公 total."""
    checked = 0
    for _, _, doc in real_docs.values():
        for t in doc.tables_of(TableKind.sangong):
            for r in t.rows:
                roles = {c.role: c.amount.value for c in r.cells}
                if "sangong_total" not in roles or "sangong_abroad" not in roles:
                    continue
                parts = sum(roles.get(k, Decimal(0)) for k in
                            ("sangong_abroad", "sangong_vehicle", "sangong_reception"))
                assert abs(parts - roles["sangong_total"]) <= Decimal("0.01")
                if "meeting" in roles:
                    assert roles["total"] == roles["sangong_total"] + roles["meeting"] + roles.get(
                        "training", Decimal(0))
                    assert roles["total"] != roles["sangong_total"]
                checked += 1
    assert checked >= 4


def test_real_budget_actual_pairs_never_mixed(real_docs):
    for _, _, doc in real_docs.values():
        for t, _, c in doc.amounts():
            leaf = c.column.split("/")[-1]
            if leaf == "预算数" and any(col.endswith("决算数") for col in t.columns):
                assert c.role.startswith("budget_")
            if leaf == "决算数":
                assert not c.role.startswith("budget_")


# ---- PDFs of our own: Shanghai shape (元, split codes, merged header, continuation page) ----------------

def ruled(page: Page, xs: list[float], tops: list[float], cells: list[tuple], size: float = 8.0,
          double: bool = False) -> None:
    """Cells (row, col, rowspan, colspan, text[, align]) drawn with their own borders; merged cells have no
    inner rules. Text lines of a cell are separated by '|'; 'r' aligns right (amounts)."""
    for cell in cells:
        r, c, rs, cs, text = cell[:5]
        align = cell[5] if len(cell) > 5 else "l"
        x0, x1, t0, t1 = xs[c], xs[c + cs], tops[r], tops[r + rs]
        for x in (x0, x1):
            page.line(x, t0, x, t1)
            if double:
                page.line(x + 4, t0, x + 4, t1)   # a double rule: a sliver column between the two lines
        page.line(x0, t0, x1, t0)
        page.line(x0, t1, x1, t1)
        parts = text.split("|") if text else []
        for k, part in enumerate(parts):
            top = t0 + 3 + k * (size + 2)
            if align == "r":
                page.text_right(x1 - 2, top, part, size)
            else:
                page.text(x0 + 6, top, part, size)


SH_XS = [40, 80, 120, 160, 360, 500, 640, 780]
SH_HEAD = [(0, 0, 1, 4, "项目"), (0, 4, 1, 3, "支出预算"),
           (1, 0, 1, 3, "功能分类科目编码"), (1, 3, 2, 1, "功能分类科目名称"), (1, 4, 2, 1, "合计"),
           (1, 5, 2, 1, "基本支出"), (1, 6, 2, 1, "项目支出"),
           (2, 0, 1, 1, "类"), (2, 1, 1, 1, "款"), (2, 2, 1, 1, "项")]
SH_ROWS = [("205", "", "", "教育支出", "2,469,135.78", "2,000,000.00", "469,135.78"),
           ("205", "02", "", "普通教育", "2,469,135.78", "2,000,000.00", "469,135.78"),
           ("205", "02", "01", "学前教育", "1,234,567.89", "1,000,000.00", "234,567.89"),
           ("205", "02", "02", "小学教育", "1,234,567.89", "1,000,000.00", "234,567.89")]
SH_ROWS_2 = [("221", "", "", "住房保障支出", "30,000.00", "30,000.00", ""),
             ("221", "02", "01", "住房公积金", "30,000.00", "30,000.00", "")]


def _data_cells(r0: int, data: list[tuple]) -> list[tuple]:
    out = []
    for i, row in enumerate(data):
        for c, v in enumerate(row):
            out.append((r0 + i, c, 1, 1, v, "r" if c >= 4 else "l"))
    return out


def shanghai_pdf() -> bytes:
    pdf = Pdf()
    p1 = pdf.page(842, 595)
    p1.text(300, 40, "2026年部门支出预算总表", 14)
    p1.text(40, 70, "编制部门：上海市某区测试中心")
    p1.text(700, 70, "单位：元")
    tops = [90 + 18 * i for i in range(8)]
    ruled(p1, SH_XS, tops, SH_HEAD + _data_cells(3, SH_ROWS))
    p1.text(410, 560, "- 1 -")
    p2 = pdf.page(842, 595)
    # the first row of the continuation page was printed without its rules (they fell on the page break)
    for c, v in enumerate(("210", "11", "01", "行政单位医疗", "200,000.00", "200,000.00", "")):
        if v:
            p2.text_right(SH_XS[c + 1] - 2, 42, v, 8) if c >= 4 else p2.text(SH_XS[c] + 6, 42, v, 8)
    tops2 = [56 + 18 * i for i in range(4)]
    ruled(p2, SH_XS, tops2, _data_cells(0, SH_ROWS_2) + [
        (2, 0, 1, 4, "合计"), (2, 4, 1, 1, "2,699,135.78", "r"), (2, 5, 1, 1, "2,230,000.00", "r"),
        (2, 6, 1, 1, "469,135.78", "r")])
    p2.text(40, 160, "其他相关情况说明", 12)
    # a sentence whose numbers the PDF sets apart from the Chinese with spaces
    p2.text(40, 185, "2026")
    p2.text(82, 185, "年“三公”经费预算数为")
    p2.text(190, 185, "12.30")
    p2.text(246, 185, "万元。")
    p2.text(410, 560, "- 2 -")
    return pdf.bytes()


@pytest.fixture(scope="module")
def shanghai():
    loaded = load_pdf_bytes(shanghai_pdf(), Path("shanghai_variant.pdf"))
    return loaded, extract_text(loaded)


def test_generated_shanghai_layout(shanghai):
    loaded, doc = shanghai
    text = loaded.text
    assert loaded.encoding == "pdf" and len(loaded.page_starts) == 2
    assert "- 1 -" not in text and "- 2 -" not in text          # page numbers are not content
    assert "2026年“三公”经费预算数为12.30万元。" in text          # spaces between Chinese and digits closed
    exp = doc.table(TableKind.expenditure)
    assert exp is not None and exp.unit == "元" and doc.department == "上海市某区测试中心"
    by_code = {r.code: r for r in exp.rows if r.code}
    assert set(by_code) == {"205", "20502", "2050201", "2050202", "221", "2210201", "2101101"}
    assert by_code["2050201"].label == "学前教育"
    assert by_code["2050201"].get("total").amount.value == Decimal("1234567.89")
    assert by_code["2050201"].get("basic").amount.value == Decimal("1000000.00")
    assert by_code["2050201"].get("project").amount.value == Decimal("234567.89")
    assert by_code["2101101"].get("total").amount.prov.page == 2     # the row printed without rules
    total = next(r for r in exp.rows if r.is_total)
    assert total.get("total").amount.value == Decimal("2699135.78") and total.get("total").amount.unit == "元"
    assert total.get("total").amount.prov.page == 2
    assert by_code["205"].get("total").amount.prov.page == 1
    assert _check_spans(text, doc) == 21


def test_generated_shanghai_text_is_tsv(shanghai):
    loaded, _ = shanghai
    lines = loaded.text.split("\n")
    assert "205\t02\t01\t学前教育\t1,234,567.89\t1,000,000.00\t234,567.89" in lines
    # merged header cells sit in their first column, blanks after them (as in the TSV sources)
    assert "项目\t\t\t\t支出预算\t\t" in lines
    assert "编制部门：上海市某区测试中心  单位：元" in lines


# ---- Jiangsu shape: title and 部门 line inside the grid, 三公 + 会议费 + 培训费, double rules, white boxes -----

JS_XS = [30 + 60 * i for i in range(10)]


def jiangsu_pdf() -> bytes:
    pdf = Pdf()
    p = pdf.page()
    tops = [60, 80, 98, 128, 148, 166, 184]
    cells = [
        (0, 0, 1, 9, "“三公”经费、会议费、培训费支出预算表"),
        (1, 0, 1, 1, "部门："), (1, 1, 1, 6, "某某厅"), (1, 7, 1, 2, "单位：万元"),
        (2, 0, 3, 1, "合计"), (2, 1, 1, 6, "“三公”经费"), (2, 7, 3, 1, "会议费"), (2, 8, 3, 1, "培训费"),
        (3, 1, 2, 1, "小计"), (3, 2, 2, 1, "因公出国|（境）费"), (3, 3, 1, 3, "公务用车购置及运行维护费"),
        (3, 6, 2, 1, "公务接待费"),
        (4, 3, 1, 1, "小计"), (4, 4, 1, 1, "购置费"), (4, 5, 1, 1, "运行维护费"),
    ]
    values = ["96.50", "41.50", "10.00", "25.00", "5.00", "20.00", "6.50", "30.00", "25.00"]
    cells += [(5, c, 1, 1, v, "r") for c, v in enumerate(values)]
    # converters lay white boxes under text; one that covers only the top line of a tall cell would cut the
    # cell in two if taken for a rule
    p.white_box(JS_XS[2] + 2, tops[3] + 1, JS_XS[3] - 2, tops[3] + 11)
    p.white_box(JS_XS[0] + 2, tops[2] + 1, JS_XS[1] - 2, tops[2] + 12)
    ruled(p, JS_XS, tops, cells, double=True)
    p.text(30, 230, "本表反映部门年度一般公共预算资金安排的“三公”经费情况。")
    return pdf.bytes()


def test_generated_jiangsu_sangong():
    loaded = load_pdf_bytes(jiangsu_pdf(), Path("jiangsu_variant.pdf"))
    doc = extract_text(loaded)
    lines = loaded.text.split("\n")
    assert lines[0] == "“三公”经费、会议费、培训费支出预算表"     # the title printed inside the grid
    assert any("因公出国（境）费" in line.split("\t") for line in lines)   # wrapped header cell joined
    sg = doc.table(TableKind.sangong)
    assert sg is not None and sg.unit == "万元" and doc.department == "某某厅"
    roles = {c.role: c.amount.value for r in sg.rows for c in r.cells}
    assert roles == {"total": Decimal("96.50"), "sangong_total": Decimal("41.50"),
                     "sangong_abroad": Decimal("10.00"), "sangong_vehicle": Decimal("25.00"),
                     "sangong_vehicle_purchase": Decimal("5.00"), "sangong_vehicle_operation": Decimal("20.00"),
                     "sangong_reception": Decimal("6.50"), "meeting": Decimal("30.00"),
                     "training": Decimal("25.00")}
    assert _check_spans(loaded.text, doc) == 9


# ---- refusals ------------------------------------------------------------------------------------------

def _scan() -> bytes:
    pdf = Pdf()
    pdf.page().picture()
    pdf.page().picture()
    return pdf.bytes()


def _encrypted() -> bytes:
    pdf = Pdf(encrypted=True)
    pdf.page().text(60, 60, "2026年部门预算 支出 万元")
    return pdf.bytes()


def _no_budget() -> bytes:
    pdf = Pdf()
    pdf.page().text(60, 60, "会议通知：请各位准时参加。")
    return pdf.bytes()


BAD = [
    ("scan", _scan, "no text layer", "OCR"),
    ("encrypted", _encrypted, "encrypted", "password"),
    ("damaged", lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog", "cannot read the PDF", "re-download"),
    ("not_pdf", lambda: b"PK\x03\x04 a zip file renamed", "not a PDF", ".txt"),
    ("not_budget", _no_budget, "not a budget document", "budget"),
]


@pytest.mark.parametrize(("make", "reason", "hint"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_pdfs_are_refused_with_reason(tmp_path, make, reason, hint):
    path = tmp_path / "input.pdf"
    path.write_bytes(make())
    with pytest.raises(LoadError) as err:
        load_document(path)
    message = str(err.value)
    assert str(path) in message and reason in message and hint in message


def test_same_pdf_same_doc_id():
    data = shanghai_pdf()
    a = load_pdf_bytes(data, Path("a.pdf"))
    b = load_pdf_bytes(data, Path("b.pdf"))
    assert a.doc_id == b.doc_id and a.text == b.text


# ---- the QA cases over these PDFs: every expected number is printed in its source -------------------------

def _printed_forms(value: str) -> set[str]:
    whole, _, frac = value.partition(".")
    grouped = f"{int(whole):,}" + (f".{frac}" if frac else "")
    return {value, grouped}


def test_qa_realdocs_numbers_are_printed(real_docs):
    import json

    cases = [json.loads(line) for line in
             (ROOT / "evals" / "fixtures" / "qa_realdocs.jsonl").read_text(encoding="utf-8").splitlines() if line]
    assert len(cases) >= 30 and len({c["id"] for c in cases}) == len(cases)
    for case in cases:
        assert all(src in real_docs for src in case["expected_sources"]), case["id"]
        assert case["abstain"] == (not case["expected_numbers"])
        for num in case["expected_numbers"]:
            texts = [real_docs[src][1].text for src in case["expected_sources"]]
            assert any(form in text for form in _printed_forms(num["value"]) for text in texts), (case["id"], num)
            assert num["unit"] in ("元", "万元")


# ---- a table printed without rules: columns from the gaps its rows share ----------------------------------

def unruled_pdf() -> bytes:
    pdf = Pdf()
    p = pdf.page()
    p.text(150, 50, "某某局2027年一般公共预算支出预算表", 12)
    p.text(40, 80, "部门：某某局")
    p.text(440, 80, "单位：万元")
    p.text(40, 110, "科目编码")
    p.text(130, 110, "科目名称")
    p.text(330, 110, "合计")
    p.text(430, 110, "基本支出")
    rows = [("201", "一般公共服务支出", "120.50", "100.00"), ("20101", "人大事务", "120.50", "100.00"),
            ("2010101", "行政运行", "100.00", "100.00"), ("2010102", "一般行政管理事务", "20.50", "")]
    for i, (code, name, total, basic) in enumerate(rows):
        top = 130 + 18 * i
        p.text(40, top, code, 8)
        p.text(130, top, name, 9)
        p.text_right(380, top, total, 8)
        if basic:
            p.text_right(490, top, basic, 8)
    p.text(40, 230, "注：本表金额保留两位小数。")
    return pdf.bytes()


def test_unruled_table_columns_from_gaps():
    loaded = load_pdf_bytes(unruled_pdf(), Path("unruled.pdf"))
    doc = extract_text(loaded)
    lines = loaded.text.split("\n")
    assert "2010102\t一般行政管理事务\t20.50\t" in lines
    assert "科目编码\t科目名称\t合计\t基本支出" in lines
    table = doc.table(TableKind.gp_expenditure)
    assert table is not None
    by_code = {r.code: r for r in table.rows}
    assert by_code["2010101"].get("total").amount.value == Decimal("100.00")
    assert by_code["201"].get("basic").amount.value == Decimal("100.00")
    assert by_code["2010102"].get("basic") is None
    assert _check_spans(loaded.text, doc) == 7
