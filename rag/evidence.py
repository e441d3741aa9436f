"""When does a retrieved chunk hold the gold evidence of a question? Defined once, for the retrieval
benchmark and `budgetqa eval --suite retrieval` alike.

A chunk holds evidence when it comes from one of the question's expected sources and an expected number
is printed both in the chunk's text (what the reader and the ranker see) and in the source span the chunk
cites (`source_text[char_start:char_end]`, what a citation shows). For a plain text-splitter chunk the two
are the same string; for our rendered table rows the span check keeps a chunk from earning credit for a
number it merely repeats. Numbers compare by value (983.70 == 983.7), signs ignored (减少 96.55 prints
96.55). Expected numbers that the expected sources never print (computed ratios, sums) cannot be
retrieved and are left out; a question with none left is not scored."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from extractor.numbers import NUMBER_IN_TEXT_RE, fold_width


@dataclass(frozen=True)
class ChunkRef:
    """A retrieved chunk as evidence sees it."""

    source: str
    text: str
    char_start: int
    char_end: int


def numbers_in(text: str) -> set[Decimal]:
    """Absolute values of every number printed in `text` (thousands separators and full width allowed)."""
    out: set[Decimal] = set()
    for m in NUMBER_IN_TEXT_RE.finditer(fold_width(text)):
        try:
            out.add(abs(Decimal(m.group(0).replace(",", "").replace("−", "-"))))
        except InvalidOperation:
            continue
    return out


def as_decimals(values: Iterable[str | Decimal | int | float]) -> list[Decimal]:
    out = []
    for v in values:
        try:
            out.append(abs(Decimal(str(v).replace(",", ""))))
        except InvalidOperation:
            continue
    return out


def retrievable_numbers(expected: Sequence[Decimal], sources: Sequence[str],
                        source_texts: Mapping[str, str]) -> list[Decimal]:
    """The expected numbers that some expected source prints."""
    printed: set[Decimal] = set()
    for s in sources:
        printed |= numbers_in(source_texts.get(s, ""))
    return [n for n in expected if n in printed]


def evidence_in(chunk: ChunkRef, expected: Sequence[Decimal], sources: Sequence[str],
                source_texts: Mapping[str, str]) -> set[Decimal]:
    """The expected numbers this chunk holds as evidence (empty: it holds none)."""
    if chunk.source not in sources or not expected:
        return set()
    span = source_texts.get(chunk.source, "")[chunk.char_start:chunk.char_end]
    return set(expected) & numbers_in(chunk.text) & numbers_in(span)


def first_evidence_rank(chunks: Sequence[ChunkRef], expected: Sequence[Decimal], sources: Sequence[str],
                        source_texts: Mapping[str, str]) -> int | None:
    """1-based rank of the first chunk holding evidence; None when no retrieved chunk does."""
    for rank, chunk in enumerate(chunks, start=1):
        if evidence_in(chunk, expected, sources, source_texts):
            return rank
    return None


def coverage(chunks: Sequence[ChunkRef], expected: Sequence[Decimal], sources: Sequence[str],
             source_texts: Mapping[str, str]) -> float | None:
    """Share of the expected numbers held by at least one of `chunks` (multi-number questions)."""
    if not expected:
        return None
    held: set[Decimal] = set()
    for chunk in chunks:
        held |= evidence_in(chunk, expected, sources, source_texts)
    return len(held & set(expected)) / len(set(expected))
