"""`budgetqa eval --suite llm`: the LLM extraction path against injected errors, over the sample documents.

No model is reachable here, so the scripted OpenAI-compatible server (evals/scripted_server.py, real HTTP on
127.0.0.1) plays one. For every chunk the stage sends, it answers with the *correct* items for that chunk —
built from the hand-labeled fixtures (evals/fixtures/gold), never from the extractor — plus one injected
error per correct item, in rotation:

- wrong_number: the value changed (last digit +1, or ×10); every other time the quote is edited to match;
- swapped_fields: the name and qualifier of another item of the same chunk;
- invented_row: an item the document does not contain (fabricated quote, or a real quote with a number
  it does not hold);
- quote_not_in_source: the right value with a paraphrased quote (one character inserted).

Scores: the share of injected errors caught (none of them may reach the output as an LLM value; goal 100%),
the share of correct items kept (in the output, as an added LLM value or agreeing with the rule value; goal
≥ 99%), and the tokens sent per document against one request with the whole document (goal ≤ 20%).

Three runs: `pipeline` (what `extract --llm` sends: only what the rules did not cover), `all_prose` (every
narrative paragraph sent, rules kept: grounding and reconciliation together) and `llm_only` (every
paragraph sent, the rules' narrative facts removed: grounding alone). Tables: one sample's recognised
tables are renamed so no rule knows them (`generic`) and their parsed rows removed (`tables_llm_only`)."""

from __future__ import annotations

import json
import random
import re
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from extractor.llm import apply_llm
from extractor.llm.binding import compatible, norm_label, same_qualifier
from extractor.llm.selection import Chunk, select_chunks
from extractor.load import load_document
from extractor.models import BudgetDocument, TableKind
from extractor.pipeline import extract_text

from .dataset import GOLD_DIR, SAMPLES, GoldDoc, load_gold_docs

MODEL = "scripted-eval"
KINDS = ("wrong_number", "swapped_fields", "invented_row", "quote_not_in_source")
GOALS = {"caught": 1.0, "kept": 0.99, "tokens": 0.20}


@dataclass
class Item:
    kind: str                      # facts | texts | rows
    payload: dict[str, Any]
    correct: bool
    error: str = ""                # injected error kind


@dataclass
class Tally:
    correct: int = 0
    kept: int = 0
    injected: Counter = field(default_factory=Counter)
    caught: Counter = field(default_factory=Counter)
    missed: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)

    def add(self, other: Tally) -> None:
        self.correct += other.correct
        self.kept += other.kept
        self.injected.update(other.injected)
        self.caught.update(other.caught)
        self.missed += other.missed
        self.dropped += other.dropped

    def summary(self) -> dict[str, Any]:
        injected, caught = sum(self.injected.values()), sum(self.caught.values())
        return {"correct_items": self.correct, "kept": self.kept,
                "kept_share": round(self.kept / self.correct, 4) if self.correct else None,
                "injected_errors": injected, "caught": caught,
                "caught_share": round(caught / injected, 4) if injected else None,
                "caught_by_kind": {k: f"{self.caught[k]}/{self.injected[k]}" for k in KINDS if self.injected[k]},
                "missed": self.missed[:20], "dropped_correct": self.dropped[:20]}


# ---- correct items from the fixtures ----------------------------------------------------------------------

def _excerpt_at(chunks: list[Chunk], pos: int):
    for c in chunks:
        for e in c.excerpts:
            if e.start <= pos < e.end:
                return c, e
    return None, None


def _clip_quote(text: str, anchor_start: int, anchor: str, e) -> str:
    # A fixture anchor is a uniqueness device; the model sees only the excerpt, so quote what lies inside it.
    a, b = max(anchor_start, e.start), min(anchor_start + len(anchor), e.end)
    return text[a:b].strip()


