"""One exception root. Every message names the file (when there is one) and says what to do."""

from __future__ import annotations


class BudgetQAError(Exception):
    """Root of every error budgetqa raises on purpose (user errors, bad input, configuration)."""

    def __init__(self, message: str, *, path: str | None = None, hint: str | None = None):
        self.path = path
        self.reason = message
        self.hint = hint
        text = f"{path}: {message}" if path else message
        if hint:
            text = f"{text} ({hint})"
        super().__init__(text)


class LoadError(BudgetQAError):
    """A file could not be read as a budget document."""


class ParseError(BudgetQAError):
    """The text was read but its structure could not be understood."""


class ConfigError(BudgetQAError):
    """Settings are missing or inconsistent."""


class StoreError(BudgetQAError):
    """The store is missing, locked or was built differently."""


class LLMError(BudgetQAError):
    """The configured LLM endpoint failed or answered badly."""
