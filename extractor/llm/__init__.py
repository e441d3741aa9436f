"""LLM-assisted extraction: what the rules did not cover goes to a model behind the `StructuredLLM` protocol;
every item it returns is grounded in the source (exact quote, number inside the quote) and reconciled with
the rule values. This package never imports `openai` or `rag`: the adapter lives in `rag.llm_adapter`."""

from .contract import InvalidOutput, StructuredLLM, Usage
from .stage import apply_llm

__all__ = ["InvalidOutput", "StructuredLLM", "Usage", "apply_llm"]
