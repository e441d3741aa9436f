"""The app in a real browser: Debian's chromium driven by Playwright (never `playwright install`).

One app (samples ingested into a temporary store) and one browser for the module; screenshots go to
artifacts/ (not committed). Needs /usr/bin/chromium (scripts/system-deps.sh installs it)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.app_harness import build_sample_store, served_app
from tests.variants import DocSpec, build_document

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
WAIT = 60_000  # ms: the machine may be busy; waits end as soon as the page is ready

if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed (run scripts/system-deps.sh)", allow_module_level=True)

HOSTILE_BODY = (
    "本部门<script>document.title='pwned';window.__pwned=1</script>负责全市应急管理工作，"
    '<img src=x onerror="window.__pwned=2">统筹防灾减灾，[点此领取](javascript:window.__pwned=3)，'
    "${window.__pwned=4}，{{constructor.constructor('window.__pwned=5')()}}。"
)


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    root = build_sample_store(tmp_path_factory.mktemp("browser") / "store")
    with served_app(root) as (url, app):
        yield url, app


@pytest.fixture(scope="module")
def page(app_url):
    from playwright.sync_api import sync_playwright

    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
        errors: list[str] = []
        pg.on("pageerror", lambda e: errors.append(str(e)))
        pg.goto(app_url[0], wait_until="domcontentloaded")
        pg.wait_for_selector("#bqa-question textarea", timeout=WAIT)
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


def _tab(pg, name: str) -> None:
    pg.get_by_role("tab", name=name).click()


def _ask(pg, question: str, turn: int) -> None:
    _tab(pg, "问答")
    pg.fill("#bqa-question textarea", question)
    pg.click("#bqa-send")
    pg.wait_for_selector(f"#bqa-chat a[href^='#cite-{turn}-']", timeout=WAIT)


def _pick(pg, selector: str, text: str) -> None:
    """Choose the option of a Gradio dropdown whose label contains `text`."""
    pg.click(f"{selector} input")
    pg.fill(f"{selector} input", "")
    pg.get_by_role("option", name=re.compile(re.escape(text))).first.click()


def _first_doc(app) -> tuple[str, str, int, str]:
    """(doc_id, department, year, source) of the first sample by file name."""
    from ui.app.adapters import short_department

    catalog = app.budgetqa_service.catalog(fresh=True)
    doc_id, e = sorted(catalog.items(), key=lambda kv: kv[1]["source"])[0]
    return doc_id, short_department(e["department"]), e["year"], e["source"]


def _department(app) -> tuple[str, int]:
    return _first_doc(app)[1:3]


def test_ask_shows_answer_with_citation_and_badge(page, app_url):
    dept, year = _department(app_url[1])
    _ask(page, f"{dept}{year}年的支出总计是多少？", turn=0)
    bubble = page.locator("#bqa-chat .bot").filter(has=page.locator("a[href='#cite-0-1']")).first
    text = bubble.inner_text()
    assert dept in text and re.search(r"\d+(\.\d+)?万元", text), text
    assert bubble.locator(".bqa-badge.bqa-ok").count() >= 1
    assert "离线" in text
    page.screenshot(path=str(ARTIFACTS / "app-chat-answer.png"))


def test_clicking_a_citation_highlights_its_source(page):
    quote = page.locator("#bqa-cites [data-cite='0-1']").inner_text().split("「")[-1].rstrip("」")
    page.click("#bqa-chat a[href='#cite-0-1']")
    mark = page.locator("#bqa-chat-source mark.bqa-focus")
    mark.wait_for(timeout=WAIT)
    assert mark.inner_text() == quote
    # scrolled into view inside the viewer's scroll box
    page.wait_for_timeout(300)
    box = page.locator("#bqa-chat-source .bqa-src-body").bounding_box()
    m = mark.bounding_box()
    assert box and m and box["y"] <= m["y"] <= box["y"] + box["height"], (box, m)
    page.screenshot(path=str(ARTIFACTS / "app-citation-source.png"))


def test_follow_up_uses_the_conversation(page, app_url):
    dept, _year = _department(app_url[1])
    _ask(page, "那项目支出呢？", turn=1)
    last = page.locator("#bqa-chat .bot").filter(has=page.locator("a[href^='#cite-1-']")).first.inner_text()
    assert dept in last and "项目支出" in last, last


def _upload(page, path: Path) -> str:
    _tab(page, "文档")
    page.set_input_files("#bqa-upload input[type=file]", str(path))
    status = page.locator("#bqa-upload-status")
    status.filter(has_text=path.name).wait_for(timeout=WAIT)  # this upload's report, not the previous one
    return status.inner_text()


def test_upload_a_document_and_see_it_listed_and_answered(page, tmp_path):
    text, _ = build_document(["summary", "expenditure", "gp_basic", "sangong"],
                             DocSpec(department="鹤壁市退役军人事务局", year=2033))
    path = tmp_path / "hebi_2033.txt"
    path.write_text(text, encoding="utf-8")
    status = _upload(page, path)
    assert "已入库" in status and "hebi_2033.txt" in status, status
    page.locator("#bqa-docs").filter(has_text="鹤壁市退役军人事务局").wait_for(timeout=WAIT)
    row = page.locator("#bqa-docs [role=row]").filter(has_text="hebi_2033.txt").inner_text()
    assert "2033" in row and "预算" in row
    page.screenshot(path=str(ARTIFACTS / "app-documents.png"), full_page=True)
    turn = page.locator("#bqa-chat a[href^='#cite-']").evaluate_all(
        "els => new Set(els.map(e => e.getAttribute('href').split('-')[1])).size")
    _ask(page, "鹤壁市退役军人事务局2033年的“三公”经费是多少？", turn=turn)
    assert page.locator(f"#bqa-cites [data-cite='{turn}-1']").inner_text().find("hebi_2033.txt") >= 0


def test_refused_upload_shows_the_reason(page, tmp_path):
    path = tmp_path / "minutes.txt"
    path.write_text("会议纪要：今天天气很好。", encoding="utf-8")
    status = _upload(page, path)
    assert "minutes.txt" in status and "✗" in status and "not a budget document" in status, status


def test_data_tab_shows_tables_and_charts(page, app_url):
    dept, year = _department(app_url[1])
    _tab(page, "数据")
    _pick(page, "#bqa-data-doc", f"{dept} · {year}")
    page.locator("#bqa-table [role=row]").nth(1).wait_for(timeout=WAIT)
    for plot in ("#bqa-func-plot", "#bqa-bp-plot", "#bqa-cmp-plot"):
        page.locator(f"{plot} canvas, {plot} svg.marks").first.wait_for(timeout=WAIT)
    caption = page.locator("#bqa-table-caption").inner_text()
    assert "单位" in caption
    page.wait_for_timeout(800)  # let vega finish drawing before the screenshot
    page.screenshot(path=str(ARTIFACTS / "app-data.png"), full_page=True)


def test_checks_tab_links_a_value_to_its_place(page, app_url):
    doc_id, dept, year, source = _first_doc(app_url[1])
    _tab(page, "核查")
    _pick(page, "#bqa-chk-doc", f"{dept} · {year}")
    chip = page.locator(f"#bqa-findings [data-doc='{doc_id}'] [data-finding]").first  # this document's list
    chip.wait_for(timeout=WAIT)
    value = chip.inner_text().split(" · ")[0]
    chip.click()
    mark = page.locator("#bqa-chk-source mark.bqa-focus")
    mark.wait_for(timeout=WAIT)
    assert mark.inner_text().replace(",", "") == value.replace(",", "")
    assert page.locator("#bqa-chk-source .bqa-src-title").inner_text() == source
    page.screenshot(path=str(ARTIFACTS / "app-checks.png"), full_page=True)


def test_document_with_script_does_not_execute(page, tmp_path):
    text, _ = build_document(["summary", "expenditure"], DocSpec(department="濮阳市应急管理局", year=2034))
    text = text.replace("负责全市文化旅游工作。", HOSTILE_BODY)
    assert HOSTILE_BODY in text
    path = tmp_path / "puyang_2034.md"
    path.write_text(text, encoding="utf-8")
    title = page.title()
    status = _upload(page, path)
    assert "已入库" in status, status
    _pick(page, "#bqa-doc-pick", "puyang_2034.md")
    page.click("#bqa-view-doc")
    viewer = page.locator("#bqa-doc-source .bqa-src-body")
    viewer.filter(has_text="<script>").wait_for(timeout=WAIT)
    shown = viewer.inner_text()
    for piece in ("<script>document.title='pwned';window.__pwned=1</script>", '<img src=x onerror="window.__pwned=2">',
                  "[点此领取](javascript:window.__pwned=3)", "${window.__pwned=4}"):
        assert piece in shown  # shown literally, as text
    page.screenshot(path=str(ARTIFACTS / "app-hostile-source.png"), full_page=True)
    # the hostile text also goes through the chat (the question quotes it) and the checks tab
    _tab(page, "问答")
    page.fill("#bqa-question textarea", '<img src=x onerror="window.__pwned=6">濮阳市应急管理局的主要职责是什么？')
    page.click("#bqa-send")
    page.locator("#bqa-chat .user").filter(has_text="onerror").first.wait_for(timeout=WAIT)
    page.wait_for_timeout(1500)
    _tab(page, "核查")
    _pick(page, "#bqa-chk-doc", "puyang_2034.md")
    page.wait_for_timeout(1000)
    assert page.evaluate("window.__pwned") is None
    assert page.title() == title and "pwned" not in page.title()
    assert page.locator("#bqa-doc-source script, #bqa-chat script, #bqa-doc-source img, #bqa-chat img[src=x]").count() == 0
    page.screenshot(path=str(ARTIFACTS / "app-hostile-document.png"), full_page=True)


def test_example_question_fills_the_box(page):
    _tab(page, "问答")
    example = page.locator("#bqa-examples button").first
    example.wait_for(timeout=WAIT)
    text = example.inner_text().strip()
    example.click()
    page.wait_for_function("t => document.querySelector('#bqa-question textarea').value === t", arg=text,
                           timeout=WAIT)


def test_no_page_errors(page):
    assert not page.errors, page.errors
