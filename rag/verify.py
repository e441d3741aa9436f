"""The answer verifier: every number an answer states is `verified` (equal to a value in the evidence it
cites, unit-aware: 元/万元/亿元, %), `computed` (the result of a supplied formula whose inputs are all in the
evidence, recomputed here) or `unverified` (flagged to the user). Years, dates, ordinals (第3) and codes
(2010301, 062) are not amounts and are never flagged.

Numbers are read with the one number parser (extractor.numbers) and units converted with the one unit
normaliser (extractor.units)."""

from __future__ import annotations

import ast
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, DivisionByZero, InvalidOperation

from extractor.errors import BudgetQAError
from extractor.models import Amount
from extractor.numbers import NUMBER_IN_TEXT_RE, decimals, fold_width, parse_amount
from extractor.units import MONEY_UNITS, convert

CHECKED_KINDS = ("amount", "percent", "count", "number")
_COUNT_UNITS = "辆台套个人次项家件期名户批场条本份天小时所处间座"
_UNIT_AFTER = re.compile(r"^\s*(亿元|万元|千元|元|个百分点|%|‰|亿|万|台（套）|台\(套\)|人次|小时|[" + _COUNT_UNITS + r"]|年度|年|月|日|号)")
_DATE = re.compile(r"\d{4}\s*[-/.年]\s*\d{1,2}\s*[-/.月](?:\s*\d{1,2}\s*[日号]?)?|\d{1,2}\s*月\s*\d{1,2}\s*[日号]"
                   r"|\d{4}\s*年\s*\d{1,2}\s*月")
_SPACED_CODE = re.compile(r"(?<![\d.])\d{3}(?:[ \t]\d{2}){1,2}(?![\d.])")
_CODE_WORDS = re.compile(r"(编码|代码|科目|编号|代号|code)[：:\s]*$", re.IGNORECASE)
_LIST_MARK = re.compile(r"^\s*[、.．)）]")
_CONSTANTS = {Decimal(1), Decimal(100), Decimal(10000), Decimal(100000000)}  # percent and 元/万元/亿元 factors need no citation


class VerifyError(BudgetQAError):
    """A formula given to the verifier cannot be evaluated."""


@dataclass(frozen=True)
class Mention:
    """A number in a text: its span, value, unit and what kind of number it is."""

    text: str
    start: int
    end: int
    value: Decimal
    unit: str
    kind: str  # amount | percent | count | number | year | date | ordinal | code

    @property
    def decimals(self) -> int:
        return decimals(self.text)


@dataclass
class Evidence:
    """One cited source: a quote (bare numbers in it take `unit`, e.g. a table cell's 万元) and/or records."""

    quote: str = ""
    unit: str = ""
    amounts: Sequence[Amount | tuple[Decimal | str, str]] = ()


@dataclass(frozen=True)
class Formula:
    """A computation the answer shows, e.g. '(3090.39 - 2718.67) / 2718.67 * 100' with unit '%'."""

    expression: str
    unit: str = ""


@dataclass
class NumberCheck:
    value: str
    unit: str
    status: str  # verified | computed | unverified
    citation: int | None = None
    formula: str | None = None
    start: int = 0
    end: int = 0
    text: str = ""
    kind: str = "amount"

    def as_json(self) -> dict:
        return {"value": self.value, "unit": self.unit, "status": self.status, "citation": self.citation,
                "formula": self.formula}


@dataclass
class _Known:
    value: Decimal
    unit: str
    citation: int
    places: int = field(default=2)


# ---- reading numbers -------------------------------------------------------------------------------------

def _unit_after(text: str, end: int) -> tuple[str, int]:
    m = _UNIT_AFTER.match(text[end:end + 8])
    if not m:
        return "", end
    unit = m.group(1)
    nxt = text[end + m.end():end + m.end() + 1]
    if unit in ("亿", "万"):
        if nxt and nxt in _COUNT_UNITS:
            return unit + nxt, end + m.end() + 1
        unit += "元"
    return unit.replace("(", "（").replace(")", "）"), end + m.end()