def correct_items(gold: GoldDoc, text: str, chunks: list[Chunk]) -> dict[int, list[Item]]:
    out: dict[int, list[Item]] = {c.index: [] for c in chunks}
    for v in gold.values:
        if v.table != "narrative" or v.char_start is None:
            continue
        c, e = _excerpt_at(chunks, v.char_start)
        if c is None or c.kind != "narrative":
            continue
        anchor_start = v.char_start - v.anchor.find(v.quote)
        quote = _clip_quote(text, anchor_start, v.anchor, e)
        out[c.index].append(Item("facts", {"name": v.column, "qualifier": v.row, "value": str(v.value),
                                           "unit": v.unit, "quote": quote}, True))
    for t in gold.texts:
        if t.char_start is None:
            continue
        c, e = _excerpt_at(chunks, t.char_start)
        if c is None or c.kind != "narrative":
            continue
        quote = _clip_quote(text, t.char_start, t.quote, e)
        out[c.index].append(Item("texts", {"name": t.column, "qualifier": t.row, "quote": quote}, True))
    return out


def table_items(gold: GoldDoc, text: str, chunks: list[Chunk], doc: BudgetDocument) -> dict[int, list[Item]]:
    """Rows of the tables that were made unknown: one item per printed line holding gold values."""
    out: dict[int, list[Item]] = {c.index: [] for c in chunks}
    lines: dict[tuple[int, int], list] = {}
    for v in gold.values:
        if v.table == "narrative" or v.char_start is None:
            continue
        c, _ = _excerpt_at(chunks, v.char_start)
        if c is None or c.kind != "table":
            continue
        ls = text.rfind("\n", 0, v.char_start) + 1
        le = text.find("\n", v.char_start)
        lines.setdefault((c.index, ls, le if le >= 0 else len(text)), []).append(v)
    for (ci, ls, le), vals in sorted(lines.items()):
        vals.sort(key=lambda v: v.char_start)
        title = doc.tables[next(c for c in chunks if c.index == ci).table_index].title
        line = text[ls:le]
        digits = re.sub(r"\D", "", line)
        code = vals[0].code if vals[0].code and vals[0].code in digits else ""   # a code printed elsewhere
        out[ci].append(Item("rows", {"table_title": title, "label": vals[0].row, "code": code,
                                     "quote": line.strip(),
                                     "cells": [{"column": v.column, "value": str(v.value)} for v in vals]}, True))
    return out


# ---- injected errors --------------------------------------------------------------------------------------

def _bump(value: str, rnd: random.Random) -> str:
    d = Decimal(value)
    if rnd.random() < 0.5:
        step = Decimal(1).scaleb(d.as_tuple().exponent) if isinstance(d.as_tuple().exponent, int) else Decimal(1)
        return str(d + step)
    return str(d * 10 if d else Decimal(7))


def _paraphrase(quote: str, rnd: random.Random) -> str:
    k = rnd.randrange(1, max(2, len(quote)))
    return quote[:k] + ("约" if rnd.random() < 0.5 else "的") + quote[k:]


