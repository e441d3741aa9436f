"""What the model must return: pydantic models sent as the `response_format` json_schema.

Every field is required (structured-output strict mode); validators are context-free (a value is a bare
number, a name is snake_case …) so that their errors can be sent back to the model for a repair turn.
Grounding against the source happens afterwards (`grounding.py`) and is never negotiated with the model."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..numbers import parse_amount

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,48}$")


def _bare_number(value: str) -> str:
    v = value.strip()
    if parse_amount(v) is None:
        raise ValueError("must be the bare number as printed (digits, optional sign, decimal point, thousands "
                         "separators), without unit or words, e.g. \"286.55\"")
    return v


class LLMFact(BaseModel):
    """A number stated in the prose."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="Fact name in snake_case from the list in the instructions.")
    qualifier: str = Field(description="What the fact is about when the name needs it (as printed), else \"\".")
    value: str = Field(description="The number exactly as printed, without unit, e.g. \"286.55\". "
                                   "Negative for a decrease (减少/下降).")
    unit: str = Field(description="Unit printed after the number: 万元, 元, %, 个, 辆, 台（套）, 人 …")
    quote: str = Field(description="Exact text copied from the document that contains the label and the number.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError("must be snake_case ascii, e.g. \"revenue_total\"")
        return v

    @field_validator("value")
    @classmethod
    def _value(cls, v: str) -> str:
        return _bare_number(v)

    @field_validator("unit")
    @classmethod
    def _unit(cls, v: str) -> str:
        v = v.strip()
        if len(v) > 8 or re.search(r"\d", v):
            raise ValueError("must be the unit alone (万元, %, 个 …)")
        return v

    @field_validator("quote")
    @classmethod
    def _quote(cls, v: str) -> str:
        if not v.strip() or len(v) > 400:
            raise ValueError("must be a non-empty exact excerpt of at most 400 characters")
        return v


class LLMText(BaseModel):
    """A text fact: the reason for a change, the 职责 summary …; the text is the quote itself."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="change_reason, total_change_reason, sangong_change_reason, main_duties …")
    qualifier: str = Field(description="What the text is about (as printed), else \"\".")
    quote: str = Field(description="The exact text copied from the document.")

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        return LLMFact._name(v)

    @field_validator("quote")
    @classmethod
    def _quote(cls, v: str) -> str:
        if not v.strip() or len(v) > 2000:
            raise ValueError("must be a non-empty exact excerpt of at most 2000 characters")
        return v


class LLMCell(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str = Field(description="Column header as printed (levels joined by '/').")
    value: str = Field(description="The number exactly as printed in that column.")

    @field_validator("value")
    @classmethod
    def _value(cls, v: str) -> str:
        return _bare_number(v)


class LLMTableRow(BaseModel):
    """One row of a table no rule recognised."""

    model_config = ConfigDict(extra="forbid")

    table_title: str = Field(description="Title of the table as printed.")
    label: str = Field(description="Row label as printed (项目 / 科目名称 …).")
    code: str = Field(description="Row code as printed, else \"\".")
    quote: str = Field(description="The exact text of the whole row as printed (one line).")
    cells: list[LLMCell] = Field(description="The row's numbers with their column headers, left to right.")

    @field_validator("quote")
    @classmethod
    def _quote(cls, v: str) -> str:
        if not v.strip() or len(v) > 600:
            raise ValueError("must be a non-empty exact excerpt of at most 600 characters")
        return v


class LLMExtraction(BaseModel):
    """The reply for one chunk of a document."""

    model_config = ConfigDict(extra="forbid")

    facts: list[LLMFact] = Field(description="Numbers stated in the prose.")
    texts: list[LLMText] = Field(description="Reasons for changes, 职责 and other text facts.")
    rows: list[LLMTableRow] = Field(description="Rows of the tables in the excerpt (empty when there is none).")


ITEM_MODELS: dict[str, type[BaseModel]] = {"facts": LLMFact, "texts": LLMText, "rows": LLMTableRow}