def _kind(text: str, m: re.Match[str], unit: str) -> str:
    raw = m.group()
    plain = "," not in raw and "." not in raw and not raw.startswith(("-", "−"))
    before = text[max(0, m.start() - 8):m.start()]
    after = text[m.end():m.end() + 2]
    if plain and len(raw) == 4 and 1900 <= int(raw) <= 2100 and (unit in ("年", "年度", "") or after.startswith("年")):
        return "year"
    if unit in ("月", "日", "号") or (before.rstrip().endswith("月") and unit in ("日", "号")):
        return "date"
    if before.rstrip().endswith("第") or (plain and before.rstrip().endswith(("（", "(")) and after[:1] in ("）", ")")):
        return "ordinal"
    line_start = text.rfind("\n", 0, m.start()) + 1
    if plain and not text[line_start:m.start()].strip() and _LIST_MARK.match(text[m.end():]) and not unit:
        return "ordinal"
    if plain and not unit and (len(raw) >= 5 or (len(raw) >= 2 and raw.startswith("0")) or _CODE_WORDS.search(before)):
        return "code"
    if unit in MONEY_UNITS:
        return "amount"
    if unit in ("%", "‰", "个百分点"):
        return "percent"
    if unit:
        return "count"
    return "number"


def scan_numbers(text: str) -> list[Mention]:
    """Every number in a text with its kind; full-width digits and thousands separators are understood."""
    folded = fold_width(text)  # same length: spans stay valid in the original text
    taken: list[tuple[int, int, str]] = [(m.start(), m.end(), "date") for m in _DATE.finditer(folded)]
    taken += [(m.start(), m.end(), "code") for m in _SPACED_CODE.finditer(folded)]
    out: list[Mention] = []
    for start, end, kind in taken:
        value = parse_amount(re.sub(r"\D", "", folded[start:end])) or Decimal(0)
        out.append(Mention(text[start:end], start, end, value, "", kind))
    for m in NUMBER_IN_TEXT_RE.finditer(folded):
        if any(s <= m.start() < e for s, e, _ in taken):
            continue
        value = parse_amount(m.group())
        if value is None:
            continue
        unit, _ = _unit_after(folded, m.end())
        out.append(Mention(text[m.start():m.end()], m.start(), m.end(), value, unit, _kind(folded, m, unit)))
    return sorted(out, key=lambda x: x.start)


# ---- matching ----------------------------------------------------------------------------------------------

def _rounds_to(exact: Decimal, shown: Decimal, places: int) -> bool:
    """`shown` is `exact` rounded to its printed places, and that rounding moves it by at most 0.5 %
    (2.87亿元 for 28,655万元 is the same number; 3亿元 is not)."""
    if exact == shown:
        return True
    step = Decimal(1).scaleb(-places)
    if exact.quantize(step, rounding=ROUND_HALF_UP) != shown:
        return False
    return abs(exact - shown) <= abs(exact) * Decimal("0.005")


def _comparable(value: Decimal, unit: str, target_unit: str) -> Decimal | None:
    if unit == target_unit or not unit or not target_unit:
        return value
    if unit in MONEY_UNITS and target_unit in MONEY_UNITS:
        return convert(value, unit, target_unit)
    return None


def _matches(mention: Mention, known: _Known) -> bool:
    if mention.kind == "number" or not known.unit:
        # a number printed without a unit (or evidence whose unit is unknown) matches by value only
        return known.value == mention.value or _rounds_to(known.value, mention.value, mention.decimals)
    value = _comparable(known.value, known.unit, mention.unit)
    return value is not None and _rounds_to(value, mention.value, mention.decimals)