def inject(items: list[Item], rnd: random.Random, start: int, truths: list[Item]) -> list[Item]:
    """One error per correct item, kinds in rotation (a per-run offset so every kind is exercised).
    `truths`: every correct item of the document (a swap that states one of them is no error)."""
    out = []
    for i, item in enumerate(items):
        kind = KINDS[(start + i) % len(KINDS)]
        p = dict(item.payload)
        if item.kind == "texts" and kind == "wrong_number":
            kind = "quote_not_in_source"
        if kind == "wrong_number" and item.kind == "facts":
            new = _bump(p["value"], rnd)
            if i % 2 and p["value"] in p["quote"]:
                p["quote"] = p["quote"].replace(p["value"], new, 1)
            p["value"] = new
        elif kind == "wrong_number":                                        # rows
            cells = [dict(c) for c in p["cells"]]
            cells[-1]["value"] = _bump(cells[-1]["value"], rnd)
            p["cells"] = cells
        elif kind == "swapped_fields":
            # a swap that happens to state another true item (same words, same number) is no error
            partners = [o for o in items if o.kind == item.kind and _label(o) != _label(item)
                        and not _states_truth({**p, **_fields(o)}, item.kind, truths)]
            if not partners:
                kind = "quote_not_in_source"
                p["quote"] = _paraphrase(p["quote"], rnd)
            elif item.kind == "rows":
                other = rnd.choice(partners).payload
                p["label"], p["code"] = other["label"], other["code"]
            else:
                other = rnd.choice(partners).payload
                p["name"], p["qualifier"] = other["name"], other["qualifier"]
        elif kind == "invented_row":
            if item.kind == "facts":
                fake = _bump(_bump(p["value"], rnd), rnd)
                if i % 2:
                    p["quote"] = f"{p['qualifier'] or '其他支出'}{fake}{p['unit']}"
                p["value"] = fake
                p["qualifier"] = (p["qualifier"] or "") + "（补充）"
            elif item.kind == "rows":
                p["label"] = p["label"] + "（补充）"
                p["quote"] = p["label"] + "\t" + "\t".join(_bump(c["value"], rnd) for c in p["cells"])
                p["cells"] = [{"column": c["column"], "value": _bump(c["value"], rnd)} for c in p["cells"]]
            else:
                p["quote"] = "因工作需要，相应调整了支出结构"
        if kind == "quote_not_in_source" and p.get("quote") == item.payload.get("quote"):
            p["quote"] = _paraphrase(p["quote"], rnd)
        out.append(Item(item.kind, p, False, kind))
    return out


def _fields(item: Item) -> dict[str, str]:
    p = item.payload
    return {"label": p["label"], "code": p["code"]} if item.kind == "rows" else \
        {"name": p["name"], "qualifier": p["qualifier"]}


def _claim(p: dict[str, Any], kind: str) -> tuple:
    if kind == "rows":
        return p["label"], tuple((c["column"], c["value"]) for c in p["cells"]), _nq(p["quote"])
    return p["name"], norm_label(p.get("qualifier", "")), p.get("value"), _nq(p["quote"])


def _states_truth(p: dict[str, Any], kind: str, truths: list[Item]) -> bool:
    # the same claim as a correct item, its quote a part of the other's (a fixture quote may be clipped)
    a = _claim(p, kind)
    for t in truths:
        b = _claim(t.payload, t.kind)
        if t.kind == kind and a[:-1] == b[:-1] and (a[-1] in b[-1] or b[-1] in a[-1]):
            return True
    return False


def _label(item: Item) -> tuple[str, str]:
    p = item.payload
    return (p.get("name", ""), p.get("qualifier", "")) if item.kind != "rows" else (p["label"], p["code"])


# ---- scoring ----------------------------------------------------------------------------------------------

def _nq(s: str) -> str:
    return "".join(s.split())


