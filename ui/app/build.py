"""The Gradio app: `build_app()` lays out the five tabs and wires events; `launch()` serves it.

Callbacks are thin: they call the service (engines) and the pure adapters, and turn errors into messages
on the page (a warning toast or a status line), never a stack trace."""

from __future__ import annotations

import functools
import logging
import os
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")  # before gradio is imported: no calls home

import gradio as gr  # noqa: E402

from extractor.errors import BudgetQAError  # noqa: E402
from extractor.settings import Settings, get_settings  # noqa: E402

from . import adapters as A  # noqa: E402
from . import tables as T  # noqa: E402
from .assets import CITE_JS, CSS, FINDINGS_JS, VIEWER_JS  # noqa: E402
from .service import AppService, EngineFactory  # noqa: E402

log = logging.getLogger(__name__)

CHAT_CONCURRENCY = 16   # the offline engine answers in milliseconds; questions need not queue behind each other
ALL = ""                # the "no filter" value of the department/year selectors
SUITES = [("抽取 extraction", "extraction"), ("检索 retrieval", "retrieval"), ("问答 qa", "qa"), ("全部 all", "all")]


def _message(exc: BaseException) -> str:
    if isinstance(exc, BudgetQAError):
        return str(exc)
    log.exception("budgetqa app: a callback failed")
    return f"内部错误（{type(exc).__name__}）。详情已写入服务器日志。"


