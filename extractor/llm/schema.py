"""What the model must return: pydantic models sent as the `response_format` json_schema.

Every field is required (structured-output strict mode); validators are context-free (a value is a bare
number, a name is snake_case …) so that their errors can be sent back to the model for a repair turn.
Grounding against the source happens afterwards (`grounding.py`) and is never negotiated with the model.
The schema travels with every request, so it carries no titles or descriptions: the system prompt
(`prompts.py`) explains the fields once."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from ..numbers import parse_amount

_NAME = re.compile(r"^[a-z][a-z0-9_]{1,48}$")


def _bare_number(value: str) -> str:
    v = value.strip()
    if parse_amount(v) is None:
        raise ValueError("must be the bare number as printed (digits, optional sign, decimal point, thousands "
                         "separators), without unit or words, e.g. \"286.55\"")
    return v


def _snake(v: str) -> str:
    if not _NAME.match(v):
        raise ValueError("must be snake_case ascii, e.g. \"revenue_total\"")
    return v


def _excerpt(v: str, limit: int) -> str:
    if not v.strip() or len(v) > limit:
        raise ValueError(f"must be a non-empty exact excerpt of at most {limit} characters")
    return v


def _strip_titles(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: _strip_titles(v) for k, v in node.items() if not (k == "title" and isinstance(v, str))}
    if isinstance(node, list):
        return [_strip_titles(v) for v in node]
    return node


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LLMFact(_Item):
    """A number stated in the prose: name (qualifier) = value unit, with the exact quote holding it."""

    name: str
    qualifier: str
    value: str
    unit: str
    quote: str

    _name = field_validator("name")(_snake)
    _value = field_validator("value")(_bare_number)

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
        return _excerpt(v, 400)


class LLMText(_Item):
    """A text fact (reason for a change, 职责 …): the text is the quote itself."""

    name: str
    qualifier: str
    quote: str

    _name = field_validator("name")(_snake)

    @field_validator("quote")
    @classmethod
    def _quote(cls, v: str) -> str:
        return _excerpt(v, 2000)


class LLMCell(_Item):
    column: str
    value: str

    _value = field_validator("value")(_bare_number)


class LLMTableRow(_Item):
    """One row of a table no rule recognised; `quote` is the whole row as printed."""

    table_title: str
    label: str
    code: str
    quote: str
    cells: list[LLMCell]

    @field_validator("quote")
    @classmethod
    def _quote(cls, v: str) -> str:
        return _excerpt(v, 600)


class LLMExtraction(_Item):
    """The reply for one chunk of a document."""

    facts: list[LLMFact]
    texts: list[LLMText]
    rows: list[LLMTableRow]

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:  # type: ignore[override]
        schema = _strip_titles(super().model_json_schema(*args, **kwargs))
        for node in schema.get("$defs", {}).values():
            node.pop("description", None)
        schema.pop("description", None)
        return schema


ITEM_MODELS: dict[str, type[BaseModel]] = {"facts": LLMFact, "texts": LLMText, "rows": LLMTableRow}