def score(doc: BudgetDocument, doc_text: str, items: list[Item], tally: Tally, where: str) -> None:
    llm_facts = [f for f in doc.facts if f.method != "rules"]
    llm_cells = [(t, r, c) for t, r, c in doc.amounts() if c.method != "rules"]
    correct_triples = {(it.payload["label"], c["column"], Decimal(c["value"]))
                       for it in items if it.correct and it.kind == "rows" for c in it.payload["cells"]}
    correct_quotes = {_nq(it.payload["quote"]) for it in items if it.correct and it.kind == "rows"}
    for it in items:
        p = it.payload
        if it.kind == "facts":
            value = Decimal(p["value"])
            hit_llm = [f for f in llm_facts if f.amount is not None and f.name == p["name"]
                       and norm_label(f.qualifier) == norm_label(p["qualifier"]) and f.amount.value == value
                       and _nq(p["quote"]) in _nq(f.prov.quote)]
            present = hit_llm or [f for f in doc.facts if f.amount is not None and compatible(f.name, p["name"])
                                  and same_qualifier(f.qualifier, p["qualifier"]) and f.amount.value == value]
        elif it.kind == "texts":
            hit_llm = [f for f in llm_facts if f.text is not None and f.name == p["name"]
                       and norm_label(f.qualifier) == norm_label(p["qualifier"]) and _nq(p["quote"]) == _nq(f.prov.quote)]
            present = hit_llm or [f for f in doc.facts if f.amount is None and compatible(f.name, p["name"])
                                  and same_qualifier(f.qualifier, p["qualifier"])]
        else:
            triples = {(c["column"], Decimal(c["value"])) for c in p["cells"]}
            present = [c for t, r, c in doc.amounts() if r.label == p["label"]
                       and (c.column, c.amount.value) in triples or c.amount.prov.quote == p["label"]]
            present = [c for t, r, c in doc.amounts() if r.label == p["label"] and c.amount.value in
                       {v for _, v in triples}]
            # an error leaks when a (row, column, value) only it claims stands in the output, or when its
            # quote differs from every correct one yet was found in the source (then it was no error)
            wrong = {(p["label"], col, v) for col, v in triples} - correct_triples
            hit_llm = [c for t, r, c in llm_cells if (r.label, c.column, c.amount.value) in wrong]
            if not wrong and _nq(p["quote"]) not in correct_quotes and _nq(p["quote"]) in _nq(doc_text):
                hit_llm = [True]
        if it.correct:
            tally.correct += 1
            if present:
                tally.kept += 1
            else:
                tally.dropped.append(f"{where}: {json.dumps(p, ensure_ascii=False)[:160]}")
        else:
            tally.injected[it.error] += 1
            if hit_llm:
                tally.missed.append(f"{where} {it.error}: {json.dumps(p, ensure_ascii=False)[:160]}")
            else:
                tally.caught[it.error] += 1


# ---- running ----------------------------------------------------------------------------------------------

def _reply(text: str) -> dict[str, Any]:
    from evals.scripted_server import chat_reply

    body = chat_reply(text, model=MODEL)
    body["usage"] = {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0}
    return body


def _llm(url: str, home: Path):
    from extractor.settings import Settings
    from rag.llm_adapter import ProviderLLM

    settings = Settings(openai_base_url=url, openai_api_key="sk-eval", llm_model=MODEL, llm_max_retries=0,
                        llm_timeout_s=10.0, llm_concurrency=2, home=home)
    return ProviderLLM(settings, cache=False)


