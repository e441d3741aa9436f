"""PDF loading (text-layer PDFs, pdfplumber): page-aware text for the text pipeline.

The text this loader produces *is* the document: it is hashed into `doc_id`, stored, and every provenance
offset points into it. Tables come out as TAB-separated rows (see `pdflayout`), so the same segmenter, grid
and table parsers read PDFs and text files. `page_starts[i]` is the offset where page i+1 begins, which
gives every provenance its page number. A PDF without a text layer (a scan) is refused: OCR is not done."""

from __future__ import annotations

import io
import logging
from pathlib import Path

from .errors import LoadError
from .load import LoadedText, check_budget_text, doc_id_for

_NO_TEXT_HINT = "OCR is not supported; use the publisher's text PDF or convert the scan to text first"


def _open(data: bytes, path: Path):
    import pdfplumber
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise LoadError("not a PDF file (no %PDF header)", path=str(path), hint="give a text-layer PDF or a .txt/.md")
    try:
        pdf = pdfplumber.open(io.BytesIO(data))
        _ = len(pdf.pages)
        return pdf
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise LoadError("the PDF is encrypted (password protected)", path=str(path),
                        hint="open it with its password and save an unprotected copy") from None
    except Exception as exc:  # pdfminer raises many parser exceptions for damaged files
        causes = [exc, *exc.args, exc.__context__]   # pdfplumber wraps pdfminer's exception in its args
        if any(isinstance(c, (PDFPasswordIncorrect, PDFEncryptionError)) for c in causes):
            raise LoadError("the PDF is encrypted (password protected)", path=str(path),
                            hint="open it with its password and save an unprotected copy") from None
        raise LoadError(f"cannot read the PDF (damaged or not a PDF): {type(exc).__name__}", path=str(path),
                        hint="re-download or re-export the file") from None


def pdf_to_text(data: bytes, path: Path) -> tuple[str, list[int], int]:
    """(text, page_starts, characters on the pages' text layers)."""
    from .pdflayout import render_page

    pdf = _open(data, path)
    # pdfminer logs every malformed object it skips; the result is what counts here
    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    pages: list[str] = []
    total_chars = 0
    try:
        for page in pdf.pages:
            try:
                lines, n = render_page(page)
            except LoadError:
                raise
            except Exception as exc:
                raise LoadError(f"cannot read page {page.page_number} of the PDF: {type(exc).__name__}",
                                path=str(path), hint="re-download or re-export the file") from None
            total_chars += n
            pages.append("\n".join(lines))
            page.close()   # drop the page's parsed objects; a long PDF otherwise keeps them all
    finally:
        pdf.close()
    starts, pos = [], 0
    for text in pages:
        starts.append(pos)
        pos += len(text) + 1
    return "\n".join(pages), starts, total_chars


def load_pdf_bytes(data: bytes, path: Path) -> LoadedText:
    text, page_starts, n_chars = pdf_to_text(data, path)
    if not n_chars or not text.strip():
        raise LoadError("the PDF has no text layer (a scanned or image-only PDF)", path=str(path), hint=_NO_TEXT_HINT)
    check_budget_text(text, path)
    return LoadedText(path=path, source=path.name, text=text, encoding="pdf", doc_id=doc_id_for(text),
                      page_starts=page_starts)
