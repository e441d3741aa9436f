"""Reports of an eval run: markdown (tables, unicode bars, an optional SVG chart) and the regression gate.

Scores are fractions in the JSON and points (0–100) in the report; `--baseline` compares the headline
metrics of two JSON runs and fails on a drop larger than the margin (in points)."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path
from typing import Any

from extractor.errors import BudgetQAError

DEFAULT_MARGIN = 0.5  # points

# Metrics where lower is better; they are shown in the deltas but never gate (latency varies by machine).
_INFORMATIONAL = ("latency",)


def pct(x: float | None, digits: int = 1) -> str:
    return "—" if x is None else f"{100 * x:.{digits}f}"


def bar(x: float | None, width: int = 20) -> str:
    """A unicode bar for a fraction, readable in any markdown viewer or terminal."""
    if x is None:
        return ""
    full = round(max(0.0, min(1.0, x)) * width)
    return "█" * full + "░" * (width - full)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out + [""]


def _prf_row(name: str, d: dict[str, Any]) -> list[str]:
    return [name, str(d.get("gold", "")), str(d.get("extracted", "")), str(d.get("correct", "")),
            pct(d.get("precision")), pct(d.get("recall")), pct(d.get("f1")), bar(d.get("f1"))]


_PRF_HEADER = ["", "gold", "extracted (in scope)", "correct", "P", "R", "F1", ""]


def render_extraction(r: dict[str, Any]) -> list[str]:
    o = r["overall"]
    ag = r.get("agreement", {})
    lines = [
        f"Documents: {r['documents']} · gold values: {r['counts']['values']} (+ {r['counts']['texts']} texts, "
        f"{r['counts']['indicators']} indicators) · exact Decimal match.",
        "",
        f"**F1 {pct(o['f1'])}** (P {pct(o['precision'])}, R {pct(o['recall'])}) · provenance accuracy "
        f"{pct(r.get('provenance_accuracy'))} (matched values whose span is the gold quote's span and whose quote "
        f"is the source text) · provenance integrity {pct(r.get('provenance_integrity'))} (all extracted values) · "
        f"column agreement {pct(ag.get('column', {}).get('rate'))} (lowest level only "
        f"{pct(ag.get('column_leaf', {}).get('rate'))}; `# shifted` cells {pct(ag.get('column_shifted', {}).get('rate'))})"
        f" · row agreement {pct(ag.get('row', {}).get('rate'))} · fact-name agreement {pct(ag.get('name', {}).get('rate'))}",
        "",
        "### Per document",
        "",
    ]
    lines += _table([*_PRF_HEADER, "provenance", "column agr."], [
        [*_prf_row(name, d), pct(d.get("provenance_accuracy")), pct(d.get("column_agreement"))]
        for name, d in r["by_doc"].items()])
    lines += ["### Per table kind", ""]
    lines += _table(_PRF_HEADER, [_prf_row(k, d) for k, d in r["by_table"].items()])
    lines += ["### Texts and performance indicators (recall; indicators are a labeled sample)", ""]
    rows = [_prf_row("texts (reasons, 职责)", r["texts"])] + [_prf_row(k, d) for k, d in r["indicators"].items()]
    lines += _table(_PRF_HEADER, rows)
    meta = r.get("metadata") or {}
    if meta:
        lines += ["Document metadata accuracy: " + ", ".join(f"{k} {pct(v)}" for k, v in meta.items()), ""]
    if r.get("miss_summary"):
        lines += ["### Largest groups of misses", ""]
        lines += _table(["count", "document", "table", "reason", "example"], [
            [str(m["count"]), m["source"], m["table"], m["reason"], _example(m["example"])]
            for m in r["miss_summary"][:20]])
    if r.get("fp_summary"):
        lines += ["### Largest groups of values extracted in the labeled scope but not in the gold", ""]
        lines += _table(["count", "document", "region", "extracted as", "example"], [
            [str(m["count"]), m["source"], m["table"], m["extracted_kind"], _example(m["example"])]
            for m in r["fp_summary"][:15]])
    if r.get("unresolved"):
        lines += ["### Gold entries that did not resolve against their source", ""]
        lines += [f"- {escape(u)}" for u in r["unresolved"][:30]] + [""]
    return lines


def _example(e: dict[str, Any]) -> str:
    got = f" → got {e['got_value']} ({e.get('got_kind')}, {e.get('got_column')})" if e.get("got_value") else ""
    text = f"line {e.get('line')}: {e.get('row') or ''} / {e.get('column') or ''} = {e.get('value')}{got}"
    return escape(text).replace("|", "\\|")


def render_retrieval(r: dict[str, Any]) -> list[str]:
    rows = []
    for name, s in r.get("systems", {}).items():
        if isinstance(s, dict):
            rows.append([name, str(s.get("questions", "")), pct(s.get("recall@1")), pct(s.get("recall@5")),
                         pct(s.get("recall@10")), f"{s['mrr']:.3f}" if s.get("mrr") is not None else "—",
                         bar(s.get("recall@5"))])
    lines = []
    if r.get("questions") is not None:
        lines += [f"{r['questions']} answerable questions whose expected numbers are printed in their sources; "
                  f"embedding {r.get('embedding', '')} for both systems. A hit is the first chunk holding the gold "
                  "evidence (rag/evidence.py).", ""]
    lines += _table(["system", "questions", "R@1", "R@5", "R@10", "MRR", "R@5"], rows)
    if r.get("recall@5_ratio_over_baseline") is not None:
        lines += [f"recall@5 ours / naive baseline: **{r['recall@5_ratio_over_baseline']:.2f}×**", ""]
    systems = {k: v for k, v in r.get("systems", {}).items() if isinstance(v, dict) and v.get("recall@5_by_kind")}
    if systems:
        kinds = sorted({k for v in systems.values() for k in v["recall@5_by_kind"]})
        lines += ["recall@5 by question kind:", ""]
        lines += _table(["kind", *systems], [[k, *(pct(v["recall@5_by_kind"].get(k)) for v in systems.values())]
                                             for k in kinds])
    lat = [f"{name} p50 {_ms(v.get('latency_p50_ms'))}, p95 {_ms(v.get('latency_p95_ms'))}"
           for name, v in r.get("systems", {}).items() if isinstance(v, dict) and v.get("latency_p50_ms") is not None]
    if lat:
        lines += ["Query latency: " + "; ".join(lat), ""]
    return lines


def render_qa(r: dict[str, Any]) -> list[str]:
    lat = r.get("latency_p50_ms"), r.get("latency_p95_ms")
    lines = [
        f"**Accuracy {pct(r.get('accuracy'))}** over {r['cases']} questions · citation precision "
        f"{pct(r.get('citation_precision'))} · numbers verified or computed {pct(r.get('numbers_verified_share'))} "
        f"of {r.get('numbers_stated', 0)} stated (with a status: {pct(r.get('numbers_with_status_share'))}) · "
        f"abstention recall {pct(r.get('abstention_recall'))}, false abstentions {r.get('false_abstentions', 0)} · "
        f"latency p50 {_ms(lat[0])}, p95 {_ms(lat[1])}",
        "",
    ]
    lines += _table(["kind", "questions", "correct", "accuracy", ""], [
        [k, str(v["total"]), str(v["agree"]), pct(v["rate"]), bar(v["rate"])] for k, v in r["by_kind"].items()])
    fails = r.get("failures") or []
    if fails:
        lines += ["Failures (first 30): " + "; ".join(f"{f['id']} ({f['kind']}): {escape(f['reason'])}"
                                                     for f in fails[:30]), ""]
    for name, s in (r.get("sets") or {}).items():   # further QA sets, each over its own documents
        lines += [f"#### QA set {escape(name)} ({escape(str(s.get('fixtures', '')))})", ""] + render_qa(s)
    return lines


def _ms(x: float | None) -> str:
    return "—" if x is None else f"{x:.0f} ms"


def render_llm(r: dict[str, Any]) -> list[str]:
    """LLM-assisted extraction under injected errors (scripted server), then QA in LLM mode if configured."""
    lines = [f"Injected errors caught **{pct(r.get('caught_share'))}** · correct items kept "
             f"**{pct(r.get('kept_share'))}** · tokens sent vs whole document **{pct(r.get('tokens_share'))}**", "",
             "| run | caught | kept | tokens share |", "|---|---|---|---|"]
    for name, run in r.get("runs", {}).items():
        if isinstance(run, dict):
            lines.append(f"| {escape(name)} | {escape(str(run.get('caught', '')))} | {escape(str(run.get('kept', '')))} "
                         f"| {pct(run.get('tokens_share'))} |")
    lines.append("")
    qa = r.get("qa_llm") or {}
    if qa.get("status") == "ok":
        lines += ["### QA in LLM mode", ""] + render_qa(qa)
    elif qa:
        lines += [f"QA in LLM mode: *{qa.get('status')}*: {escape(str(qa.get('reason', '')))}", ""]
    return lines


RENDERERS = {"extraction": render_extraction, "retrieval": render_retrieval, "qa": render_qa, "llm": render_llm}


def render_markdown(run: dict[str, Any], svg_name: str | None = None) -> str:
    lines = ["# budgetqa eval", "", f"Run {run['run']['started']} · suites: {', '.join(run['run']['suites'])}", ""]
    for name, r in run["suites"].items():
        lines += [f"## {name}", ""]
        if r.get("status") != "ok":
            lines += [f"*{r.get('status')}*: {escape(str(r.get('reason', '')))}", ""]
            continue
        lines += RENDERERS[name](r)
        if name == "extraction" and svg_name:
            lines += [f"![F1 per table kind]({svg_name})", ""]
    return "\n".join(lines).rstrip() + "\n"


def svg_bars(items: list[tuple[str, float | None]], title: str) -> str:
    """A hand-written horizontal bar chart (no plotting library is installed)."""
    row_h, label_w, bar_w = 22, 170, 320
    height = 40 + row_h * len(items)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_w + bar_w + 70}" height="{height}" '
             f'font-family="sans-serif" font-size="12">',
             f'<text x="4" y="18" font-weight="bold">{escape(title)}</text>']
    for i, (label, x) in enumerate(items):
        y = 30 + i * row_h
        w = 0 if x is None else round(bar_w * max(0.0, min(1.0, x)))
        parts.append(f'<text x="4" y="{y + 14}">{escape(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{bar_w}" height="14" fill="#eee"/>')
        parts.append(f'<rect x="{label_w}" y="{y + 3}" width="{w}" height="14" fill="#4a7ab5"/>')
        parts.append(f'<text x="{label_w + bar_w + 6}" y="{y + 14}">{pct(x)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def extraction_svg(run: dict[str, Any]) -> str | None:
    r = run["suites"].get("extraction")
    if not r or r.get("status") != "ok":
        return None
    items = [(k, d.get("f1")) for k, d in r["by_table"].items()] + [
        (Path(k).stem[:3] + " (doc)", d.get("f1")) for k, d in r["by_doc"].items()]
    return svg_bars(items, "extraction F1 per table kind and per document")


# ------------------------------------------------------------------------------------------------ baseline


def headline(run: dict[str, Any]) -> dict[str, float]:
    """The metrics two runs are compared on, as flat `suite.path` keys (fractions)."""
    out: dict[str, float] = {}

    def put(key: str, value: Any) -> None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            out[key] = float(value)

    for name, r in run.get("suites", {}).items():
        if r.get("status") != "ok":
            continue
        if name == "extraction":
            for m in ("precision", "recall", "f1"):
                put(f"extraction.{m}", r["overall"].get(m))
            put("extraction.provenance_accuracy", r.get("provenance_accuracy"))
            put("extraction.column_agreement", r.get("agreement", {}).get("column", {}).get("rate"))
            for doc, d in r.get("by_doc", {}).items():
                put(f"extraction.doc.{doc}.f1", d.get("f1"))
            for kind, d in r.get("by_table", {}).items():
                put(f"extraction.table.{kind}.f1", d.get("f1"))
            for kind, d in r.get("indicators", {}).items():
                put(f"extraction.indicators.{kind}.recall", d.get("recall"))
            put("extraction.texts.recall", r.get("texts", {}).get("recall"))
        elif name == "retrieval":
            for system, s in r.get("systems", {}).items():
                if isinstance(s, dict):
                    for m in ("recall@1", "recall@5", "recall@10", "mrr"):
                        put(f"retrieval.{system}.{m}", s.get(m))
        elif name == "llm":
            for m in ("caught_share", "kept_share"):
                put(f"llm.{m}", r.get(m))
            qa = r.get("qa_llm") or {}
            if qa.get("status") == "ok":
                put("llm.qa.accuracy", qa.get("accuracy"))
        else:
            for m in ("accuracy", "citation_precision", "numbers_verified_share", "abstention_recall"):
                put(f"{name}.{m}", r.get(m))
            for kind, v in r.get("by_kind", {}).items():
                put(f"{name}.kind.{kind}.accuracy", v.get("rate"))
            put(f"{name}.latency_p95_ms", r.get("latency_p95_ms"))
            for set_name, sr in (r.get("sets") or {}).items():
                put(f"{name}.{set_name}.accuracy", sr.get("accuracy"))
    return out


def load_run(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise BudgetQAError("baseline file not found", path=str(path),
                            hint="write one with `budgetqa eval --report PATH` (PATH.json) or `--json > FILE`") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise BudgetQAError(f"cannot read the baseline as JSON ({exc})", path=str(path),
                            hint="give the JSON of a previous `budgetqa eval` run") from None
    if not isinstance(data, dict) or "suites" not in data:
        raise BudgetQAError("not the JSON of a `budgetqa eval` run (no 'suites')", path=str(path),
                            hint="give the JSON written by `budgetqa eval --report PATH` or `--json`")
    return data


def compare(current: dict[str, Any], baseline: dict[str, Any], margin: float = DEFAULT_MARGIN
            ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(rows for every metric present in both runs, regressions beyond `margin` points)."""
    cur, base = headline(current), headline(baseline)
    rows, regressions = [], []
    for key in sorted(set(cur) & set(base)):
        informational = any(tag in key for tag in _INFORMATIONAL)
        delta = cur[key] - base[key]
        points = delta if informational else 100 * delta
        row = {"metric": key, "baseline": base[key], "current": cur[key], "delta": points,
               "informational": informational}
        rows.append(row)
        if not informational and points < -margin:
            regressions.append(row)
    missing = sorted(set(base) - set(cur))
    for key in missing:
        rows.append({"metric": key, "baseline": base[key], "current": None, "delta": None, "informational": True})
    return rows, regressions


def render_deltas(rows: list[dict[str, Any]], regressions: list[dict[str, Any]], margin: float) -> str:
    def fmt(key: str, v: float | None) -> str:
        if v is None:
            return "—"
        return f"{v:.0f} ms" if "latency" in key else pct(v)

    lines = [f"## Against the baseline (regression margin {margin:g} points)", ""]
    changed = [r for r in rows if r["delta"] is None or abs(r["delta"]) >= 0.05 or r in regressions]
    if changed:
        lines += _table(["metric", "baseline", "current", "Δ"], [
            [r["metric"], fmt(r["metric"], r["baseline"]), fmt(r["metric"], r["current"]),
             "n/a" if r["delta"] is None else (f"{r['delta']:+.0f} ms" if "latency" in r["metric"]
                                               else f"{r['delta']:+.1f}") + (" ⚠" if r in regressions else "")]
            for r in changed])
    unchanged = sum(1 for r in rows if r["delta"] is not None and abs(r["delta"]) < 0.05 and r not in regressions)
    lines.append(f"{unchanged} metric(s) unchanged.")
    lines.append(f"**{len(regressions)} regression(s)** beyond {margin:g} points." if regressions
                 else "No regression beyond the margin.")
    return "\n".join(lines) + "\n"
