"""budgetqa ask "QUESTION" [--json] [--store DIR] [--conversation ID] [--llm | --offline]
budgetqa ask --batch FILE.jsonl [--json] [--store DIR] [--llm | --offline]"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from extractor.errors import BudgetQAError

HELP = "answer a question with citations and verified numbers"
MAX_TURNS = 20


def add_parser(sub: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = sub.add_parser("ask", help=HELP, description=(
        "Answer questions about the ingested budget documents in Chinese, citing the exact table cell or "
        "sentence and marking every number verified / computed (formula shown) / unverified. Offline: no "
        "LLM is needed; with OPENAI_BASE_URL / OPENAI_API_KEY and BUDGETQA_LLM_MODEL set (or --llm) a "
        "tool-calling LLM agent answers, its numbers checked by the same verifier, the offline engine its "
        "fallback. --batch reads JSON lines {\"id\", \"q\", \"conversation\"}; lines sharing a "
        "conversation are successive turns, in file order; one answer is printed per line, in order."))
    p.add_argument("question", nargs="?", help="the question (omit with --batch)")
    p.add_argument("--json", action="store_true", help="print the answer contract as JSON (one object per line)")
    p.add_argument("--store", type=Path, default=None, metavar="DIR",
                   help="store directory (default: BUDGETQA_HOME or ./.budgetqa)")
    p.add_argument("--conversation", metavar="ID",
                   help="continue conversation ID: follow-ups such as “那项目支出呢？” resolve against its earlier "
                        "turns (kept in the store directory)")
    p.add_argument("--batch", type=Path, metavar="FILE.jsonl", help="answer every line of a JSONL file")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--llm", action="store_true",
                      help="answer with the LLM agent (needs OPENAI_BASE_URL or OPENAI_API_KEY, and "
                           "BUDGETQA_LLM_MODEL); the default when they are set")
    mode.add_argument("--offline", action="store_true", help="answer with the offline engine even if an LLM is set")
    return p


def read_batch(path: Path) -> list[dict[str, Any]]:
    """All lines first, so that a malformed one stops the run before any answer (file and line named)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise BudgetQAError(f"cannot read the batch file: {exc.strerror}", path=str(path)) from None
    except UnicodeDecodeError:
        raise BudgetQAError("the batch file is not UTF-8 text", path=str(path)) from None
    items = []
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BudgetQAError(f"line {n} is not JSON ({exc.msg})", path=str(path),
                                hint='each line is {"id": ..., "q": "问题", "conversation": ...}') from None
        if not isinstance(item, dict) or not isinstance(item.get("q") or item.get("question"), str):
            raise BudgetQAError(f"line {n} has no question", path=str(path),
                                hint='each line is {"id": ..., "q": "问题", "conversation": ...}')
        items.append(item)
    return items


def run(args: argparse.Namespace) -> int:
    from extractor.settings import get_settings
    from rag.qa.engine import Engine, store_dir

    if args.batch and args.question:
        raise BudgetQAError("give either a question or --batch FILE, not both")
    if not args.batch and not (args.question or "").strip():
        raise BudgetQAError("no question given", hint='budgetqa ask "驻京联络处2024年收入总计是多少？" or --batch FILE.jsonl')
    items = read_batch(args.batch) if args.batch else None
    root = store_dir(args.store)
    settings = get_settings()
    use_llm = bool(getattr(args, "llm", False)) or (settings.llm_configured and not getattr(args, "offline", False))
    engine = Engine.from_store(root, retriever=True, llm=use_llm, settings=settings)
    if items is not None:
        for answer in engine.batch(items):
            _print(answer, args.json)
        return 0
    cid = args.conversation
    history = _history(root, cid)
    for earlier in history:   # replay the conversation so that the follow-up resolves against it
        engine.replay(earlier, cid)
    answer = engine.answer(args.question, cid)
    if cid:
        _save_history(root, cid, history + [args.question])
    _print(answer, args.json)
    return 0


def _history_file(root: Path, cid: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in cid)[:80] or "default"
    return root / "conversations" / f"{safe}.json"


def _history(root: Path, cid: str | None) -> list[str]:
    if not cid:
        return []
    path = _history_file(root, cid)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [q for q in data.get("turns", []) if isinstance(q, str)][-MAX_TURNS:]


def _save_history(root: Path, cid: str, turns: list[str]) -> None:
    path = _history_file(root, cid)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"conversation": cid, "turns": turns[-MAX_TURNS:]}, ensure_ascii=False),
                       encoding="utf-8")
        tmp.replace(path)
    except OSError as exc:
        print(f"warning: the conversation could not be saved ({exc.strerror}): {path}", file=sys.stderr)


def _print(answer: Any, as_json: bool) -> None:
    if as_json:
        print(json.dumps(answer.model_dump(mode="json"), ensure_ascii=False), flush=True)
        return
    print(answer.answer)
    for i, c in enumerate(answer.citations, 1):
        quote = c.quote.replace("\n", " ")
        quote = quote if len(quote) <= 80 else quote[:77] + "…"
        print(f"  [{i}] {c.source} · {c.locator} · 字符{c.char_start}–{c.char_end} · “{quote}”")
    flagged = [n for n in answer.numbers if n.status == "unverified"]
    computed = [n for n in answer.numbers if n.status == "computed"]
    verified = [n for n in answer.numbers if n.status == "verified"]
    if answer.numbers:
        print(f"  数字核验：{len(verified)}个已核验，{len(computed)}个为计算所得（公式已列出），"
              f"{len(flagged)}个未核验" + (("：" + "、".join(n.value + n.unit for n in flagged)) if flagged else ""))
    print(flush=True)
