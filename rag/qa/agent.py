"""LLM mode of the QA engine: a tool-calling agent over `ChatOpenAI` (rag.provider), in a small explicit loop.

    model ⇄ tools (records, hybrid search, calculator)  — at most MAX_STEPS model calls
    final text -> numeric verifier against the evidence the tools returned -> Answer (mode "llm:<model>")

The loop is ours rather than a framework agent's so that every failure is seen: a timeout, 429/5xx after the
SDK's retries, a malformed body, an empty reply or a run out of steps all fall back to the offline engine's
answer with a visible note, never a traceback. Every number of the final answer goes through rag.verify:
`verified` if a cited quote or record holds it, `computed` if a calculator formula over evidence gives it,
otherwise `unverified` — and then flagged in the answer text itself (「未核实」)."""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import OrderedDict
from typing import Any

from extractor.errors import LLMError
from extractor.numbers import fold_width
from extractor.settings import Settings

from .grounding import Registry
from .models import Answer, NumberStatus
from .prompts import SYSTEM_PROMPT, TOOL_ERROR
from .tools import Toolbox, tool_specs

log = logging.getLogger(__name__)

MAX_STEPS = 6            # model calls per question (the last one may not call tools)
MAX_TOOL_CALLS = 12      # tool executions per question
HISTORY_TURNS = 4        # earlier turns of a conversation given to the model
HISTORY_CHARS = 300      # of each earlier answer
MAX_CONVERSATIONS = 1000
DEADLINE_FACTOR = 3      # a question's whole run may take this many request timeouts (then: offline)
FLAG = "（未核实）"
FALLBACK_NOTE = "（LLM 不可用，已改用离线引擎：{reason}）"
REASONS = {"timeout": "请求超时", "rate_limit": "请求过多被限流（已重试）", "server": "服务器错误（已重试）",
           "connection": "无法连接服务器", "auth": "密钥无效或无权限", "rejected": "服务器拒绝了请求",
           "malformed": "返回内容格式错误", "empty": "模型没有给出答案", "steps": "超过最大步数仍未给出答案",
           "internal": "内部错误"}
_MARK = re.compile(r"[\[【]\s*(E\s*\d+(?:\s*[,，、;；]\s*E\s*\d+)*)\s*[\]】]", re.IGNORECASE)
_BARE_MARK = re.compile(r"[\[【]\s*\d{1,3}\s*[\]】]")
_NAME = re.compile(r"「[^」]*」")
_TIMES_100 = re.compile(r"[×xX*＊]\s*100\s*[%％]?(?![\d.])")
_ABSTAIN = re.compile(r"文件中没有|文件中未|没有找到|未找到|无法回答|无法从文件")


