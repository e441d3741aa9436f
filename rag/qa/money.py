"""Money in mixed units. Tables may print 元 (Shanghai district templates) while the narrative and other
documents print 万元: every figure is stated in the unit it was printed in, and where figures of different units
meet (a sum, a difference, a share, a ranking) they are brought to one unit by an explicit conversion that the
answer shows as a formula — nothing is silently rescaled.

The numeric verifier recomputes a formula only from cited numbers and the constant 100, so the factor 10000
is written `100 * 100` in the arithmetic it checks (the shown formula says × 10000)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal

from extractor.units import MONEY_UNITS, convert

from .catalogue import Value, fmt, q2


def is_money(unit: str) -> bool:
    return unit in MONEY_UNITS


def _factor_expr(from_unit: str, to_unit: str) -> str:
    """The conversion as arithmetic on the constant 100 (' * 100 * 100' for 万元 -> 元)."""
    f = MONEY_UNITS[from_unit] / MONEY_UNITS[to_unit]
    op = "*" if f >= 1 else "/"
    f = f if f >= 1 else 1 / f
    n, rest = 0, f
    while rest > 1 and rest % 100 == 0:
        rest /= 100
        n += 1
    if rest != 1:
        return f" {op} {fmt(f)}"   # 千元: a factor the verifier cannot rebuild from 100s (stated, not hidden)
    return "".join(f" {op} 100" for _ in range(n))


def convert_value(v: Value, unit: str) -> Value:
    """`v` expressed in `unit` (both money units), a computed value whose formula shows the conversion."""
    if v.unit == unit or not (is_money(v.unit) and is_money(unit)):
        return v
    new = convert(v.value, v.unit, unit)
    f = MONEY_UNITS[v.unit] / MONEY_UNITS[unit]
    shown = f"× {fmt(f)}" if f >= 1 else f"÷ {fmt(1 / f)}"
    expr = f"{v.arg()}{_factor_expr(v.unit, unit)}"
    return Value(new, unit, v.label, formula=f"{v.text()}{v.unit} {shown} = {fmt(new)}{unit}", inputs=[v],
                 expr=expr, term=f"({expr})", note=v.note)


def common_unit(values: Iterable[Value]) -> str | None:
    """The smallest money unit among `values` when they mix money units (conversion to it is exact), else None."""
    units = {v.unit for v in values}
    if len(units) < 2 or not all(is_money(u) for u in units):
        return None
    return min(units, key=lambda u: MONEY_UNITS[u])


def align(values: list[Value]) -> list[Value]:
    """The values in one money unit (converted explicitly) when they mix units; unchanged otherwise."""
    unit = common_unit(values)
    return [convert_value(v, unit) for v in values] if unit else list(values)


def comparable(v: Value) -> Decimal:
    """A sort key across money units (元 and 万元 figures ranked together)."""
    return convert(v.value, v.unit, "元") if is_money(v.unit) else v.value


_ASKED = re.compile(r"(?:多少|几|若干)(亿元|万元|千元|元)|(?:以|按|用|换算成|换算为|折合|合)(亿元|万元|千元|元)(?:计|为单位)?")
PRECISION_NOTE = "（注：换算中的万元数只精确到百元，差额仅供参考）"


def asked_unit(q: str) -> str | None:
    """The money unit a question asks the answer in ('是多少万元'), if it names one."""
    m = _ASKED.search(q)
    return (m.group(1) or m.group(2)) if m else None


def restate(v: Value, unit: str) -> Value | None:
    """`v` restated in the unit asked for (rounded to two decimals, as budget tables print 万元), with the
    conversion as its formula; None when no conversion is needed or possible."""
    if v.unit == unit or not (is_money(v.unit) and is_money(unit)):
        return None
    exact = convert_value(v, unit)
    shown = q2(exact.value) if -exact.value.as_tuple().exponent > 2 else exact.value  # type: ignore[operator]
    sign = "≈" if shown != exact.value else "="
    formula = exact.formula.split(" = ")[0] if exact.formula else ""
    return Value(shown, unit, v.label, formula=f"{formula} {sign} {fmt(shown)}{unit}", inputs=[v], expr=exact.expr,
                 term=exact.term)


def coarsened(values: Iterable[Value]) -> bool:
    """True when a value was converted to a finer unit than it was printed in (万元 to 元): the result of
    arithmetic on it is only as precise as the coarser figure."""
    return any(v.term and v.inputs and is_money(v.inputs[0].unit) and is_money(v.unit)
               and MONEY_UNITS[v.inputs[0].unit] > MONEY_UNITS[v.unit] for v in values)
