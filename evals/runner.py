"""Runs the evaluation suites: extraction | retrieval | qa | llm | all.

A suite whose engine is not built yet (its module does not import) or cannot run here (no LLM endpoint)
reports {"status": "not available", "reason": ...} instead of failing the run. The engines are reached
through the adapters below — one place each — so wiring a new engine is a one-line change."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import platform
import tempfile
import time
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .dataset import (
    FIXTURES,
    GOLD_DIR,
    QA_FILE,
    ROOT,
    SAMPLES,
    Dataset,
    FixtureError,
    QACase,
    load_gold_docs,
    load_qa,
)

SUITES = ("extraction", "retrieval", "qa", "llm")

# The QA engine behind `budgetqa ask` (issue 6). Contract: answer_batch(items, *, store=..., llm=...) takes
# `ask --batch` input lines ({"id", "q", "conversation"}) and returns/yields one `ask --json` object each.
QA_ENTRY = "rag.qa.engine:answer_batch"
# Retrieval (issue 5): the evidence locator, our retriever and the naive LangChain baseline.
EVIDENCE_MODULE = "rag.evidence"
RETRIEVE_MODULE = "rag.retrieve"
RETRIEVAL_BENCH = ROOT / "benchmarks" / "retrieval_bench.py"
# Further QA sets scored beside the main one, each over its own documents: (name, fixtures, documents).
# realdocs: questions over the real PDFs (Shanghai 元 tables, Jiangsu templates, a 决算).
QA_SETS: tuple[tuple[str, Path, Path], ...] = (("realdocs", FIXTURES / "qa_realdocs.jsonl", ROOT / "data" / "realdocs"),)


class NotAvailable(Exception):
    """The suite's engine does not exist yet or cannot run in this environment."""


def not_available(suite: str, reason: str) -> dict[str, Any]:
    return {"suite": suite, "status": "not available", "reason": reason}


@dataclass
class RunOptions:
    samples: Path = SAMPLES
    gold_dir: Path = GOLD_DIR
    qa_file: Path = QA_FILE
    store: Path | None = None  # an ingested store; a temporary one is built from `samples` when None
    qa_sets: tuple[tuple[str, Path, Path], ...] | None = None  # None: QA_SETS, with the default qa_file only
    extra: dict[str, Any] = field(default_factory=dict)


def _import_entry(entry: str) -> Callable[..., Any]:
    module_name, _, attr = entry.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        # only "this engine is not built yet" is not-available; a broken import inside it is a real error
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise NotAvailable(f"{module_name} is not built yet") from None
        raise
    fn = getattr(module, attr, None)
    if fn is None:
        raise NotAvailable(f"{module_name} has no {attr}()")
    return fn


