"""Pure functions turning engine results into what the Gradio components show (no Gradio import here).

Everything that came from a document (quotes, answers that quote it, names, messages) is escaped before
it reaches the page: HTML panels get `escape_html` (which also neutralises the characters gr.HTML's
template engine would interpret), chat markdown gets `escape_md`. Tests call these without a browser."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from extractor.numbers import NUMBER_IN_TEXT_RE, fold_width

SOURCE_WINDOW = 2400      # characters of context shown around a highlighted span

STATUS_BADGES = {
    "verified": ("✓ 已核实", "ok"),
    "computed": ("∑ 计算", "calc"),
    "unverified": ("⚠ 未核实", "warn"),
}
SEVERITY_LABELS = {"mismatch": "不一致", "shifted_column": "错列", "malformed": "格式错误", "missing": "缺失",
                   "rounding": "尾差", "info": "说明"}
SEVERITY_ORDER = ["mismatch", "shifted_column", "malformed", "missing", "rounding", "info"]

# Placeholders survive escaping (private-use characters are neither HTML nor markdown syntax).
_PH_OPEN, _PH_CLOSE = "\ue000", "\ue001"
_PH = re.compile(f"{_PH_OPEN}([bc])(\\d+){_PH_CLOSE}")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$=:^])")
_CITE_MARK = re.compile(r"\[(\d{1,3})\]")


def as_dict(obj: Any) -> dict[str, Any]:
    """Engine results are pydantic models or `ask --json` dicts; adapters read both."""
    if isinstance(obj, Mapping):
        return dict(obj)
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"expected a mapping or a pydantic model, got {type(obj).__name__}")


# ------------------------------------------------------------------------------------------ escaping

def escape_html(text: str) -> str:
    """HTML-escape, plus `$ { } \\`` as entities: gr.HTML evaluates its template as a JS template literal and
    a Handlebars template, and document text must never become either."""
    out = html.escape(str(text), quote=True)
    return out.replace("$", "&#36;").replace("{", "&#123;").replace("}", "&#125;").replace("`", "&#96;")


def escape_md(text: str) -> str:
    """Text shown literally inside chat markdown: no HTML, no links, no emphasis, no math."""
    out = html.escape(str(text), quote=False)  # < > & as entities (markdown renders them as characters)
    return _MD_SPECIAL.sub(r"\\\1", out)


# ------------------------------------------------------------------------------------------ chat

def mode_label(mode: str | None) -> str:
    """'offline' -> 离线（规则引擎）; an LLM mode shows its model name."""
    m = (mode or "offline").strip()
    if m in ("", "offline"):
        return "离线（规则引擎，无需 LLM）"
    if m.startswith("offline"):
        return "离线（" + m.split(":", 1)[-1].strip() + "）" if ":" in m else "离线（规则引擎）"
    name = m.split(":", 1)[1] if m.startswith("llm:") else m
    return f"LLM：{name}"


def _numbers_positions(text: str) -> list[tuple[int, int, Decimal]]:
    """(start, end, value) of every number in the text, citation marks excluded."""
    folded = fold_width(text)
    masked = _CITE_MARK.sub(lambda m: "□" * len(m.group(0)), folded)
    out = []
    for m in NUMBER_IN_TEXT_RE.finditer(masked):
        try:
            out.append((m.start(), m.end(), Decimal(m.group(0).replace(",", "").replace("−", "-"))))
        except InvalidOperation:
            continue
    return out


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value).replace(",", ""))
    except (InvalidOperation, ValueError):
        return None