def guarded(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Any failure becomes a message in the page (gr.Error shows its text; no traceback reaches the browser)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except gr.Error:
            raise
        except Exception as exc:  # noqa: BLE001 — the page shows the message; the log keeps the trace
            raise gr.Error(_message(exc), print_exception=False) from None

    return wrapper


def _choices_with_all(values: list[str], all_label: str) -> list[tuple[str, str]]:
    return [(all_label, ALL)] + [(v, v) for v in values]


def _keep(value: Any, choices: list[tuple[str, str]]) -> Any:
    """The current selection if it is still offered, else the first choice (None when there is none)."""
    keys = [k for _l, k in choices]
    return value if value in keys else (keys[0] if keys else None)


def build_app(store: str | Path | None = None, settings: Settings | None = None, *,
              engine_factory: EngineFactory | None = None, service: AppService | None = None) -> gr.Blocks:
    """The app over a store (`--store`, else BUDGETQA_HOME, else ./.budgetqa); an empty store is fine."""
    from rag.store import resolve_store_dir

    settings = settings or get_settings()
    svc = service or AppService(resolve_store_dir(store, settings), settings, engine_factory)
    csv_dir = Path(tempfile.mkdtemp(prefix="budgetqa-csv-"))

    with gr.Blocks(title="budgetqa · 预算文件问答", analytics_enabled=False) as app:
        gr.Markdown("## budgetqa · 部门预算/决算文件问答、数据与核查")
        mode_md = gr.Markdown(elem_classes=["bqa-mode"], elem_id="bqa-mode")

        with gr.Tabs():
            # ---------------------------------------------------------------------------- 问答
            with gr.Tab("问答", id="chat"):
                with gr.Row():
                    with gr.Column(scale=3):
                        chatbot = gr.Chatbot(label="问答", height=520, latex_delimiters=[], elem_id="bqa-chat",
                                             buttons=["copy"], feedback_options=None,
                                             placeholder="提问部门预算/决算文件中的数字：总额、基本/项目支出、三公经费、"
                                                         "功能/经济分类科目、项目、绩效指标……")
                        with gr.Row():
                            question = gr.Textbox(show_label=False, scale=5, elem_id="bqa-question",
                                                  placeholder="输入问题，回车提问（可以追问：“那项目支出呢？”）")
                            send = gr.Button("提问", variant="primary", scale=1, elem_id="bqa-send")
                        with gr.Row():
                            dept = gr.Dropdown(label="部门筛选", choices=[("全部部门", ALL)], value=ALL,
                                               elem_id="bqa-dept")
                            year = gr.Dropdown(label="年度筛选", choices=[("全部年度", ALL)], value=ALL,
                                               elem_id="bqa-year")
                            new_chat = gr.Button("新对话", elem_id="bqa-new")
                        examples = gr.Dataset(label="示例问题（点击填入）", components=[question], samples=[],
                                              elem_id="bqa-examples")
                    with gr.Column(scale=2):
                        cites = gr.HTML(A.citation_panel_html([], 0), js_on_load=CITE_JS, elem_id="bqa-cites")
                        chat_source = gr.HTML(A.empty_source_html(), js_on_load=VIEWER_JS, elem_id="bqa-chat-source")
                turns = gr.State([])   # per answered turn: its citations (what a clicked [n] resolves against)
                conv = gr.State("")    # this session's conversation id (follow-ups resolve against it)

            # ---------------------------------------------------------------------------- 文档
            with gr.Tab("文档", id="docs"):
                upload = gr.File(label=f"上传预算文件（.txt / .md / .pdf，单个不超过 {settings.max_upload_mb:g} MB）",
                                 file_count="multiple", type="filepath", elem_id="bqa-upload",
                                 file_types=[".txt", ".md", ".markdown", ".text", ".tsv", ".pdf"])
                upload_status = gr.Markdown(elem_id="bqa-upload-status")
                docs_table = gr.Dataframe(headers=A.DOCUMENT_HEADERS, interactive=False, elem_id="bqa-docs",
                                          label="已入库的文档", wrap=True)
                with gr.Row():
                    doc_pick = gr.Dropdown(label="选择文档", choices=[], elem_id="bqa-doc-pick", scale=4)
                    view_doc = gr.Button("查看原文", elem_id="bqa-view-doc", scale=1)
                    remove_doc = gr.Button("删除此文档", variant="stop", elem_id="bqa-remove-doc", scale=1)
                doc_source = gr.HTML(A.empty_source_html("选择一个文档并点击“查看原文”。"), js_on_load=VIEWER_JS,
                                     elem_id="bqa-doc-source")

            # ---------------------------------------------------------------------------- 数据
            with gr.Tab("数据", id="data"):
                data_doc = gr.Dropdown(label="部门 · 年度", choices=[], elem_id="bqa-data-doc")
                with gr.Row():
                    table_pick = gr.Dropdown(label="表格", choices=[], elem_id="bqa-table-pick", scale=4)
                    csv_btn = gr.DownloadButton("下载 CSV", value=None, elem_id="bqa-csv", scale=1)
                table_caption = gr.Markdown(elem_id="bqa-table-caption")
                table_df = gr.Dataframe(interactive=False, wrap=True, max_height=420, elem_id="bqa-table")
                with gr.Row():
                    func_plot = gr.BarPlot(x="功能分类", y=T.AMOUNT, title="按功能分类的支出", tooltip="all",
                                           y_title="金额（万元）", elem_id="bqa-func-plot", sort="-y")
                    bp_plot = gr.BarPlot(x="项目", y=T.AMOUNT, color="分组", title="基本支出 vs 项目支出",
                                         tooltip="all", y_title="金额（万元）", elem_id="bqa-bp-plot")
                with gr.Row():
                    sg_plot = gr.BarPlot(x="项目", y=T.AMOUNT, title="“三公”经费构成", tooltip="all",
                                         y_title="金额（万元）", elem_id="bqa-sg-plot")
                    with gr.Column():
                        metric = gr.Dropdown(label="跨部门对比的指标", choices=T.metric_choices(),
                                             value="expenditure_sum", elem_id="bqa-metric")
                        cmp_plot = gr.BarPlot(x="部门", y=T.AMOUNT, title="各部门对比", tooltip="all", sort="-y",
                                              x_label_angle=-30, elem_id="bqa-cmp-plot")

            # ---------------------------------------------------------------------------- 核查
            with gr.Tab("核查", id="checks"):
                chk_doc = gr.Dropdown(label="文档", choices=[], elem_id="bqa-chk-doc")
                chk_summary = gr.Markdown(elem_id="bqa-chk-summary")
                with gr.Row():
                    findings = gr.HTML(A.findings_html([]), js_on_load=FINDINGS_JS, elem_id="bqa-findings")
                    chk_source = gr.HTML(A.empty_source_html(), js_on_load=VIEWER_JS, elem_id="bqa-chk-source")

            # ---------------------------------------------------------------------------- 评测
            with gr.Tab("评测", id="evals"):
                gr.Markdown("用手工标注的样例评测抽取、检索与问答；每次运行会与同一套件的上一次运行比较。"
                            "评测使用自带的样例文件，与已上传的文档无关。")
                with gr.Row():
                    suite = gr.Radio(SUITES, value="extraction", label="评测套件", elem_id="bqa-suite", scale=4)
                    run_eval = gr.Button("运行评测", variant="primary", elem_id="bqa-run-eval", scale=1)
                eval_report = gr.Markdown(elem_id="bqa-eval-report")

        # ==================================================================================== callbacks

        def selectors(dept_v: Any, year_v: Any, doc_v: Any, data_v: Any, chk_v: Any) -> tuple[Any, ...]:
            """Every selector that lists documents, refreshed (after load, upload, removal)."""
            catalog = svc.catalog(fresh=True)
            docs = A.doc_choices(catalog)
            depts = _choices_with_all(A.department_choices(catalog), "全部部门")
            years = _choices_with_all(A.year_choices(catalog), "全部年度")
            header = f"**模式**：{A.mode_label(svc.mode())} · **库**：`{svc.root}` · {len(catalog)} 个文档"
            return (header, gr.Dropdown(choices=depts, value=_keep(dept_v, depts)),
                    gr.Dropdown(choices=years, value=_keep(year_v, years)),
                    gr.Dataset(samples=[[q] for q in A.example_questions(catalog)]),
                    A.documents_frame_rows(svc.document_rows()),
                    gr.Dropdown(choices=docs, value=_keep(doc_v, docs)),
                    gr.Dropdown(choices=docs, value=_keep(data_v, docs)),
                    gr.Dropdown(choices=docs, value=_keep(chk_v, docs)))

        selector_inputs = [dept, year, doc_pick, data_doc, chk_doc]
        selector_outputs = [mode_md, dept, year, examples, docs_table, doc_pick, data_doc, chk_doc]
        app.load(guarded(selectors), selector_inputs, selector_outputs, api_visibility="private")

        # ---- 问答
        def on_ask(message: str, history: list[Any], turns_v: list[Any], conv_v: str, dept_v: str, year_v: str):
            q = (message or "").strip()
            history = list(history or [])
            if not q:
                gr.Warning("请输入问题")
                yield history, turns_v, conv_v, gr.skip(), gr.skip()
                return
            conv_v = conv_v or uuid.uuid4().hex
            yield history + A.pending_messages(q), turns_v, conv_v, "", gr.skip()
            try:
                answer = A.as_dict(svc.ask(q, conv_v, dept_v or None, year_v or None))
            except Exception as exc:  # noqa: BLE001 — shown in the chat, logged on the server
                msg = _message(exc)
                gr.Warning(msg)
                yield history + A.error_messages(q, msg), turns_v, conv_v, "", gr.skip()
                return
            turn = len(turns_v)
            cits = answer.get("citations") or []
            yield (history + A.chat_messages(q, answer, turn), [*turns_v, cits], conv_v, "",
                   A.citation_panel_html(cits, turn))

        ask_outputs = [chatbot, turns, conv, question, cites]
        for trigger in (send.click, question.submit):
            trigger(on_ask, [question, chatbot, turns, conv, dept, year], ask_outputs,
                    concurrency_limit=CHAT_CONCURRENCY, api_visibility="private")

        @guarded
        def on_cite(turns_v: list[Any], evt: gr.EventData) -> str:
            key = A.parse_cite_key(getattr(evt, "_data", {}).get("key") if evt else None)
            if key is None or key[0] >= len(turns_v) or not 1 <= key[1] <= len(turns_v[key[0]]):
                return A.empty_source_html("这条引用已不在本次对话中。")
            c = turns_v[key[0]][key[1] - 1]
            return A.source_html(svc.text(str(c["doc_id"])), [(c["char_start"], c["char_end"])],
                                 quotes=[str(c.get("quote") or "")], title=f"[{key[1]}] {c.get('source', '')}",
                                 subtitle=str(c.get("locator") or ""))

        cites.cite(on_cite, [turns], chat_source, api_visibility="private")  # type: ignore[attr-defined]

        def on_new_chat() -> tuple[Any, ...]:
            return [], [], "", A.citation_panel_html([], 0), A.empty_source_html()

        new_chat.click(on_new_chat, None, [chatbot, turns, conv, cites, chat_source], api_visibility="private")
        examples.click(lambda sample: sample[0] if sample else "", examples, question, api_visibility="private")

        # ---- 文档
        @guarded
        def on_upload(files: list[str] | None, *current: Any, progress: gr.Progress = gr.Progress()):
            paths = [Path(f) for f in (files or [])]
            if not paths:
                return ("没有选择文件。", None, *selectors(*current))
            progress(0, desc="准备入库…")

            def report(i: int, n: int, name: str) -> None:
                progress((i, n), desc=f"抽取、核查并索引：{name}" if name else "写入索引…")

            result = svc.ingest(paths, on_progress=report)
            for e in result.errors:
                gr.Warning(e)
            return (A.upload_report_md(result.added, result.skipped, result.replaced, result.errors), None,
                    *selectors(*current))

        upload.upload(on_upload, [upload, *selector_inputs], [upload_status, upload, *selector_outputs],
                      concurrency_limit=1, api_visibility="private")

        @guarded
        def on_view_doc(doc_id: str | None) -> str:
            if not doc_id:
                return A.empty_source_html("请先选择一个文档。")
            text = svc.text(doc_id)
            doc = svc.document(doc_id)
            return A.source_html(text, [], title=doc.source, subtitle=A.doc_label(svc.catalog().get(doc_id, {})))

        view_doc.click(on_view_doc, doc_pick, doc_source, api_visibility="private")

        @guarded
        def on_remove(doc_id: str | None, *current: Any) -> tuple[Any, ...]:
            if not doc_id:
                raise BudgetQAError("请先选择要删除的文档")
            name = svc.remove(doc_id)
            return (f"已删除：{A.escape_md(name)}", A.empty_source_html("文档已删除。"), *selectors(*current))

        remove_doc.click(on_remove, [doc_pick, *selector_inputs], [upload_status, doc_source, *selector_outputs],
                         concurrency_limit=1, api_visibility="private")

        # ---- 数据
        @guarded
        def on_data_doc(doc_id: str | None, metric_key: str | None) -> tuple[Any, ...]:
            if not doc_id:
                empty = gr.BarPlot(value=None)
                return (gr.Dropdown(choices=[], value=None), *on_table(None, None), empty, empty, empty,
                        on_metric(metric_key))
            doc = svc.document(doc_id)
            choices = T.table_choices(doc)
            first = choices[0][1] if choices else None
            func, func_cap = T.functional_chart(doc)
            bp, bp_cap = T.basic_project_chart(doc)
            sg, sg_cap = T.sangong_chart(doc)
            # the table is rendered here too: when the new document's first table has the same key as the
            # old one's, the selector's value does not change and its change event would not fire
            return (gr.Dropdown(choices=choices, value=first), *on_table(doc_id, first),
                    gr.BarPlot(value=func, caption=func_cap),
                    gr.BarPlot(value=bp, caption=bp_cap, sort=list(bp["项目"])),
                    gr.BarPlot(value=sg, caption=sg_cap, sort=list(sg["项目"])),
                    on_metric(metric_key))

        @guarded
        def on_table(doc_id: str | None, key: str | None) -> tuple[Any, ...]:
            if not doc_id or not key:
                return "", None, gr.DownloadButton(value=None)
            doc = svc.document(doc_id)
            frame, caption = T.records_frame(doc, key)
            label = dict((k, v) for v, k in T.table_choices(doc)).get(key, key)
            path = T.write_csv(frame, csv_dir / doc_id / key.replace(":", "_") / T.csv_name(doc, label))
            return A.escape_md(caption), frame, gr.DownloadButton(value=str(path))

        @guarded
        def on_metric(metric_key: str | None) -> Any:
            frame, caption = T.compare_chart(svc.documents(), metric_key or "")
            unit = str(frame["单位"].iloc[0]) if len(frame) else ""
            return gr.BarPlot(value=frame, caption=caption, y_title=f"数值（{unit}）" if unit else "数值")

        data_doc.change(on_data_doc, [data_doc, metric],
                        [table_pick, table_caption, table_df, csv_btn, func_plot, bp_plot, sg_plot, cmp_plot],
                        api_visibility="private")
        table_pick.change(on_table, [data_doc, table_pick], [table_caption, table_df, csv_btn],
                          api_visibility="private")
        metric.change(on_metric, metric, cmp_plot, api_visibility="private")

        # ---- 核查
        @guarded
        def on_chk_doc(doc_id: str | None) -> tuple[str, str, str]:
            if not doc_id:
                return "", A.findings_html([]), A.empty_source_html()
            doc = svc.document(doc_id)
            return (A.escape_md(A.findings_summary(doc.findings)) + "　点击数值可查看它在原文中的位置。",
                    A.findings_html(doc.findings, doc_id), A.empty_source_html())

        @guarded
        def on_pick(doc_id: str | None, evt: gr.EventData) -> str:
            key = A.parse_finding_key(getattr(evt, "_data", {}).get("key") if evt else None)
            if not doc_id or key is None:
                return A.empty_source_html()
            doc = svc.document(doc_id)
            if key[0] >= len(doc.findings):
                return A.empty_source_html("该核查结果已不存在，请重新选择文档。")
            spans, quotes, message = A.finding_spans(doc.findings[key[0]])
            return A.source_html(svc.text(doc_id), spans, quotes=quotes, focus=key[1], title=doc.source,
                                 subtitle=message)

        chk_doc.change(on_chk_doc, chk_doc, [chk_summary, findings, chk_source], api_visibility="private")
        findings.pick(on_pick, chk_doc, chk_source, api_visibility="private")  # type: ignore[attr-defined]

        # ---- 评测
        @guarded
        def on_suite(suite_v: str) -> str:
            return A.last_eval_md(svc.last_eval(suite_v))

        @guarded
        def on_run_eval(suite_v: str, progress: gr.Progress = gr.Progress()) -> str:
            progress(0, desc=f"正在运行评测：{suite_v}（问答与检索套件需要先建立临时库，约需数十秒）")
            result, previous = svc.run_eval(suite_v)
            return A.eval_report_md(result, previous)

        suite.change(on_suite, suite, eval_report, api_visibility="private")
        app.load(on_suite, suite, eval_report, api_visibility="private")
        run_eval.click(on_run_eval, suite, eval_report, concurrency_limit=1, api_visibility="private")

        # ---- the API: `ask --json` over HTTP (gradio_client: Client(url).predict(q, api_name="/ask"))
        def ask(question: str, conversation_id: str = "", department: str = "", year: str = "") -> dict:
            """Answer one question; the `ask --json` object (answer, citations, numbers, mode, latency_ms)."""
            try:
                return A.as_dict(svc.ask(question, conversation_id or None, department or None, year or None))
            except Exception as exc:  # noqa: BLE001 — an API caller gets the message, not a trace
                raise gr.Error(_message(exc), print_exception=False) from None

        gr.api(ask, api_name="ask", concurrency_limit=CHAT_CONCURRENCY)

    app.budgetqa_service = svc  # type: ignore[attr-defined]  # tests and `serve` reach the service here
    return app


def launch_options(settings: Settings, host: str | None = None, port: int | None = None) -> dict[str, Any]:
    """launch() keywords: loopback unless told otherwise, never a share link, optional basic auth,
    the upload size limit enforced by Gradio itself too, and the app's CSS."""
    opts: dict[str, Any] = {
        "server_name": host or settings.host, "server_port": int(port or settings.port), "share": False,
        "max_file_size": f"{settings.max_upload_mb:g}mb", "css": CSS, "show_error": False,
        "footer_links": ["api", "settings"], "enable_monitoring": False, "pwa": False, "mcp_server": False,
        "ssr_mode": False,
    }
    if settings.auth_user and settings.auth_password:
        opts["auth"] = (settings.auth_user, settings.auth_password.get_secret_value())
        opts["auth_message"] = "budgetqa：请输入用户名和密码"
    elif settings.auth_user or settings.auth_password:
        from extractor.errors import ConfigError

        raise ConfigError("basic auth needs both BUDGETQA_AUTH_USER and BUDGETQA_AUTH_PASSWORD",
                          hint="set both, or unset both to serve without a login")
    return opts


def launch(app: gr.Blocks, settings: Settings, host: str | None = None, port: int | None = None,
           block: bool = True, quiet: bool = False) -> tuple[Any, str]:
    """Serve the app; with block=False return at once (tests). Returns (the FastAPI app, local URL)."""
    opts = launch_options(settings, host, port)
    app.queue(default_concurrency_limit=4)
    fastapi_app, url, _share = app.launch(prevent_thread_lock=not block, quiet=quiet, inbrowser=False, **opts)
    return fastapi_app, url
