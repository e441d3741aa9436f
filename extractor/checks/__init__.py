"""Numeric checks: reconcile a budget document's numbers with the identities that bind them.

`run_checks(doc)` runs every registered rule (see `RULES`, each a documented function with an id) and
returns the findings: rule id, severity (`mismatch`, `shifted_column`, `missing`, `malformed`, `rounding`,
or `info` for an explained difference such as project money in 支出经济分类汇总表), a Chinese message, the
expected and actual numbers and every value involved with its provenance. Findings never change values."""

from __future__ import annotations

import logging

from ..models import BudgetDocument, Finding
from . import (  # noqa: F401  (importing registers the rules, in this order)
    rules_economic,
    rules_functional,
    rules_narrative,
    rules_projects,
    rules_totals,
    rules_wellformed,
)
from .engine import RULES, SEVERITIES, Context, Rule

log = logging.getLogger(__name__)

__all__ = ["RULES", "SEVERITIES", "Rule", "Context", "run_checks", "check_document"]


def check_document(doc: BudgetDocument, text: str | None = None, *, strict: bool = False) -> Context:
    """Run every rule; the returned context holds the findings (`.findings`) and every value that took part
    in some identity (`.used`). A rule that fails on unexpected input is logged and skipped unless strict."""
    ctx = Context(doc, text)
    findings: list[Finding] = []
    seen: set[tuple[str, str]] = set()
    for rule in RULES.values():
        try:
            produced = list(rule.func(ctx))
        except Exception as exc:
            if strict:
                raise
            # Not swallowed: the document says which check could not run, and the log gets one line.
            note = f"check {rule.id} could not run: {type(exc).__name__}: {exc}"
            doc.notes.append(note)
            log.warning("%s: %s", doc.source, note)
            continue
        for f in produced:
            key = (f.rule, f.message)
            if key not in seen:
                seen.add(key)
                findings.append(f)
    ctx.cache["findings"] = findings
    return ctx


def run_checks(doc: BudgetDocument, text: str | None = None, *, strict: bool = False) -> list[Finding]:
    """All findings for one extracted document."""
    return check_document(doc, text, strict=strict).cache["findings"]  # type: ignore[return-value]