def _known_values(evidence: Sequence[Evidence | str]) -> list[_Known]:
    out: list[_Known] = []
    for i, ev in enumerate(evidence):
        if isinstance(ev, str):
            ev = Evidence(quote=ev)
        for m in scan_numbers(ev.quote):
            if m.kind in CHECKED_KINDS:
                unit = m.unit or ev.unit
                out.append(_Known(m.value, unit, i, m.decimals))
        for a in ev.amounts:
            if isinstance(a, Amount):
                out.append(_Known(a.value, a.unit, i, decimals(a.raw)))
            else:
                value = parse_amount(str(a[0]))
                if value is not None:
                    out.append(_Known(value, a[1], i, decimals(str(a[0]))))
    return out


# ---- formulas ----------------------------------------------------------------------------------------------

def _evaluate(expression: str) -> tuple[Decimal, list[Decimal]]:
    """The value of an arithmetic expression (+ − × ÷, parentheses) in Decimal, and its operands."""
    text = fold_width(expression).replace("×", "*").replace("÷", "/").replace("−", "-").replace("％", "%")
    text = re.sub(r"(?<=\d),(?=\d{3})", "", text)
    operands: list[Decimal] = []

    def walk(node: ast.AST) -> Decimal:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            value = parse_amount(ast.unparse(node)) if not isinstance(node.value, bool) else None
            if value is None:
                raise VerifyError(f"not a number in formula: {ast.unparse(node)}")
            operands.append(value)
            return value
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            v = walk(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Sub | ast.Mult | ast.Div):
            a, b = walk(node.left), walk(node.right)
            if isinstance(node.op, ast.Add):
                return a + b
            if isinstance(node.op, ast.Sub):
                return a - b
            if isinstance(node.op, ast.Mult):
                return a * b
            return a / b
        raise VerifyError(f"unsupported formula: {expression!r}", hint="use numbers, + - * / and parentheses")

    try:
        tree = ast.parse(text.replace("%", ""), mode="eval")
        return walk(tree), operands
    except (SyntaxError, DivisionByZero, InvalidOperation, ZeroDivisionError) as exc:
        raise VerifyError(f"cannot evaluate formula {expression!r}: {exc}") from None


def _computed_by(mention: Mention, formula: Formula, known: list[_Known]) -> bool:
    result, operands = _evaluate(formula.expression)
    for op in operands:
        if op in _CONSTANTS:
            continue
        probe = Mention(str(op), 0, 0, op, "", "number")
        if not any(_matches(probe, k) for k in known):
            return False  # an input that is not in the evidence: the result is not verified
    value = _comparable(result, formula.unit, mention.unit)
    if value is None:
        return False
    step = Decimal(1).scaleb(-mention.decimals)
    return abs(value - mention.value) <= step / 2


# ---- the verifier ------------------------------------------------------------------------------------------

def verify_answer(answer: str, evidence: Sequence[Evidence | str] = (),
                  formulas: Sequence[Formula | str] = ()) -> list[NumberCheck]:
    """Classify every amount, percentage, count and bare number in `answer` (years, dates, ordinals and codes
    are skipped). `evidence[i]` is citation i; a string is a quote."""
    known = _known_values(evidence)
    forms = [f if isinstance(f, Formula) else Formula(f) for f in formulas]
    out: list[NumberCheck] = []
    for m in scan_numbers(answer):
        if m.kind not in CHECKED_KINDS:
            continue
        check = NumberCheck(value=str(m.value), unit=m.unit, status="unverified", start=m.start, end=m.end,
                            text=m.text, kind=m.kind)
        hit = next((k for k in known if _matches(m, k)), None)
        if hit is not None:
            check.status, check.citation = "verified", hit.citation
        else:
            formula = next((f for f in forms if _computed_by(m, f, known)), None)
            if formula is not None:
                check.status, check.formula = "computed", formula.expression
        out.append(check)
    return out


def unverified(checks: Sequence[NumberCheck]) -> list[NumberCheck]:
    return [c for c in checks if c.status == "unverified"]


__all__ = ["Evidence", "Formula", "Mention", "NumberCheck", "VerifyError", "scan_numbers", "verify_answer",
           "unverified"]
