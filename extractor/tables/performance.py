"""Performance tables (placeholder until the indicator rules land)."""

from __future__ import annotations


def extract_indicators(ref, blocks):
    return []
