"""The LLM-assisted stage: `apply_llm(doc, text, llm)` — uncovered parts out, grounded items in.

Never loses the rule results: an endpoint failure (timeouts, HTTP errors after retries, unreachable) is
recorded in `doc.llm_usage.errors` and the remaining chunks are skipped; a reply that never validated is
salvaged item by item (the invalid ones dropped with a finding)."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal

from pydantic import BaseModel, ValidationError

from ..errors import LLMError
from ..models import BudgetDocument, Finding, LLMUsage
from ..provenance import SourceRef
from .contract import InvalidOutput, StructuredLLM, Usage
from .grounding import NormIndex, ground_fact, ground_row, ground_text
from .prompts import SYSTEM, messages_for
from .reconcile import Reconciler, finding
from .schema import ITEM_MODELS, LLMExtraction, LLMFact, LLMTableRow, LLMText
from .selection import MAX_CHARS, Chunk, select_chunks
from .tokens import approx_tokens, request_tokens


@dataclass
class ChunkResult:
    chunk: Chunk
    items: dict[str, list[BaseModel]] = field(default_factory=lambda: {"facts": [], "texts": [], "rows": []})
    usage: Usage = field(default_factory=Usage)
    findings: list[Finding] = field(default_factory=list)
    error: str | None = None
    sent_tokens: int = 0
    skipped: bool = False


def salvage(raw: str, where: str, model: str) -> tuple[dict[str, list[BaseModel]], list[Finding]]:
    """The valid items of a reply that failed validation as a whole; a finding for each invalid one."""
    items: dict[str, list[BaseModel]] = {"facts": [], "texts": [], "rows": []}
    findings: list[Finding] = []
    s = raw.strip()
    if s.startswith("```"):
        s = s.split("\n", 1)[-1].rsplit("```", 1)[0]
    try:
        data = json.loads(s)
    except ValueError:
        data = None
    if not isinstance(data, dict):
        findings.append(finding("llm_malformed", "malformed",
                                f"{where}：LLM（{model}）的回复不是合法的 JSON 对象，本段未采用 LLM 结果"))
        return items, findings
    for key, model_cls in ITEM_MODELS.items():
        values = data.get(key)
        if not isinstance(values, list):
            continue
        for k, raw_item in enumerate(values):
            try:
                items[key].append(model_cls.model_validate(raw_item))
            except ValidationError as exc:
                first = exc.errors(include_url=False)[0]
                loc = ".".join(str(p) for p in first.get("loc", ()))
                name = raw_item.get("name") or raw_item.get("label") if isinstance(raw_item, dict) else None
                findings.append(finding("llm_schema", "malformed",
                                        f"{where}：LLM（{model}）第 {k + 1} 个 {key} 项"
                                        f"{f'“{name}”' if name else ''}未通过校验（{loc}: {first.get('msg')}），已舍弃"))
    return items, findings


def _run_chunk(chunk: Chunk, doc: BudgetDocument, text: str, llm: StructuredLLM, stop: threading.Event) -> ChunkResult:
    result = ChunkResult(chunk)
    if stop.is_set():
        result.skipped = True
        return result
    messages = messages_for(doc.source, chunk.where, chunk.render(text), table=chunk.kind == "table")
    per_request = request_tokens(messages, LLMExtraction)
    try:
        parsed, usage = llm.extract(messages, LLMExtraction)
        result.usage = usage
        result.items = {"facts": list(parsed.facts), "texts": list(parsed.texts), "rows": list(parsed.rows)}
    except InvalidOutput as exc:
        result.usage = exc.usage
        result.items, result.findings = salvage(exc.raw, chunk.short_where, llm.model)
    except LLMError as exc:
        stop.set()  # the endpoint is failing: do not hammer it with the remaining chunks
        result.error = str(exc)
    result.sent_tokens = per_request * result.usage.requests
    return result


def whole_document_tokens(text: str) -> int:
    """What one request with the whole document would cost (the baseline of the token figure)."""
    return request_tokens([{"role": "system", "content": SYSTEM}, {"role": "user", "content": text}], LLMExtraction)


def apply_llm(doc: BudgetDocument, text: str, llm: StructuredLLM, *, page_starts: list[int] | None = None,
              everything: bool = False, max_chars: int = MAX_CHARS) -> BudgetDocument:
    """A copy of `doc` (extracted by the rules from `text`) with what the LLM adds, grounded and reconciled,
    and `llm_usage` set. `everything` sends every narrative paragraph with content (evaluation)."""
    doc = doc.model_copy(deep=True)
    chunks = select_chunks(doc, text, max_chars=max_chars, everything=everything)
    report = LLMUsage(model=llm.model, chunks=len(chunks), tokens_whole_estimate=whole_document_tokens(text))
    stop = threading.Event()
    workers = max(1, min(int(getattr(llm, "concurrency", 1) or 1), len(chunks)))
    if workers == 1:
        results = [_run_chunk(c, doc, text, llm, stop) for c in chunks]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            results = list(pool.map(lambda c: _run_chunk(c, doc, text, llm, stop), chunks))

    ref = SourceRef(doc.doc_id, doc.source, text, page_starts)
    rec = Reconciler(doc, text, ref, llm.model)
    total = Usage()
    for res in results:
        if res.usage.cached:
            report.cached += 1          # answered from the cache: no request, no tokens spent
        else:
            total += res.usage
        report.tokens_sent_estimate += res.sent_tokens
        if res.error or res.skipped:
            report.chunks_failed += 1
            if res.error and res.error not in report.errors:
                report.errors.append(res.error)
            continue
        rec.out.findings.extend(res.findings)
        dropped = sum(1 for f in res.findings if f.rule == "llm_schema")
        report.proposed += dropped
        report.rejected += dropped
        index = NormIndex(text, res.chunk)
        # subjects of changes claimed in this reply: a swap between two of them is caught by position
        peers = [i.qualifier for i in res.items["facts"] + res.items["texts"]  # type: ignore[attr-defined]
                 if "change" in i.name or "reason" in i.name]  # type: ignore[attr-defined]
        for item in res.items["facts"]:
            assert isinstance(item, LLMFact)
            found, why = ground_fact(item, text, index, peers)
            if not found:
                rec.out.rejected += 1
                rec.out.findings.append(_ungrounded(res.chunk, item.name, item.qualifier, item.value, item.quote, why))
            else:
                rec.fact(item, found)
        for item in res.items["texts"]:
            assert isinstance(item, LLMText)
            found, why = ground_text(item, text, index, peers)
            if not found:
                rec.out.rejected += 1
                rec.out.findings.append(_ungrounded(res.chunk, item.name, item.qualifier, None, item.quote, why))
            else:
                rec.text_fact(item, found)
        for item in res.items["rows"]:
            assert isinstance(item, LLMTableRow)
            g, cells, why = ground_row(item, text, index)
            if g is None:
                rec.out.rejected += 1
                rec.out.findings.append(_ungrounded(res.chunk, item.label, "", None, item.quote, why))
            else:
                rec.row(item, g, cells, res.chunk)
        report.proposed += sum(len(v) for v in res.items.values())
    rec.run_checks()
    doc.findings.extend(rec.out.findings)
    report.requests = total.requests
    report.prompt_tokens = total.prompt_tokens
    report.completion_tokens = total.completion_tokens
    report.cost = llm.cost(total) if total.requests else (Decimal(0) if chunks else None)
    report.accepted, report.agreed = rec.out.accepted, rec.out.agreed
    report.rejected += rec.out.rejected
    doc.llm_usage = report
    return doc


def _ungrounded(chunk: Chunk, name: str, qualifier: str, value: str | None, quote: str, why: str) -> Finding:
    what = f"{name}{f'（{qualifier}）' if qualifier else ''}{f' = {value}' if value is not None else ''}"
    return finding("llm_ungrounded", "malformed",
                   f"{chunk.short_where}：LLM 项 {what} 已舍弃：{why}（引文“{quote[:60]}”）")


def summary_line(usages: list[LLMUsage]) -> str:
    """One line for a run: requests, cache hits, tokens, cost, items."""
    if not usages:
        return "llm: not run"
    req = sum(u.requests for u in usages)
    cached = sum(u.cached for u in usages)
    p_tok = sum(u.prompt_tokens for u in usages)
    c_tok = sum(u.completion_tokens for u in usages)
    costs = [u.cost for u in usages if u.requests]
    cost = "n/a (no price configured)" if any(c is None for c in costs) else f"{sum(costs, Decimal(0)):.4f}"
    sent = sum(u.tokens_sent_estimate for u in usages)
    whole = sum(u.tokens_whole_estimate for u in usages)
    share = f"{100 * sent / whole:.1f}%" if whole else "-"
    failed = sum(1 for u in usages if u.errors)
    return (f"llm ({usages[0].model}): {len(usages)} document(s), {req} request(s), {cached} cached chunk(s), "
            f"{p_tok} prompt + {c_tok} completion tokens, cost {cost}; items: {sum(u.accepted for u in usages)} "
            f"added, {sum(u.agreed for u in usages)} agreed, {sum(u.rejected for u in usages)} rejected; "
            f"~{sent} tokens sent = {share} of whole documents; {failed} document(s) with endpoint errors")


__all__ = ["apply_llm", "salvage", "summary_line", "whole_document_tokens", "approx_tokens"]
