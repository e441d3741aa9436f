"""The one unit normaliser. Values keep the unit they were printed in; comparisons convert explicitly."""

from __future__ import annotations

from decimal import Decimal

MONEY_UNITS: dict[str, Decimal] = {"元": Decimal(1), "千元": Decimal(1000), "万元": Decimal(10000),
                                   "亿元": Decimal(100000000)}


def normalise_unit(text: str) -> str:
    """'单位：万元' / '（万元）' / '万 元' -> '万元'; unknown text is returned stripped."""
    t = text.replace(" ", "").replace("\u3000", "")
    for prefix in ("单位：", "单位:", "金额单位：", "金额单位:"):
        if t.startswith(prefix):
            t = t[len(prefix):]
    t = t.strip("（）()：:")
    for unit in ("亿元", "万元", "千元", "元"):
        if t.startswith(unit):
            return unit
    return t


def is_money(unit: str) -> bool:
    return unit in MONEY_UNITS


def convert(value: Decimal, from_unit: str, to_unit: str) -> Decimal:
    """Convert between money units (元/千元/万元/亿元). Same unit is a no-op; other units must match."""
    if from_unit == to_unit:
        return value
    if from_unit in MONEY_UNITS and to_unit in MONEY_UNITS:
        return value * MONEY_UNITS[from_unit] / MONEY_UNITS[to_unit]
    raise ValueError(f"cannot convert {from_unit} to {to_unit}")


def to_wanyuan(value: Decimal, unit: str) -> Decimal:
    return convert(value, unit, "万元")
