"""Small pieces of answer wording shared by the operations: counts in words, what is missing, the files."""

from __future__ import annotations

from .compose import Builder
from .corpus import Corpus
from .execute import subject
from .question import Parsed
from .view import DocView

CN = "零一两三四五六七八九十"


def cn(n: int) -> str:
    """Counts and ordinals in words (两、十二、一百零五), so that only stated figures are digits in an answer."""
    digits = "零一二三四五六七八九"
    if n == 2:
        return "两"
    if n < 10:
        return digits[n]
    if n < 20:
        return "十" + (digits[n - 10] if n > 10 else "")
    if n >= 100000:
        return "十万以上"
    out, zero = "", False
    for value, name in ((10000, "万"), (1000, "千"), (100, "百"), (10, "十"), (1, "")):
        d, n = divmod(n, value)
        if d:
            if zero and out:
                out += "零"
            out += digits[d] + name
            zero = False
        elif out:
            zero = True
    return out


def ordinal(n: int) -> str:
    return "第" + cn(n).replace("两", "二")


def catalogue_text(corpus: Corpus | list[DocView], limit: int = 8) -> str:
    views = corpus.views if isinstance(corpus, Corpus) else corpus
    names = [f"{v.name}{v.doc.year or ''}年{v.doc.kind}" for v in views[:limit]]
    more = f"等{len(views)}份" if len(views) > limit else ""
    return "、".join(names) + more


def say_missing(b: Builder, view: DocView, labels: list[str], unit: tuple[DocView, str] | None = None) -> None:
    b.add(f"文件中没有{subject(view, unit)}{'、'.join(labels)}的数据。")


def unit_for(p: Parsed, view: DocView) -> tuple[DocView, str] | None:
    return next((u for u in p.units if u[0] is view), None)