class AgentStop(LLMError):
    """The model did not produce a usable final answer (`kind`: empty | steps | malformed)."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


class LLMAgent:
    def __init__(self, engine: Any, settings: Settings, chat: Any = None):
        from rag import provider

        self.engine = engine
        self.settings = settings
        self.model = settings.llm_model or "?"
        chat = chat or provider.make_chat_model(settings)
        specs = tool_specs()
        self.with_tools = chat.bind_tools(specs)
        self.final_only = chat.bind_tools(specs, tool_choice="none")   # the last step must answer
        self._history: OrderedDict[str, list[tuple[str, str]]] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def mode(self) -> str:
        return f"llm:{self.model}"

    # ---- conversation --------------------------------------------------------------------------------
    def remember(self, conversation_id: str | None, question: str, answer: str = "") -> None:
        if conversation_id is None:
            return
        with self._lock:
            turns = self._history.pop(conversation_id, [])
            turns = (turns + [(question, re.sub(r"\[\d+\]", "", answer)[:HISTORY_CHARS])])[-HISTORY_TURNS:]
            self._history[conversation_id] = turns
            while len(self._history) > MAX_CONVERSATIONS:
                self._history.popitem(last=False)

    def _prompt(self, question: str, conversation_id: str | None) -> str:
        with self._lock:
            turns = list(self._history.get(conversation_id, [])) if conversation_id is not None else []
        if not turns:
            return question
        lines = ["此前的对话（用于理解“那……呢”“这个部门”“和去年比呢”等指代；其中的数字须重新查证）："]
        for q, a in turns:
            lines.append(f"问：{q}")
            if a:
                lines.append(f"答：{a}")
        lines.append(f"当前问题：{question}")
        return "\n".join(lines)

    # ---- answering -----------------------------------------------------------------------------------
    def answer(self, question: str, conversation_id: str | None, qid: str | None, offline: Answer) -> Answer:
        """The agent's answer, or `offline` with a note saying why the LLM could not answer."""
        from rag import provider

        box = Toolbox(self.engine)
        try:
            text = self._run(self._prompt(question, conversation_id), box)
            ans = finish(text, box.reg, question, qid, self.mode)
        except provider.ChatFailure as exc:
            return self._fallback(offline, exc.kind, exc)
        except AgentStop as exc:
            return self._fallback(offline, exc.kind, exc)
        except Exception as exc:  # noqa: BLE001 — an agent bug must not end a chat session or a batch
            log.debug("LLM agent failed", exc_info=True)
            return self._fallback(offline, "internal", exc)
        self.remember(conversation_id, question, ans.answer)
        return ans

    def _fallback(self, offline: Answer, kind: str, exc: BaseException) -> Answer:
        log.warning("LLM answer failed (%s): %s; answering offline", kind, self._redact(str(exc)))
        note = FALLBACK_NOTE.format(reason=REASONS.get(kind, REASONS["internal"]))
        out = offline.model_copy(deep=True)
        out.answer = f"{note}{out.answer}"
        out.mode = "offline"
        return out

    def _redact(self, text: str) -> str:
        key = self.settings.openai_api_key.get_secret_value() if self.settings.openai_api_key else ""
        return text.replace(key, "***") if key else text

    def _run(self, prompt: str, box: Toolbox) -> str:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage

        from rag import provider

        messages: list[Any] = [SystemMessage(SYSTEM_PROMPT), HumanMessage(prompt)]
        executed = 0
        deadline = time.monotonic() + DEADLINE_FACTOR * self.settings.llm_timeout_s
        for step in range(MAX_STEPS):
            if step and time.monotonic() > deadline:
                raise AgentStop("timeout", f"no final answer within {DEADLINE_FACTOR} request timeouts")
            model = self.final_only if step == MAX_STEPS - 1 else self.with_tools
            try:
                with provider.llm_semaphore(self.settings.llm_concurrency):
                    ai = model.invoke(messages)
            except Exception as exc:  # noqa: BLE001 — classified at the provider boundary
                raise provider.chat_failure(exc, self.settings, f"chat request (model {self.model})") from None
            if not isinstance(ai, AIMessage):
                raise AgentStop("malformed", f"the model returned {type(ai).__name__}")
            calls = list(ai.tool_calls) + list(ai.invalid_tool_calls)
            if not calls:
                text = _text_of(ai.content)
                if not text.strip():
                    raise AgentStop("empty", "the model returned no answer")
                return text.strip()
            messages.append(ai)
            for i, call in enumerate(calls):
                call_id = call.get("id") or f"call_{step}_{i}"
                if call.get("type") == "invalid_tool_call":
                    result = TOOL_ERROR.format(error="参数不是合法的 JSON")
                elif executed >= MAX_TOOL_CALLS:
                    result = "已达到工具调用次数上限，请根据已取得的证据直接作答。"
                else:
                    executed += 1
                    result = box.call(str(call.get("name") or ""), call.get("args") or {})
                messages.append(ToolMessage(result, tool_call_id=call_id))
        raise AgentStop("steps", f"no final answer after {MAX_STEPS} model calls")


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p if isinstance(p, str) else str(p.get("text", "")) for p in content
                       if isinstance(p, str) or (isinstance(p, dict) and p.get("type") in (None, "text")))
    return ""


# ---- the final answer: citations, verification, flags ---------------------------------------------------

