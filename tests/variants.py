"""Variant budget documents for store tests and the retrieval benchmark (generated at run time, never committed).

A variant renames the department, shifts every year and scales every decimal amount of a real document,
so its text (and content hash) is new while its layout stays realistic. Nothing here knows which sample
it is given: the department name comes from the extractor."""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

CITIES = ["开封市", "洛阳市", "平顶山市", "安阳市", "鹤壁市", "新乡市", "焦作市", "濮阳市", "南阳市", "商丘市",
          "信阳市", "周口市", "驻马店市", "三门峡市"]
OFFICES = ["教育局", "民政局", "司法局", "审计局", "统计局", "林业局", "水利局", "文化广电和旅游局", "市场监督管理局",
           "应急管理局", "医疗保障局", "退役军人事务局", "农业农村局", "生态环境局", "住房和城乡建设局",
           "交通运输局", "卫生健康委员会", "自然资源和规划局", "人力资源和社会保障局", "发展和改革委员会"]

_DECIMAL = re.compile(r"(?<![\d.])(\d{1,3}(?:,\d{3})+|\d+)\.(\d{1,2})(?![\d.])")
_YEAR = re.compile(r"(?<!\d)(20[12]\d)(?=\s*年)")


def variant_name(i: int) -> str:
    return f"{CITIES[i % len(CITIES)]}{OFFICES[(i // len(CITIES)) % len(OFFICES)]}"


def make_variant(text: str, department: str, i: int, *, year_shift: int | None = None,
                 scale: Decimal | None = None) -> str:
    """Variant `i` of a document whose department is `department` (as the extractor names it)."""
    name = variant_name(i)
    shift = (i % 3) if year_shift is None else year_shift
    factor = scale if scale is not None else Decimal(1) + Decimal(i % 17 + 1) / Decimal(40)
    out = text.replace(department, name) if department else text

    def scale_amount(m: re.Match[str]) -> str:
        places = len(m.group(2))
        value = Decimal(m.group(1).replace(",", "") + "." + m.group(2)) * factor
        return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))

    out = _DECIMAL.sub(scale_amount, out)
    if shift:
        out = _YEAR.sub(lambda m: str(int(m.group(1)) - shift), out)
    return out


def write_variants(samples: list[Path], out_dir: Path, n: int) -> list[Path]:
    """`n` variant files cycling over `samples`, written into `out_dir`; returns their paths."""
    from extractor.pipeline import extract_file

    out_dir.mkdir(parents=True, exist_ok=True)
    bases = [(p.read_text(encoding="utf-8"), extract_file(p).department) for p in samples]
    paths = []
    for i in range(n):
        text, department = bases[i % len(bases)]
        path = out_dir / f"variant_{i:04d}.txt"
        path.write_text(make_variant(text, department, i), encoding="utf-8")
        paths.append(path)
    return paths
