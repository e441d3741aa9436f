"""Acceptance on the five bundled samples: amount-cell coverage measured independently, exact provenance."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from extractor.load import normalise_newlines
from extractor.models import BudgetDocument

from .cellscan import amount_cells
from .conftest import SEEDS


def _extracted_spans(doc):
    return {(c.amount.prov.char_start, c.amount.prov.char_end) for _, _, c in doc.amounts()}


@pytest.mark.parametrize("name", [p.name for p in SEEDS])
def test_amount_cell_coverage(seed_docs, name):
    text, doc = seed_docs[name]
    text = normalise_newlines(text)
    cells = amount_cells(text)
    assert len(cells) > 30
    got = _extracted_spans(doc)
    missing = [(s, e, t) for s, e, t in cells if (s, e) not in got]
    coverage = 1 - len(missing) / len(cells)
    assert coverage >= 0.99, f"{name}: coverage {coverage:.3f}; missing e.g. {missing[:5]}"


@pytest.mark.parametrize("name", [p.name for p in SEEDS])
def test_every_quote_is_its_source_span(seed_docs, name):
    text, doc = seed_docs[name]
    text = normalise_newlines(text)
    n = 0
    for _, _, cell in doc.amounts():
        p = cell.amount.prov
        assert text[p.char_start:p.char_end] == p.quote == cell.amount.raw
        n += 1
    for fact in doc.facts:
        assert text[fact.prov.char_start:fact.prov.char_end] == fact.prov.quote
        if fact.amount is not None:
            assert text[fact.amount.prov.char_start:fact.amount.prov.char_end] == fact.amount.prov.quote
    for ind in doc.indicators:
        assert text[ind.prov.char_start:ind.prov.char_end] == ind.prov.quote
    assert n > 0


def _records(obj):
    """Every pydantic record in a document tree."""
    if isinstance(obj, BaseModel):
        yield obj
        for name in type(obj).model_fields:
            yield from _records(getattr(obj, name, None))
    elif isinstance(obj, list):
        for item in obj:
            yield from _records(item)


@pytest.mark.parametrize("name", [p.name for p in SEEDS])
def test_records_hold_every_field(seed_docs, name):
    """The extractor builds records without validation (a fast path): each must still hold every field of
    its model, so attribute access and the JSON match the schema (a missing default was once dropped)."""
    _, doc = seed_docs[name]
    incomplete = {}
    for record in _records(doc):
        missing = set(type(record).model_fields) - set(record.__dict__)
        if missing:
            incomplete[type(record).__name__] = sorted(missing)
    assert incomplete == {}
    assert BudgetDocument.model_validate_json(doc.model_dump_json()) == doc
