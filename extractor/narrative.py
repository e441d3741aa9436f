"""Narrative facts (placeholder until the narrative rules land)."""

from __future__ import annotations


def extract_facts(ref, text, sections, end_offset):
    return []
