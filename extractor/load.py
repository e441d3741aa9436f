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


_BOMS = [(b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16-le"), (b"\xfe\xff", "utf-16-be")]


def _plausible(text: str) -> float:
    """Share of characters that occur in budget documents: CJK, ASCII text, CJK/full-width punctuation."""
    sample = text[:20000]
    if not sample:
        return 0.0
    ok = 0
    for ch in sample:
        o = ord(ch)
        if (32 <= o < 127 or ch in "\t\n\r\f" or 0x4E00 <= o <= 0x9FFF or 0x3000 <= o <= 0x303F
                or 0xFF00 <= o <= 0xFFEF or 0x2000 <= o <= 0x206F or 0x3400 <= o <= 0x4DBF or o in (0xB7, 0xD7, 0xA0)
                or 0x2460 <= o <= 0x24FF or 0x2150 <= o <= 0x218F or 0x2190 <= o <= 0x22FF):
            ok += 1
    return ok / len(sample)


def _utf16(data: bytes) -> tuple[str, str] | None:
    """The BOM-less UTF-16 reading (LE or BE) that gives plausible text, if any."""
    if len(data) % 2:
        return None
    best = None
    for enc in ("utf-16-le", "utf-16-be"):
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            continue
        score = _plausible(text)
        if score >= 0.95 and (best is None or score > best[0]):
            best = (score, text, enc)
    return (best[1], best[2]) if best else None


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Return (text, encoding), detected from the bytes: a BOM first, then BOM-less UTF-16 (NUL bytes
    and plausible characters), strict UTF-8, then GB18030; never guessed from the file name."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(enc.replace("-sig", "")), enc
            except UnicodeDecodeError as exc:
                raise ValueError(f"starts with a {enc} byte-order mark but is not {enc} text") from exc
    if b"\x00" in data[:65536]:
        found = _utf16(data)
        if found:
            return found
        raise ValueError("binary content (NUL bytes) that is not UTF-16 text")
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("gb18030")
        if _plausible(text) >= 0.9:
            return text, "gb18030"
    except UnicodeDecodeError:
        pass
    found = _utf16(data)  # UTF-16 of text without a single ASCII character has no NUL byte
    if found:
        return found
    raise ValueError("not valid UTF-8, GB18030 or UTF-16 text")


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def _looks_binary(data: bytes) -> bool:
    """Known binary signatures (archives, images, office files); other content is judged after decoding."""
    return data[:8].startswith((b"PK\x03\x04", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"\xd0\xcf\x11\xe0",
                                 b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!", b"\x7fELF", b"MZ"))


def normalise_newlines(text: str) -> str:
    if "\r" not in text:   # the usual case: one scan instead of two replace passes
        return text
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_budget_text(text: str, path: Path) -> None:
    if not text or text.isspace():   # (= not text.strip(), without copying the text)
        raise LoadError("file is empty", path=str(path))
    if not _BUDGET_WORDS.search(text) or not _MONEY_WORDS.search(text):
        raise LoadError("not a budget document (no 预算/决算 and no amounts found)", path=str(path),
                        hint="budgetqa reads department budget and final-account documents")


def _too_large(size: int, max_mb: float, path: Path) -> LoadError:
    return LoadError(f"file is too large ({size / 2**20:.1f} MB > {round(max_mb, 3):g} MB)", path=str(path),
                     hint="raise BUDGETQA_MAX_FILE_MB to allow it")


def load_text_bytes(data: bytes, path: Path, max_bytes: int | None = None) -> LoadedText:
    """Bytes of a .txt/.md file -> LoadedText, or a LoadError saying why the file cannot be read."""
    if max_bytes is not None and len(data) > max_bytes:
        raise _too_large(len(data), max_bytes / 2**20, path)
    if not data or data.isspace() or data in (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff"):
        raise LoadError("file is empty", path=str(path))
    if _looks_binary(data):
        raise LoadError("file is binary, not text", path=str(path), hint="give a .txt/.md text or a text-layer .pdf")
    try:
        text, encoding = decode_bytes(data)
    except (ValueError, UnicodeDecodeError) as exc:
        reason = str(exc).split("\n")[0]
        if "binary" in reason:
            raise LoadError("file is binary, not text", path=str(path),
                            hint="give a .txt/.md text or a text-layer .pdf") from None
        raise LoadError(f"cannot decode text: {reason}", path=str(path),
                        hint="save it as UTF-8, GB18030 or UTF-16") from None
    if not text or text.isspace():   # (= not text.strip(), without copying the text)
        raise LoadError("file is empty", path=str(path))
    # (bounded search, no copy of the head; findall only when there is some control character)
    if _CONTROL.search(text, 0, 20000) and \
            len(_CONTROL.findall(text, 0, 20000)) > 0.01 * min(len(text), 20000):
        raise LoadError("file is binary, not text (control characters)", path=str(path),
                        hint="give a .txt/.md text or a text-layer .pdf")
    normalised = normalise_newlines(text)
    check_budget_text(normalised, path)
    # Strict UTF-8 text with nothing normalised encodes back to exactly the bytes read: hash those
    # instead of encoding the text again (doc_id_for gives the same digest).
    if encoding == "utf-8" and normalised is text:
        doc_id = hashlib.sha256(data).hexdigest()[:16]
    else:
        doc_id = doc_id_for(normalised)
    return LoadedText(path=path, source=path.name, text=normalised, encoding=encoding, doc_id=doc_id)


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
        raise _too_large(size, max_mb, path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LoadError(f"cannot read file: {exc.strerror}", path=str(path)) from None
    if suffix in PDF_SUFFIXES:
        from .pdf import load_pdf_bytes

        return load_pdf_bytes(data, path)
    return load_text_bytes(data, path, max_bytes)


# Notes that live beside documents in a folder; skipped when walking a directory, loaded when named.
_SIDE_FILES = {"readme", "sources", "license", "changelog", "notes"}


def iter_input_files(paths: list[str | Path]) -> list[Path]:
    """Expand directories (recursively) into their supported files, sorted, skipping hidden files and
    folders; paths given explicitly are kept as given (a bad one is reported when it is loaded)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            out.extend(sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in SUPPORTED_SUFFIXES
                              and f.stem.lower() not in _SIDE_FILES
                              and not any(part.startswith(".") for part in f.relative_to(p).parts)))
        else:
            out.append(p)
    return out
