"""A tiny PDF writer for tests: text in a standard CJK font (not embedded: STSong-Light with the UniGB-UTF16-H
CMap, which every PDF reader and pdfminer know), ruled tables, invisible white boxes, images. Enough to
build our own budget-table layouts as real PDFs, with no PDF library beyond what the loader uses."""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field


def _hex_utf16(text: str) -> str:
    return text.encode("utf-16-be").hex().upper()


@dataclass
class Page:
    width: float = 595.0
    height: float = 842.0
    ops: list[str] = field(default_factory=list)
    image: bool = False

    def text(self, x: float, top: float, s: str, size: float = 10.0) -> None:
        """Text with its top-left corner at (x, top), top measured from the page top."""
        y = self.height - top - size * 0.88
        self.ops.append(f"BT /F1 {size:g} Tf {x:.2f} {y:.2f} Td <{_hex_utf16(s)}> Tj ET")

    def text_right(self, x1: float, top: float, s: str, size: float = 10.0) -> None:
        self.text(x1 - len(s) * size - 2, top, s, size)   # every glyph is 1 em wide in this font

    def line(self, x0: float, top0: float, x1: float, top1: float, width: float = 0.6) -> None:
        h = self.height
        self.ops.append(f"{width:g} w 0 G {x0:.2f} {h - top0:.2f} m {x1:.2f} {h - top1:.2f} l S")

    def white_box(self, x0: float, top0: float, x1: float, top1: float) -> None:
        """A white filled rectangle without a stroke: paints nothing visible on a white page."""
        h = self.height
        self.ops.append(f"1 g {x0:.2f} {h - top1:.2f} {x1 - x0:.2f} {top1 - top0:.2f} re f 0 g")

    def grid(self, xs: list[float], tops: list[float]) -> None:
        """Full rules: a vertical at every x, a horizontal at every top."""
        for x in xs:
            self.line(x, tops[0], x, tops[-1])
        for t in tops:
            self.line(xs[0], t, xs[-1], t)

    def picture(self) -> None:
        """Draw the document's one image (a scan stand-in) over most of the page."""
        self.image = True
        self.ops.append(f"q {self.width - 100:.0f} 0 0 {self.height - 100:.0f} 50 50 cm /Im0 Do Q")


@dataclass
class Pdf:
    pages: list[Page] = field(default_factory=list)
    encrypted: bool = False   # a Standard security handler whose user password is not empty

    def page(self, width: float = 595.0, height: float = 842.0) -> Page:
        p = Page(width, height)
        self.pages.append(p)
        return p

    def bytes(self) -> bytes:
        objs: list[bytes] = []

        def add(body: bytes) -> int:
            objs.append(body)
            return len(objs)

        def stream(data: bytes, extra: str = "") -> bytes:
            z = zlib.compress(data)
            return f"<< /Length {len(z)} /Filter /FlateDecode {extra}>>\nstream\n".encode() + z + b"\nendstream"

        catalog = add(b"")
        pages_id = add(b"")
        desc = add(b"<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
                   b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 4 >> "
                   b"/FontDescriptor << /Type /FontDescriptor /FontName /STSong-Light /Flags 6 "
                   b"/FontBBox [0 -200 1000 900] /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 "
                   b"/StemV 80 >> /DW 1000 >>")
        font = add(f"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UTF16-H "
                   f"/DescendantFonts [{desc} 0 R] >>".encode())
        gray = bytes([200]) * 64
        image = add(stream(gray, "/Type /XObject /Subtype /Image /Width 8 /Height 8 /ColorSpace /DeviceGray "
                                 "/BitsPerComponent 8 "))
        kids = []
        for p in self.pages:
            content = add(stream("\n".join(p.ops).encode("ascii")))
            xobj = f"/XObject << /Im0 {image} 0 R >>" if p.image else ""
            kids.append(add(f"<< /Type /Page /Parent {pages_id} 0 R /MediaBox [0 0 {p.width:g} {p.height:g}] "
                            f"/Resources << /Font << /F1 {font} 0 R >> {xobj} >> /Contents {content} 0 R >>"
                            .encode()))
        objs[catalog - 1] = f"<< /Type /Catalog /Pages {pages_id} 0 R >>".encode()
        objs[pages_id - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
                              f"/Count {len(kids)} >>").encode()
        out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
        offsets = []
        for i, body in enumerate(objs, 1):
            offsets.append(len(out))
            out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
        xref = len(out)
        out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
        for off in offsets:
            out += f"{off:010d} 00000 n \n".encode()
        extra = ""
        if self.encrypted:
            # O and U values that match no password: a reader must ask for one
            extra = (f" /Encrypt << /Filter /Standard /V 1 /R 2 /O <{'11' * 32}> /U <{'22' * 32}> /P -4 >>"
                     f" /ID [<{'33' * 16}> <{'33' * 16}>]")
        out += (f"trailer\n<< /Size {len(objs) + 1} /Root {catalog} 0 R{extra} >>\n"
                f"startxref\n{xref}\n%%EOF\n").encode()
        return bytes(out)
