"""The one provenance type: every extracted value points at the exact characters it came from."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Provenance(BaseModel):
    """Where a value came from. Invariant: ``source_text[char_start:char_end] == quote``."""

    model_config = ConfigDict(frozen=True)

    doc_id: str = Field(description="Content hash of the document text.")
    source: str = Field(description="File name of the document.")
    locator: str = Field(description="Human locator: table title / row label / column path, or section path.")
    char_start: int = Field(ge=0, description="Start offset (characters) in the loaded document text.")
    char_end: int = Field(ge=0, description="End offset (exclusive).")
    quote: str = Field(description="The exact source characters of the value.")
    page: int | None = Field(default=None, description="1-based page number for PDF sources.")

    def check(self, text: str) -> bool:
        return text[self.char_start:self.char_end] == self.quote


class SourceRef:
    """Builds provenance for one document; keeps doc_id/source/page lookup in one place."""

    def __init__(self, doc_id: str, source: str, text: str, page_starts: list[int] | None = None):
        self.doc_id = doc_id
        self.source = source
        self.text = text
        self.page_starts = page_starts or []

    def page_of(self, offset: int) -> int | None:
        if not self.page_starts:
            return None
        import bisect

        return bisect.bisect_right(self.page_starts, offset)

    def span(self, start: int, end: int, locator: str) -> Provenance:
        return Provenance.model_construct(
            doc_id=self.doc_id, source=self.source, locator=locator, char_start=start, char_end=end,
            quote=self.text[start:end], page=self.page_of(start),
        )
