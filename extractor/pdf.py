"""PDF loading (text-layer PDFs). Placeholder boundary until the real-world-input work lands."""

from __future__ import annotations

from pathlib import Path

from .errors import LoadError
from .load import LoadedText


def load_pdf_bytes(data: bytes, path: Path) -> LoadedText:
    raise LoadError("PDF input is not supported yet", path=str(path), hint="convert it to text (pdftotext -layout)")