def _call_with_supported(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Pass only the keyword arguments the engine accepts (its signature may grow over time)."""
    params = inspect.signature(fn).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        kwargs = {k: v for k, v in kwargs.items() if k in params}
    return fn(*args, **kwargs)


def _as_dict(obj: Any) -> dict[str, Any]:
    if isinstance(obj, dict):
        return obj
    dump = getattr(obj, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    raise TypeError(f"the QA engine returned {type(obj).__name__}, expected an `ask --json` object")


# ------------------------------------------------------------------------------------------------ QA


def qa_answers(cases: Iterable[QACase], store: Path | None, llm: bool) -> dict[str, dict[str, Any]]:
    """The QA adapter: the same code path as `budgetqa ask --batch ... --json`. Returns answers by case id."""
    answer_batch = _import_entry(QA_ENTRY)
    if llm and "llm" not in inspect.signature(answer_batch).parameters:
        raise NotAvailable(f"{QA_ENTRY} has no `llm` switch, so the LLM mode cannot be selected")
    items = [c.inputs for c in cases]
    started = time.perf_counter()
    answers = [_as_dict(raw) for raw in _call_with_supported(answer_batch, items, store=store, llm=llm)]
    average_ms = (time.perf_counter() - started) * 1000 / max(1, len(items))
    out: dict[str, dict[str, Any]] = {}
    for answer in answers:
        answer.setdefault("latency_ms", average_ms)  # the contract has it; the batch average stands in
        out[str(answer.get("id"))] = answer
    return out


def build_store(root: Path, samples: Path, embedding: Any = None) -> Path:
    """Ingest the sample documents into a fresh store at `root` (the `budgetqa ingest` code path)."""
    store_mod = importlib.import_module("rag.store")
    from extractor.settings import Settings

    paths = sorted(p for p in samples.iterdir() if p.is_file())
    with store_mod.Store.open(root, write=True, settings=Settings(), embedding=embedding) as store:
        stats = store.ingest(store_mod.prepare_many(paths))
    if getattr(stats, "failed", None):
        from extractor.errors import BudgetQAError

        raise BudgetQAError(f"could not ingest {stats.failed}", path=str(samples), hint="run `budgetqa ingest` on it")
    return root


def _ensure_store(opts: RunOptions, tmp: list[tempfile.TemporaryDirectory[str]]) -> Path:
    """The store to query: --store, or a temporary one ingested from the samples."""
    if opts.store is not None:
        return opts.store
    _import_entry("rag.store:Store")
    d = tempfile.TemporaryDirectory(prefix="budgetqa-eval-")
    tmp.append(d)
    return build_store(Path(d.name) / "store", opts.samples)


def run_qa(opts: RunOptions, llm: bool = False) -> dict[str, Any]:
    suite = "llm" if llm else "qa"
    from .metrics import score_answers

    if llm:
        from extractor.settings import get_settings

        if not get_settings().llm_configured:
            return not_available(suite, "no LLM endpoint configured (set OPENAI_BASE_URL, OPENAI_API_KEY if "
                                        "needed, and BUDGETQA_LLM_MODEL)")
    dataset: Dataset[QACase] = load_qa(opts.qa_file)
    tmp: list[tempfile.TemporaryDirectory[str]] = []
    try:
        _import_entry(QA_ENTRY)
        store = _ensure_store(opts, tmp)
        answers = qa_answers(dataset.cases, store, llm)
        result = {"suite": suite, "status": "ok", **score_answers(dataset.cases, answers)}
        sets = opts.qa_sets if opts.qa_sets is not None else (QA_SETS if opts.qa_file == QA_FILE else ())
        for name, fixtures, docs in sets:
            # each set is asked against a store of its own documents (--store holds the samples)
            extra = load_qa(fixtures)
            d = tempfile.TemporaryDirectory(prefix=f"budgetqa-eval-{name}-")
            tmp.append(d)
            set_answers = qa_answers(extra.cases, build_store(Path(d.name) / "store", docs), llm)
            result.setdefault("sets", {})[name] = {"fixtures": fixtures.name, **score_answers(extra.cases, set_answers)}
    except NotAvailable as exc:
        return not_available(suite, str(exc))
    finally:
        for d in tmp:
            d.cleanup()
    return result


def run_llm(opts: RunOptions) -> dict[str, Any]:
    """The llm suite: LLM-assisted extraction against the scripted OpenAI-compatible server with injected
    errors (always runs, no endpoint needed), plus QA in LLM mode when a real endpoint is configured."""
    from .llm_suite import run_llm_suite

    report = run_llm_suite()
    report["qa_llm"] = run_qa(opts, llm=True)
    return report


# ------------------------------------------------------------------------------------------------ retrieval


def _load_bench() -> Any:
    """benchmarks/retrieval_bench.py holds the naive LangChain baseline; it is reused, not copied."""
    if not RETRIEVAL_BENCH.exists():
        raise NotAvailable(f"{RETRIEVAL_BENCH.name} (the naive LangChain baseline) is not built yet")
    spec = importlib.util.spec_from_file_location("budgetqa_retrieval_bench", RETRIEVAL_BENCH)
    if spec is None or spec.loader is None:
        raise NotAvailable(f"cannot load {RETRIEVAL_BENCH}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    for name in ("run_ours", "run_baseline"):
        if not hasattr(module, name):
            raise NotAvailable(f"{RETRIEVAL_BENCH.name} has no {name}()")
    return module


def retrieval_cases(dataset: Dataset[QACase], texts: dict[str, str], evidence: Any) -> list[dict[str, Any]]:
    """Answerable questions whose expected numbers are printed in their sources, with the earlier turns of
    their conversation as context (the shape the benchmark's runners take)."""
    history: dict[str, list[str]] = {}
    cases = []
    for c in dataset:
        context = list(history.get(c.conversation, [])) if c.conversation else []
        if c.conversation:
            history.setdefault(c.conversation, []).append(c.question)
        if c.abstain:
            continue
        expected = evidence.as_decimals(n.value for n in c.expected_numbers)
        numbers = evidence.retrievable_numbers(expected, c.expected_sources, texts)
        if numbers:
            cases.append({"id": c.id, "kind": c.kind, "question": c.question, "context": context,
                          "numbers": numbers, "expected_sources": c.expected_sources})
    return cases


def run_retrieval(opts: RunOptions) -> dict[str, Any]:
    """recall@1/5/10 and MRR of the first chunk holding the gold evidence (rag/evidence.py), for our
    retriever over a fresh store of the samples and the naive LangChain baseline, same embedding, same run."""
    from .dataset import load_text
    from .metrics import percentile

    try:
        _import_entry(EVIDENCE_MODULE + ":first_evidence_rank")
        evidence = importlib.import_module(EVIDENCE_MODULE)
        retriever_cls = _import_entry(RETRIEVE_MODULE + ":Retriever")
        embed_cls = _import_entry("rag.embed:HashedNgramEmbedding")
        store_cls = _import_entry("rag.store:Store")
        bench = _load_bench()
    except NotAvailable as exc:
        return not_available("retrieval", str(exc))
    from extractor.settings import Settings

    dataset = load_qa(opts.qa_file)
    texts = {p.name: load_text(p.name, opts.samples) for p in sorted(opts.samples.iterdir()) if p.is_file()}
    cases = retrieval_cases(dataset, texts, evidence)
    ef = embed_cls()
    with tempfile.TemporaryDirectory(prefix="budgetqa-eval-retrieval-") as tmp:
        work = Path(tmp)
        build_store(work / "ours", opts.samples, ef)
        store = store_cls.open(work / "ours", settings=Settings(), embedding=ef)
        try:
            ours, lat_ours = bench.run_ours(retriever_cls(store), cases)
            base, lat_base = bench.run_baseline(ef, texts, cases, work)
        finally:
            store.close()
    systems: dict[str, Any] = {}
    for name, results, lat in (("ours", ours, lat_ours), ("baseline", base, lat_base)):
        ranks = [evidence.first_evidence_rank(results[c["id"]], c["numbers"], c["expected_sources"], texts)
                 for c in cases]
        by_kind: dict[str, list[int | None]] = {}
        for c, r in zip(cases, ranks, strict=True):
            by_kind.setdefault(c["kind"], []).append(r)
        systems[name] = {"ranks": ranks, "latency_p50_ms": percentile(lat, 50), "latency_p95_ms": percentile(lat, 95),
                         "recall@5_by_kind": {k: sum(1 for r in v if r and r <= 5) / len(v)
                                              for k, v in sorted(by_kind.items())}}
    out = retrieval_summary(systems)
    out["systems"]["ours"]["missed@5"] = [c["id"] for c, r in zip(cases, systems["ours"]["ranks"], strict=True)
                                         if not r or r > 5]
    return {"suite": "retrieval", "status": "ok", "questions": len(cases),
            "embedding": getattr(ef, "identity", type(ef).__name__), **out}


def retrieval_summary(result: dict[str, Any]) -> dict[str, Any]:
    """Normalise per-system ranks ({"ours": [rank|None, ...], "baseline": [...]}) or ready metrics."""
    from .metrics import mrr, recall_at

    systems: dict[str, Any] = {}
    for name, value in (result.get("systems") or result).items():
        if isinstance(value, dict) and "ranks" in value:
            ranks = value["ranks"]
        elif isinstance(value, list):
            ranks = value
        else:
            systems[name] = value
            continue
        systems[name] = {"questions": len(ranks), "recall@1": recall_at(ranks, 1), "recall@5": recall_at(ranks, 5),
                         "recall@10": recall_at(ranks, 10), "mrr": mrr(ranks)}
        if isinstance(value, dict):
            systems[name].update({k: v for k, v in value.items() if k != "ranks"})
    ours, base = systems.get("ours"), systems.get("baseline")
    ratio = None
    if isinstance(ours, dict) and isinstance(base, dict) and base.get("recall@5"):
        ratio = ours["recall@5"] / base["recall@5"]
    return {"systems": systems, "recall@5_ratio_over_baseline": ratio}


# ------------------------------------------------------------------------------------------------ run


def run_extraction_suite(opts: RunOptions) -> dict[str, Any]:
    from .extraction import run_extraction

    return run_extraction(load_gold_docs(opts.gold_dir, opts.samples), opts.samples)


RUNNERS: dict[str, Callable[[RunOptions], dict[str, Any]]] = {
    "extraction": run_extraction_suite,
    "retrieval": run_retrieval,
    "qa": lambda o: run_qa(o, llm=False),
    "llm": lambda o: run_llm(o),
}


def run(suites: Iterable[str], opts: RunOptions | None = None) -> dict[str, Any]:
    opts = opts or RunOptions()
    names = list(SUITES) if "all" in suites else list(dict.fromkeys(suites))
    out: dict[str, Any] = {
        "run": {"started": datetime.now(UTC).isoformat(timespec="seconds"), "python": platform.python_version(),
                "suites": names},
        "suites": {},
    }
    for name in names:
        t0 = time.perf_counter()
        try:
            result = RUNNERS[name](opts)
        except FixtureError:
            raise  # the fixtures are broken: every suite would be wrong, so stop with the file and the fix
        except Exception as exc:  # one broken engine must not hide the other suites' figures
            result = {"suite": name, "status": "error", "reason": f"{type(exc).__name__}: {exc}",
                      "traceback": traceback.format_exc(limit=-6)}
        result["seconds"] = round(time.perf_counter() - t0, 2)
        out["suites"][name] = result
    return out
