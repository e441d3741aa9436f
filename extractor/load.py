"""Stage 1: bytes on disk -> document text. Detects the encoding; refuses empty, binary, oversize and
non-budget files with a one-line reason naming the file."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LoadError

TEXT_SUFFIXES = {".txt", ".md", ".markdown", ".text", ".tsv"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES

# A budget document mentions budgets/final accounts and money amounts.
_BUDGET_WORDS = re.compile(r"预算|决算")
_MONEY_WORDS = re.compile(r"万元|元|支出|收入")


@dataclass
class LoadedText:
    path: Path
    source: str
    text: str
    encoding: str
    doc_id: str
    page_starts: list[int] = field(default_factory=list)


def doc_id_for(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding). BOMs first, then strict UTF-8, BOM-less UTF-16, then GB18030."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:].decode("utf-8"), "utf-8-sig"
    if data.startswith(b"\xff\xfe") or data.startswith(b"\xfe\xff"):
        return data.decode("utf-16"), "utf-16"
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    sample = data[:4000]
    if len(sample) >= 4:
        even_nuls = sample[0::2].count(0)
        odd_nuls = sample[1::2].count(0)
        half = len(sample) / 2
        if odd_nuls > 0.2 * half and even_nuls < 0.05 * half:
            return data.decode("utf-16-le"), "utf-16-le"
        if even_nuls > 0.2 * half and odd_nuls < 0.05 * half:
            return data.decode("utf-16-be"), "utf-16-be"
    try:
        return data.decode("gb18030"), "gb18030"
    except UnicodeDecodeError as exc:
        raise ValueError("not valid UTF-8, UTF-16 or GB18030 text") from exc


def _looks_binary(data: bytes) -> bool:
    sample = data[:8192]
    if b"\x00" in sample and not (sample.startswith(b"\xff\xfe") or sample.startswith(b"\xfe\xff")):
        # UTF-16 without BOM has NULs in every other byte; anything else with NULs is binary.
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if not (max(even, odd) > 0.2 * len(sample) / 2 and min(even, odd) < 0.05 * len(sample) / 2):
            return True
    return False


def normalise_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_budget_text(text: str, path: Path) -> None:
    if not text.strip():
        raise LoadError("file is empty", path=str(path))
    if not _BUDGET_WORDS.search(text) or not _MONEY_WORDS.search(text):
        raise LoadError("not a budget document (no 预算/决算 and no amounts found)", path=str(path),
                        hint="budgetqa reads department budget and final-account documents")


def load_text_bytes(data: bytes, path: Path, max_bytes: int | None = None) -> LoadedText:
    if max_bytes is not None and len(data) > max_bytes:
        raise LoadError(f"file is too large ({len(data) / 1e6:.1f} MB > {max_bytes / 1e6:.1f} MB)", path=str(path),
                        hint="raise BUDGETQA_MAX_FILE_MB to allow it")
    if not data.strip():
        raise LoadError("file is empty", path=str(path))
    if _looks_binary(data):
        raise LoadError("file is binary, not text", path=str(path), hint="give a .txt/.md text or a text-layer .pdf")
    try:
        text, encoding = decode_bytes(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise LoadError(f"cannot decode text: {exc}", path=str(path)) from None
    text = normalise_newlines(text)
    check_budget_text(text, path)
    return LoadedText(path=path, source=path.name, text=text, encoding=encoding, doc_id=doc_id_for(text))


def load_document(path: str | Path, max_mb: float | None = None) -> LoadedText:
    """Load one file (txt/md in any supported encoding, or a text-layer PDF)."""
    from .settings import get_settings

    path = Path(path)
    if max_mb is None:
        max_mb = get_settings().max_file_mb
    max_bytes = int(max_mb * 1024 * 1024)
    if not path.exists():
        raise LoadError("file not found", path=str(path))
    if path.is_dir():
        raise LoadError("is a directory, not a file", path=str(path))
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise LoadError(f"unsupported file type '{suffix or '(none)'}'", path=str(path),
                        hint="supported: " + ", ".join(sorted(SUPPORTED_SUFFIXES)))
    size = path.stat().st_size
    if size > max_bytes:
        raise LoadError(f"file is too large ({size / 1e6:.1f} MB > {max_mb} MB)", path=str(path),
                        hint="raise BUDGETQA_MAX_FILE_MB to allow it")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror}", path=str(path)) from None
    if suffix in PDF_SUFFIXES:
        from .pdf import load_pdf_bytes

        return load_pdf_bytes(data, path)
    return load_text_bytes(data, path, max_bytes)


def iter_input_files(paths: list[str | Path]) -> list[Path]:
    """Expand directories (recursively) into supported files, sorted; explicit files are kept as given."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES))
        else:
            out.append(p)
    return out