def unique_numbers(a: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The answer's numbers, each stated once (an engine may list a number again for each mention)."""
    out, seen = [], set()
    for n in a.get("numbers") or []:
        n = as_dict(n)
        key = (str(n.get("value")), n.get("unit"), n.get("status"), n.get("citation"), n.get("formula"))
        if key not in seen:
            seen.add(key)
            out.append(n)
    return out


def badge_md(status: str) -> str:
    label, css = STATUS_BADGES.get(status, STATUS_BADGES["unverified"])
    return f'<span class="bqa-badge bqa-{css}">{label}</span>'


def answer_markdown(answer: Any, turn: int) -> str:
    """The assistant message: the answer text escaped, each stated number followed by its status badge,
    each citation mark [n] a link `#cite-<turn>-<n>` the page turns into 'open the source here'."""
    a = as_dict(answer)
    text = str(a.get("answer") or "")
    citations = a.get("citations") or []
    numbers = unique_numbers(a)
    # (start, order, placeholder, end): zero-length inserts (badges) and replaced spans (citation marks)
    ops: list[tuple[int, int, str, int]] = []
    positions = _numbers_positions(text)
    used: set[int] = set()
    for i, n in enumerate(numbers):
        value = _decimal(n.get("value"))
        if value is None:
            continue
        for k, (_s, e, v) in enumerate(positions):
            if k in used or v != value:
                continue
            used.add(k)
            unit = str(n.get("unit") or "")
            if unit and unit != "1" and text[e:e + len(unit)] == unit:
                e += len(unit)
            ops.append((e, 0, f"{_PH_OPEN}b{i}{_PH_CLOSE}", e))
            break
    for m in _CITE_MARK.finditer(text):
        k = int(m.group(1))
        if 1 <= k <= len(citations):
            ops.append((m.start(), 1, f"{_PH_OPEN}c{k}{_PH_CLOSE}", m.end()))
    out: list[str] = []
    pos = 0
    for start, _order, ph, end in sorted(ops):
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(ph)
        pos = end
    out.append(text[pos:])
    marked = "".join(out)
    body = escape_md(marked)

    def render(m: re.Match[str]) -> str:
        kind, idx = m.group(1), int(m.group(2))
        if kind == "b":
            return " " + badge_md(str(numbers[idx].get("status") or "unverified")) + " "
        return f"[\\[{idx}\\]](#cite-{turn}-{idx})"

    body = _PH.sub(render, body)
    if a.get("abstained"):
        body = '<span class="bqa-badge bqa-none">未找到</span> ' + body
    return body + "\n\n" + _footer(a)


def _footer(a: dict[str, Any]) -> str:
    numbers = unique_numbers(a)
    counts = {s: sum(1 for n in numbers if n.get("status") == s) for s in STATUS_BADGES}
    parts = [mode_label(a.get("mode")), f"{int(a.get('latency_ms') or 0)} ms",
             f"引用 {len(a.get('citations') or [])} 条"]
    if numbers:
        parts.append("数字 " + "、".join(f"{STATUS_BADGES[s][0].split()[1]} {c}" for s, c in counts.items() if c))
    return '<span class="bqa-foot">' + escape_md(" · ".join(parts)) + "</span>"


def details_markdown(answer: Any, turn: int) -> str:
    """Sources and the status of every number, for the collapsible part under an answer."""
    a = as_dict(answer)
    lines = []
    for k, c in enumerate(a.get("citations") or [], start=1):
        quote = _short(str(c.get("quote") or ""), 80)
        lines.append(f"- [\\[{k}\\]](#cite-{turn}-{k}) {escape_md(c.get('source') or '')} · "
                     f"{escape_md(c.get('locator') or '')} — 「{escape_md(quote)}」")
    numbers = unique_numbers(a)
    if numbers:
        lines.append("")
        lines.append("**数字核查**")
        for n in numbers:
            status = str(n.get("status") or "unverified")
            value = escape_md(f"{n.get('value')}{'' if n.get('unit') in (None, '', '1') else n.get('unit')}")
            if status == "verified" and n.get("citation") is not None:
                k = int(n["citation"]) + 1
                how = f"见引用 [\\[{k}\\]](#cite-{turn}-{k})"
            elif status == "computed":
                how = "由已核实的数字计算：" + escape_md(n.get("formula") or "（公式缺失）")
            elif status == "verified":
                how = "与记录一致"
            else:
                how = "未在引用的原文或记录中找到，请谨慎使用"
            lines.append(f"- {badge_md(status)} {value}：{how}")
    return "\n".join(lines) if lines else "（无引用）"


def chat_messages(question: str, answer: Any, turn: int) -> list[dict[str, Any]]:
    """The messages one turn adds to the chat history (Gradio 6: messages only)."""
    out: list[dict[str, Any]] = [
        {"role": "user", "content": escape_md(question)},
        {"role": "assistant", "content": answer_markdown(answer, turn)},
    ]
    a = as_dict(answer)
    if a.get("citations") or a.get("numbers"):
        out.append({"role": "assistant", "content": details_markdown(a, turn),
                    "metadata": {"title": f"来源与数字核查（引用 {len(a.get('citations') or [])} 条）",
                                 "status": "done"}})
    return out


def pending_messages(question: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": escape_md(question)},
            {"role": "assistant", "content": "正在查找…", "metadata": {"title": "检索与计算中", "status": "pending"}}]


def error_messages(question: str, message: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": escape_md(question)},
            {"role": "assistant", "content": '<span class="bqa-badge bqa-warn">出错</span> ' + escape_md(message)}]


def parse_cite_key(key: Any) -> tuple[int, int] | None:
    """'3-2' (turn 3, citation 2, 1-based) from a clicked link; None for anything else."""
    m = re.fullmatch(r"(\d{1,5})-(\d{1,4})", str(key or ""))
    return (int(m.group(1)), int(m.group(2))) if m else None


def citation_panel_html(citations: Sequence[Mapping[str, Any]], turn: int) -> str:
    """The latest answer's citations as buttons; a click opens the source (see assets.CITE_JS)."""
    if not citations:
        return '<div class="bqa-cites bqa-empty">回答的引用会列在这里，点击即可查看原文位置。</div>'
    items = []
    for k, c in enumerate(citations, start=1):
        items.append(
            f'<button class="bqa-cite" data-cite="{turn}-{k}" title="{escape_html(c.get("locator") or "")}">'
            f'<b>[{k}]</b> {escape_html(c.get("source") or "")} · {escape_html(_short(str(c.get("locator") or ""), 48))}'
            f' — 「{escape_html(_short(str(c.get("quote") or ""), 40))}」</button>')
    return '<div class="bqa-cites"><div class="bqa-cites-head">引用（点击查看原文）</div>' + "".join(items) + "</div>"


def _short(text: str, n: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= n else text[: n - 1] + "…"


# ------------------------------------------------------------------------------------------ source viewer

def source_html(text: str, spans: Iterable[tuple[int, int]] = (), *, title: str = "", subtitle: str = "",
                quotes: Sequence[str] | None = None, focus: int = 0, window: int = SOURCE_WINDOW) -> str:
    """A window of the source text around span `focus`, escaped, every span inside it in <mark> (the focused
    one marked so the page scrolls it into view). A span whose quote no longer matches the text is looked
    for nearby and otherwise reported, instead of highlighting the wrong characters."""
    n = len(text)
    valid: list[tuple[int, int, int]] = []  # (index, start, end)
    notes: list[str] = []
    for i, (s, e) in enumerate(spans):
        s, e = int(s), int(e)
        quote = quotes[i] if quotes and i < len(quotes) else None
        if 0 <= s <= e <= n and (quote is None or text[s:e] == quote):
            valid.append((i, s, e))
            continue
        found = _find_near(text, quote, s) if quote else -1
        if found >= 0 and quote:
            valid.append((i, found, found + len(quote)))
        else:
            notes.append(f"第 {i + 1} 处引用的位置（{s}–{e}）与原文不一致，未高亮")
    target = next((v for v in valid if v[0] == focus), valid[0] if valid else None)
    if target is not None:
        start, end = max(0, target[1] - window // 2), min(n, target[2] + window // 2)
    else:
        start, end = 0, min(n, window * 2)
    start = text.rfind("\n", 0, start) + 1 if start > 0 else 0
    nl = text.find("\n", end)
    end = n if nl < 0 else nl
    body: list[str] = []
    pos = start
    for i, s, e in sorted(valid, key=lambda v: (v[1], v[2])):
        if e <= pos or s >= end:
            continue  # outside the window, or inside a span already highlighted
        s = max(s, pos)
        body.append(escape_html(text[pos:s]))
        cls = "bqa-hl bqa-focus" if target is not None and i == target[0] else "bqa-hl"
        body.append(f'<mark class="{cls}">{escape_html(text[s:e])}</mark>')
        pos = e
    body.append(escape_html(text[pos:end]))
    head = f'<div class="bqa-src-title">{escape_html(title)}</div>' if title else ""
    if subtitle:
        head += f'<div class="bqa-src-sub">{escape_html(subtitle)}</div>'
    for note in notes:
        head += f'<div class="bqa-src-note">{escape_html(note)}</div>'
    more_before = '<div class="bqa-src-more">…（前文省略）</div>' if start > 0 else ""
    more_after = '<div class="bqa-src-more">…（后文省略）</div>' if end < n else ""
    return (f'<div class="bqa-source">{head}{more_before}<pre class="bqa-src-body">{"".join(body)}</pre>'
            f"{more_after}</div>")


def _find_near(text: str, quote: str, around: int, radius: int = 400) -> int:
    lo = max(0, around - radius)
    hit = text.find(quote, lo, min(len(text), around + radius + len(quote)))
    return hit if hit >= 0 else (text.find(quote) if text.count(quote) == 1 else -1)


def empty_source_html(message: str = "点击引用或核查结果中的数值，这里会显示原文并高亮对应位置。") -> str:
    return f'<div class="bqa-source bqa-empty">{escape_html(message)}</div>'


# ------------------------------------------------------------------------------------------ questions

def scoped_question(question: str, department: str | None, year: Any) -> str:
    """Apply the chat's department/year filter by naming them in the question, unless it already does:
    the engine resolves scope from the words, so the filter and a typed name behave the same."""
    q = (question or "").strip()
    prefix = ""
    if department and department not in q:
        prefix += department
    y = str(year or "").strip()
    if y.isdigit() and f"{y}年" not in q and y not in q:
        prefix += f"{y}年"
    return f"{prefix}{q}" if prefix else q


def example_questions(catalog: Mapping[str, Mapping[str, Any]], limit: int = 6) -> list[str]:
    """Questions people ask, phrased over the departments actually in the store (none when it is empty)."""
    docs = sorted(catalog.values(), key=lambda e: (str(e.get("department") or ""), e.get("year") or 0))
    names = [(short_department(str(e.get("department") or "")), e.get("year")) for e in docs if e.get("department")]
    if not names:
        return []
    first, year = names[0]
    y = f"{year}年" if year else ""
    out = [f"{first}{y}的支出总计是多少？", "那项目支出呢？", f"{first}的“三公”经费是多少？其中公务接待费呢？",
           f"{first}公用经费占基本支出的比例是多少？"]
    if len(names) > 1:
        second = names[1][0]
        out.append(f"{first}和{second}的基本支出分别是多少？")
    out.append("哪个部门的“三公”经费最多？")
    return out[:limit]


def short_department(name: str) -> str:
    return re.sub(r"[（(](汇总|本级)[)）]$", "", name.strip())


def doc_label(entry: Mapping[str, Any]) -> str:
    """'漯河市人民政府办公室 · 2023 · 预算 · 003_x.txt' for selectors."""
    parts = [short_department(str(entry.get("department") or "（未识别部门）")), str(entry.get("year") or "年份未知"),
             str(entry.get("doc_kind") or entry.get("kind") or ""), str(entry.get("source") or "")]
    return " · ".join(p for p in parts if p)


def doc_choices(catalog: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, str]]:
    items = sorted(catalog.items(), key=lambda kv: (str(kv[1].get("department") or ""), kv[1].get("year") or 0,
                                                    str(kv[1].get("source") or "")))
    return [(doc_label(e), k) for k, e in items]


def department_choices(catalog: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return sorted({short_department(str(e.get("department") or "")) for e in catalog.values()} - {""})


def year_choices(catalog: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return [str(y) for y in sorted({e.get("year") for e in catalog.values() if e.get("year")}, reverse=True)]


# ------------------------------------------------------------------------------------------ checks

def findings_summary(findings: Sequence[Any]) -> str:
    fs = [as_dict(f) for f in findings]
    if not fs:
        return "没有发现问题：所有核查的数字关系都成立。"
    counts = {s: sum(1 for f in fs if f.get("severity") == s) for s in SEVERITY_ORDER}
    other = len(fs) - sum(counts.values())
    parts = [f"{SEVERITY_LABELS[s]} {c}" for s, c in counts.items() if c] + ([f"其他 {other}"] if other else [])
    return f"共 {len(fs)} 条核查结果：" + "，".join(parts) + "。"


def _sorted_findings(findings: Sequence[Any]) -> list[tuple[int, dict[str, Any]]]:
    fs = [(i, as_dict(f)) for i, f in enumerate(findings)]
    rank = {s: k for k, s in enumerate(SEVERITY_ORDER)}
    return sorted(fs, key=lambda x: (rank.get(str(x[1].get("severity")), len(rank)), x[0]))


def findings_html(findings: Sequence[Any], doc_id: str = "") -> str:
    """Findings, most serious first: severity, message, expected/actual/difference, and each involved value
    as a chip that opens its place in the source (data-finding="<finding>-<value>")."""
    items = _sorted_findings(findings)
    if not items:
        return '<div class="bqa-findings bqa-empty">没有核查结果。</div>'
    rows = []
    for i, f in items:
        sev = str(f.get("severity") or "")
        nums = []
        for key, label in (("expected", "应为"), ("actual", "实际"), ("difference", "差额")):
            if f.get(key) not in (None, ""):
                nums.append(f"{label} {escape_html(f[key])}")
        chips = []
        for j, v in enumerate(f.get("values") or []):
            prov = v.get("prov") or {}
            chips.append(f'<button class="bqa-chip" data-finding="{i}-{j}" title="{escape_html(prov.get("locator") or "")}">'
                         f'{escape_html(v.get("raw") or v.get("value") or "")} · '
                         f'{escape_html(_short(str(prov.get("locator") or ""), 40))}</button>')
        rows.append(
            f'<div class="bqa-finding bqa-sev-{escape_html(sev)}">'
            f'<span class="bqa-badge bqa-sev">{escape_html(SEVERITY_LABELS.get(sev, sev))}</span> '
            f'<code>{escape_html(f.get("rule") or "")}</code> {escape_html(f.get("message") or "")}'
            + (f'<div class="bqa-nums">{"；".join(nums)}</div>' if nums else "")
            + (f'<div class="bqa-chips">{"".join(chips)}</div>' if chips else "") + "</div>")
    return f'<div class="bqa-findings" data-doc="{escape_html(doc_id)}">' + "".join(rows) + "</div>"


def parse_finding_key(key: Any) -> tuple[int, int] | None:
    m = re.fullmatch(r"(\d{1,6})-(\d{1,4})", str(key or ""))
    return (int(m.group(1)), int(m.group(2))) if m else None


def finding_spans(finding: Any) -> tuple[list[tuple[int, int]], list[str], str]:
    """All values of one finding as spans (the viewer highlights every one) and a subtitle."""
    f = as_dict(finding)
    spans, quotes = [], []
    for v in f.get("values") or []:
        prov = v.get("prov") or {}
        if "char_start" in prov and "char_end" in prov:
            spans.append((int(prov["char_start"]), int(prov["char_end"])))
            quotes.append(str(prov.get("quote") or ""))
    return spans, quotes, str(f.get("message") or "")


# ------------------------------------------------------------------------------------------ uploads

def upload_problem(name: str, size: int, max_mb: float, allowed: Iterable[str]) -> str | None:
    """Why an uploaded file is refused before extraction (type, size), or None."""
    suffix = ("." + name.rsplit(".", 1)[-1].lower()) if "." in name else ""
    allowed = sorted(allowed)
    if suffix not in allowed:
        return f"{name}：不支持的文件类型“{suffix or '（无扩展名）'}”（支持：{'、'.join(allowed)}）"
    if size < 0:
        return f"{name}：上传的文件已不存在，请重新上传"
    if size == 0:
        return f"{name}：文件是空的"
    if size > max_mb * 1024 * 1024:
        return f"{name}：文件太大（{size / 1024 / 1024:.1f} MB，上限 {max_mb:g} MB；可调大 BUDGETQA_MAX_UPLOAD_MB）"
    return None


def upload_report_md(added: Sequence[str], skipped: Sequence[str], replaced: int, errors: Sequence[str]) -> str:
    """What an upload did, as escaped markdown for the status box."""
    lines = []
    if added:
        lines.append(f"✓ 已入库 {len(added)} 个：" + "、".join(escape_md(a) for a in added))
    if replaced:
        lines.append(f"↻ 替换了 {replaced} 个同名旧版本")
    if skipped:
        lines.append(f"＝ 已在库中，跳过 {len(skipped)} 个：" + "、".join(escape_md(s) for s in skipped))
    for e in errors:
        lines.append(f"✗ {escape_md(e)}")
    return "\n\n".join(lines) if lines else "没有选择文件。"


def documents_frame_rows(rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """The 文档 list: department, year, kind, values, findings, file, ingested at (values as plain text)."""
    out = []
    for r in sorted(rows, key=lambda r: (str(r.get("department") or ""), r.get("year") or 0, str(r.get("source")))):
        out.append([short_department(str(r.get("department") or "（未识别）")), str(r.get("year") or ""),
                    str(r.get("doc_kind") or ""), int(r.get("n_values") or 0), int(r.get("n_findings") or 0),
                    str(r.get("source") or ""), str(r.get("ingested_at") or "")])
    return out


DOCUMENT_HEADERS = ["部门", "年度", "类型", "数值个数", "核查结果", "文件", "入库时间"]


# ------------------------------------------------------------------------------------------ evals

def eval_report_md(result: Mapping[str, Any], previous: Mapping[str, Any] | None) -> str:
    """The run's markdown report, then its deltas against the previous run of the same suite."""
    from evals.report import DEFAULT_MARGIN, compare, render_deltas, render_markdown

    md = render_markdown(dict(result))
    if previous is None:
        return md + "\n*这是此套件第一次运行；下一次运行会显示与本次相比的变化。*\n"
    rows, regressions = compare(dict(result), dict(previous), DEFAULT_MARGIN)
    return md + "\n" + render_deltas(rows, regressions, DEFAULT_MARGIN)


def last_eval_md(last: Mapping[str, Any] | None) -> str:
    if not last:
        return "还没有运行过此套件。点击“运行评测”。"
    from evals.report import render_markdown

    return "**上一次运行的报告**（点击“运行评测”重新运行并比较）\n\n" + render_markdown(dict(last))
