"""The one provenance type: every extracted value points at the exact characters it came from."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

_DEFAULTS: dict[type, tuple[dict[str, Any], dict[str, Any]]] = {}

# The slots of every pydantic model, set through their descriptors: about twice as fast as
# object.__setattr__(obj, name, value), and this runs for every record the extractor builds.
_new = object.__new__
_set_dict = BaseModel.__dict__["__dict__"].__set__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def new_record(cls: type, fields: dict[str, Any], fields_set: set[str] | None = None) -> Any:
    """`cls.model_construct(**fields)` for a dict holding every field (no defaults filled in): an instance
    of `cls` whose field values are `fields` itself (trusted, already typed values)."""
    obj = _new(cls)
    _set_dict(obj, fields)
    _set_fields_set(obj, set(fields) if fields_set is None else fields_set)
    _set_extra(obj, None)
    _set_private(obj, None)
    return obj


_ALL_FIELDS: dict[type, set[str]] = {}


def full_record(cls: type, fields: dict[str, Any]) -> Any:
    """`new_record` for a dict holding every field of `cls`. Such records share one fields-set (all of
    the fields): pydantic only ever adds the name of an assigned field to it, which it already holds."""
    return new_record(cls, fields, all_fields(cls))


def all_fields(cls: type) -> set[str]:
    """The fields-set shared by the records of `cls` that hold every field (see `full_record`)."""
    shared = _ALL_FIELDS.get(cls)
    if shared is None:
        shared = _ALL_FIELDS[cls] = set(cls.model_fields)  # type: ignore[attr-defined]
    return shared


def record_maker(cls: type):
    """`lambda fields: full_record(cls, fields)` with the class's shared fields-set looked up once (for the
    records built by the thousand)."""
    shared = all_fields(cls)

    def make(fields: dict[str, Any]) -> Any:
        obj = _new(cls)
        _set_dict(obj, fields)
        _set_fields_set(obj, shared)
        _set_extra(obj, None)
        _set_private(obj, None)
        return obj

    return make


def amount_cell_maker(cell_cls: type, amount_cls: type):
    """A function `(column, role, value, unit, raw, prov) -> cell` building, in one call, the three records
    the table parser makes for every amount: `full_record(cell_cls, {column, role, amount, method='rules'})`
    of `full_record(amount_cls, {value, unit, raw, prov})` of `full_record(Provenance, prov)`. Each record
    holds every field of its class, so it takes the class's shared all-fields set (looked up once here)."""
    prov_fields, amount_fields, cell_fields = all_fields(Provenance), all_fields(amount_cls), all_fields(cell_cls)

    def amount_cell(column: str, role: str, value: Any, unit: str, raw: str, prov: dict[str, Any]) -> Any:
        p = _new(Provenance)
        _set_dict(p, prov)
        _set_fields_set(p, prov_fields)
        _set_extra(p, None)
        _set_private(p, None)
        a = _new(amount_cls)
        _set_dict(a, {"value": value, "unit": unit, "raw": raw, "prov": p})
        _set_fields_set(a, amount_fields)
        _set_extra(a, None)
        _set_private(a, None)
        c = _new(cell_cls)
        _set_dict(c, {"column": column, "role": role, "amount": a, "method": "rules"})
        _set_fields_set(c, cell_fields)
        _set_extra(c, None)
        _set_private(c, None)
        return c

    return amount_cell


class Record(BaseModel):
    """Base of all records. `model_construct` is a fast path for trusted, already-typed internal data:
    the extractor builds thousands of values per document and pydantic's generic path dominated its time."""

    @classmethod
    def model_construct(cls, _fields_set: set[str] | None = None, **values: Any):  # type: ignore[override]
        defaults = _DEFAULTS.get(cls)
        if defaults is None:
            plain, factories = {}, {}
            for name, field in cls.model_fields.items():
                if field.default_factory is not None:
                    factories[name] = field.default_factory
                elif not field.is_required():
                    plain[name] = field.default
            defaults = _DEFAULTS[cls] = (plain, factories)
        plain, factories = defaults
        data = {**plain, **values} if len(values) < len(cls.model_fields) else values
        for name, factory in factories.items():
            if name not in data:
                data[name] = factory()
        return new_record(cls, data, set(values) if _fields_set is None else _fields_set)


class Provenance(Record):
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


_provenance = record_maker(Provenance)


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
        return bisect_right(self.page_starts, offset)

    def span(self, start: int, end: int, locator: str) -> Provenance:
        return _provenance({
            "doc_id": self.doc_id, "source": self.source, "locator": locator, "char_start": start, "char_end": end,
            "quote": self.text[start:end], "page": bisect_right(self.page_starts, start) if self.page_starts else None,
        })