def _unknown_tables(text: str, doc: BudgetDocument) -> str:
    """The text with every recognised table title replaced (same length) by one no rule knows."""
    chars = list(text)
    for t in doc.tables:
        s, e = t.title_prov.char_start, t.title_prov.char_end
        n = e - s
        if n < 2:
            continue
        filler = ("附列明细情况" * (n // 6 + 1))[:n - 1] + "表"
        chars[s:e] = list(filler)
    return "".join(chars)


def run_case(server, home: Path, gold: GoldDoc, mode: str, rnd: random.Random, offset: int) -> tuple[Tally, dict]:
    loaded = load_document(SAMPLES / gold.source)
    text = loaded.text
    doc = extract_text(loaded)
    everything = mode != "pipeline"
    if mode == "llm_only":
        doc.facts = []
    if mode == "tables_llm_only":
        text = _unknown_tables(text, doc)
        loaded.text = text
        doc = extract_text(loaded)
        doc.facts = []
        for t in doc.tables:
            if t.kind == TableKind.generic:
                t.rows, t.columns = [], []
    chunks = select_chunks(doc, text, everything=everything)
    if mode == "tables_llm_only":
        per_chunk = table_items(gold, text, chunks, doc)
    else:
        per_chunk = correct_items(gold, text, chunks)
    replies: dict[str, str] = {}
    all_items: list[Item] = []
    truths = [it for items in per_chunk.values() for it in items]
    for c in chunks:
        good = per_chunk.get(c.index, [])
        bad = inject(good, rnd, offset + c.index, truths)
        all_items += good + bad
        mixed = good + bad
        rnd.shuffle(mixed)
        body = {"facts": [], "texts": [], "rows": []}
        for it in mixed:
            body[it.kind].append(it.payload)
        replies[c.render(text)] = json.dumps(body, ensure_ascii=False)

    def handle(path: str, body: dict[str, Any]) -> dict[str, Any]:
        user = body["messages"][-1]["content"]
        for rendered, reply in replies.items():
            if rendered in user:
                return _reply(reply)
        return _reply(json.dumps({"facts": [], "texts": [], "rows": []}))

    server.set_default(handle)
    out = apply_llm(doc, text, _llm(server.url, home), everything=everything)
    tally = Tally()
    score(out, text, all_items, tally, f"{mode}/{gold.stem}")
    u = out.llm_usage
    assert u is not None
    return tally, {"document": gold.source, "chunks": u.chunks, "requests": u.requests,
                   "tokens_sent": u.tokens_sent_estimate, "tokens_whole": u.tokens_whole_estimate,
                   "share": round(u.tokens_sent_estimate / u.tokens_whole_estimate, 4) if u.tokens_whole_estimate else 0,
                   "errors": u.errors}


MODES = ("pipeline", "all_prose", "llm_only", "tables_llm_only")


def run_llm_suite(gold_dir: Path = GOLD_DIR, seed: int = 7, *, sources: list[str] | None = None,
                  modes: tuple[str, ...] = MODES) -> dict[str, Any]:
    """Run the suite; a JSON-able report with the figures and whether each goal is met.
    `sources` / `modes` narrow the run (tests)."""
    from evals.scripted_server import FakeOpenAI

    golds = [g for g in load_gold_docs(gold_dir) if not g.problems and (sources is None or g.source in sources)]
    report: dict[str, Any] = {"suite": "llm", "status": "ok", "goals": GOALS, "seed": seed, "runs": {}}
    with FakeOpenAI() as server, tempfile.TemporaryDirectory() as home:
        for mode in modes:
            rnd = random.Random(seed)
            total = Tally()
            docs = []
            for k, gold in enumerate(golds):
                if mode == "tables_llm_only" and k % 2:       # tables: every other sample keeps the run short
                    continue
                tally, info = run_case(server, Path(home), gold, mode, rnd, k)
                total.add(tally)
                docs.append(info)
            run = total.summary()
            sent, whole = sum(d["tokens_sent"] for d in docs), sum(d["tokens_whole"] for d in docs)
            run["tokens_share"] = round(sent / whole, 4) if whole else None
            run["tokens_share_max"] = max((d["share"] for d in docs), default=None)
            run["documents"] = docs
            report["runs"][mode] = run
    all_runs = report["runs"].values()
    report["caught_share"] = min(r["caught_share"] for r in all_runs if r["caught_share"] is not None)
    report["kept_share"] = min(r["kept_share"] for r in all_runs if r["kept_share"] is not None)
    report["tokens_share"] = report["runs"]["pipeline"]["tokens_share_max"] if "pipeline" in report["runs"] else None
    report["met"] = {"caught": report["caught_share"] >= GOALS["caught"], "kept": report["kept_share"] >= GOALS["kept"],
                     "tokens": report["tokens_share"] is not None and report["tokens_share"] <= GOALS["tokens"]}
    return report


def main() -> None:  # python -m evals.llm_suite
    report = run_llm_suite()
    for mode, run in report["runs"].items():
        print(f"{mode:16s} caught {run['caught']}/{run['injected_errors']} ({run['caught_share']}) "
              f"{run['caught_by_kind']}  kept {run['kept']}/{run['correct_items']} ({run['kept_share']})  "
              f"tokens {run['tokens_share']} (max/doc {run['tokens_share_max']})")
        for line in run["missed"] + run["dropped_correct"]:
            print("   ", line)
    print(json.dumps({k: report[k] for k in ("caught_share", "kept_share", "tokens_share", "met")}))


if __name__ == "__main__":
    main()


__all__ = ["run_llm_suite"]