def finish(text: str, reg: Registry, question: str, qid: str | None, mode: str) -> Answer:
    """The model's final text as an Answer: [E#] marks become [n] citations of the evidence actually used,
    every number gets the verifier's status, and unverified ones are flagged in the text."""
    from rag.verify import Formula, verify_answer

    marks = [(m.start(), m.end(), [i for x in re.split(r"[,，、;；]", m.group(1))
                                   if (i := reg.position(re.sub(r"\s", "", x))) is not None])
             for m in _MARK.finditer(text)]
    bare = [(m.start(), m.end()) for m in _BARE_MARK.finditer(text)]
    masked = list(text)
    for s, e in [(s, e) for s, e, _ in marks] + bare:
        masked[s:e] = "□" * (e - s)
    for m in _NAME.finditer(text):
        masked[m.start() + 1:m.end() - 1] = "□" * (m.end() - m.start() - 2)
    for m in _TIMES_100.finditer(text):   # "× 100%" in a shown formula is a constant, not a stated figure
        masked[m.start():m.end()] = "□" * (m.end() - m.start())
    evidence = reg.verifier_evidence()
    checks = verify_answer("".join(masked), evidence, [Formula(c.expression, c.unit) for c in reg.calcs])
    checks = sorted(checks + _counted_codes("".join(masked), evidence, checks), key=lambda c: c.start)
    shown_formula = {c.expression: c.shown for c in reg.calcs}

    # evidence used, in order of first use: cited by a mark, or verifying a number, or an input of a formula
    order: list[int] = []
    events: list[tuple[int, list[int]]] = [(s, idx) for s, _e, idx in marks]
    for c in checks:
        if c.status == "verified" and c.citation is not None:
            events.append((c.start, [c.citation]))
        elif c.status == "computed" and c.formula:
            events.append((c.start, _inputs_of(c.formula, evidence)))
    for _pos, idx in sorted(events, key=lambda x: x[0]):
        order += [i for i in idx if i not in order]
    number = {i: n for n, i in enumerate(order)}

    edits: list[tuple[int, int, str]] = []
    for s, e, items in marks:
        edits.append((s, e, "".join(f"[{number[i] + 1}]" for i in dict.fromkeys(items))))
    edits += [(s, e, "") for s, e in bare]   # a [n] the model made up points at nothing
    numbers: list[NumberStatus] = []
    for c in checks:
        status = c.status
        numbers.append(NumberStatus(
            value=(c.text or c.value).replace(",", ""), unit=c.unit, status=status,  # type: ignore[arg-type]
            citation=number.get(c.citation) if status == "verified" and c.citation is not None else None,
            formula=shown_formula.get(c.formula or "", c.formula) if status == "computed" else None))
        if status == "unverified":
            end = _after_unit(text, c.end, c.unit)
            edits.append((end, end, FLAG))
    out = text
    for s, e, new in sorted(edits, key=lambda x: (x[0], x[1]), reverse=True):
        out = out[:s] + new + out[e:]
    if any(n.status == "unverified" for n in numbers):
        out += "\n（标注“未核实”的数字未能在工具返回的原文或记录中找到依据，请勿直接采用。）"
    first = re.split(r"[。！？\n]", text.strip(), maxsplit=1)[0]
    abstained = bool(_ABSTAIN.search(first)) or (bool(_ABSTAIN.search(text))
                                                 and not any(n.status != "unverified" for n in numbers))
    return Answer(id=qid, question=question, answer=out, abstained=abstained, mode=mode,
                  citations=[reg.items[i].citation() for i in order], numbers=numbers)


def _counted_codes(masked: str, evidence: list, checks: list) -> list:
    """Numbers the verifier reads as codes (five digits or more, no separator) but that a counter word follows
    (32000通, 12345人次) are stated figures: verified only if a quote or record holds that exact number."""
    from rag.verify import NumberCheck, scan_numbers

    from .fallback import UNIT_AFTER

    taken = {c.start for c in checks}
    out = []
    for m in scan_numbers(masked):
        if m.kind != "code" or m.start in taken or not re.fullmatch(r"\d+", m.text):
            continue
        u = UNIT_AFTER.match(masked[m.end:m.end + 8])
        if not u:
            continue
        token = re.compile(rf"(?<![\d.,]){m.text}(?![\d.,])")
        hit = next((i for i, ev in enumerate(evidence)
                    if token.search(fold_width(ev.quote).replace(",", ""))
                    or any(str(a.value if hasattr(a, "value") else a[0]) == m.text for a in ev.amounts)), None)
        out.append(NumberCheck(value=m.text, unit=u.group(1), status="verified" if hit is not None else "unverified",
                               citation=hit, start=m.start, end=m.end, text=m.text, kind="count"))
    return out


def _after_unit(text: str, end: int, unit: str) -> int:
    for u in (unit, unit.rstrip("元"), unit.replace("（", "(").replace("）", ")")):
        if u:
            m = re.match(r"\s*" + re.escape(u), text[end:])
            if m:
                return end + m.end()
    return end


def _inputs_of(expression: str, evidence: list) -> list[int]:
    """The evidence items holding a formula's operands (each operand's first holder)."""
    from rag.verify import VerifyError, _evaluate, verify_answer

    try:
        _result, operands = _evaluate(expression)
    except VerifyError:
        return []
    out = []
    for op in operands:
        hit = next((c.citation for c in verify_answer(f"{op}", evidence) if c.status == "verified"), None)
        if hit is not None and hit not in out:
            out.append(hit)
    return out
