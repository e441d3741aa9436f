"""The answer contract of `budgetqa ask --json` (DESIGN.md): one object per question."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

Status = Literal["verified", "computed", "unverified"]


class Citation(BaseModel):
    doc_id: str
    source: str
    locator: str
    quote: str = Field(description="Exact source characters: source_text[char_start:char_end] == quote.")
    char_start: int
    char_end: int
    page: int | None = None


class NumberStatus(BaseModel):
    value: str = Field(description="The number as stated in the answer (plain decimal, no separators).")
    unit: str = ""
    status: Status
    citation: int | None = Field(default=None, description="Index into citations for verified numbers.")
    formula: str | None = Field(default=None, description="How a computed number was obtained.")


class Answer(BaseModel):
    id: str | None = None
    question: str
    answer: str
    abstained: bool = False
    mode: str = "offline"
    citations: list[Citation] = Field(default_factory=list)
    numbers: list[NumberStatus] = Field(default_factory=list)
    latency_ms: int = 0
