"""Extraction throughput on a corpus of ≥500 variant documents built from the samples at run time.

Reports documents/second of `budgetqa extract FILES -o DIR --format json --workers N` (the command, run
in-process: every document's JSON file written) with 1 and 2 workers, next to a bare read+split of the
same files (median of N repeats). Nothing generated is kept: corpus and output live in temporary
directories.

    .venv/bin/python benchmarks/extract_throughput.py [--docs 500] [--repeats 3]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import random
import re
import statistics
import sys
import tempfile
import time
from decimal import Decimal, InvalidOperation
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from extractor.load import LoadedText, load_document  # noqa: E402
from extractor.pipeline import extract_text  # noqa: E402
from extractor.segment import find_tables, split_lines  # noqa: E402
from ui.cli import main as cli_main  # noqa: E402

CITIES = ["开封市", "洛阳市", "平顶山市", "安阳市", "鹤壁市", "新乡市", "焦作市", "濮阳市", "三门峡市", "南阳市", "商丘市", "信阳市"]
AGENCIES = ["人民政府办公室", "财政局", "教育局", "民政局", "司法局", "商务局", "文化广电和旅游局", "统计局", "审计局", "水利局"]


_MONEY_UNITS = {"万元", "元", "亿元", "千元"}


def amount_spans(text: str) -> list[tuple[int, int]]:
    """Where the extractor found the money amounts of a sample (table cells and narrative facts)."""
    doc = extract_text(LoadedText(path=Path("sample.txt"), source="sample.txt", text=text, encoding="utf-8",
                                  doc_id="sample"))
    amounts = [c.amount for _, _, c in doc.amounts()] + [f.amount for f in doc.facts if f.amount]
    return sorted({(a.prov.char_start, a.prov.char_end) for a in amounts if a.unit in _MONEY_UNITS})


def scale_amounts(text: str, spans: list[tuple[int, int]], factor: Decimal) -> str:
    """Every money amount times `factor`, printed as before (decimals, thousands separators): no two
    documents of the corpus then share their amounts — caches keyed on cell text must not make repeated
    documents look cheap — and sums still hold up to rounding tails, as in real documents."""
    out, last = [], 0
    for start, end in spans:
        raw = text[start:end]
        digits = raw.replace(",", "")
        places = len(digits.split(".")[1]) if "." in digits else 2
        try:
            value = (Decimal(digits) * factor).quantize(Decimal(1).scaleb(-places))
        except InvalidOperation:  # an amount printed another way ('（12.00）', full-width): left as printed
            continue
        out += [text[last:start], f"{value:,}" if "," in raw else str(value)]
        last = end
    return "".join(out + [text[last:]])


def make_corpus(out: Path, n: int, seed: int = 7, scale: bool = True) -> list[Path]:
    """n documents: each sample with another city, agency and year and, unless scale=False, its money
    amounts multiplied by a per-document factor."""
    rng = random.Random(seed)
    samples = sorted((ROOT / "data" / "samples").glob("*.txt"))
    texts = [p.read_text(encoding="utf-8") for p in samples]
    spans = [amount_spans(t) for t in texts] if scale else []
    files = []
    for i in range(n):
        text = texts[i % len(texts)]
        if scale:
            text = scale_amounts(text, spans[i % len(texts)], Decimal(rng.randint(50, 200)) / 100)
        text = re.sub(r"(许昌市|漯河市|济源产城融合示范区)", rng.choice(CITIES), text)
        text = text.replace("人民政府办公室", rng.choice(AGENCIES))
        year = rng.choice([2021, 2022, 2023, 2024, 2025])
        text = re.sub(r"20(2[2-4])(\s*年)", lambda m, y=year: f"{y}{m.group(2)}", text)
        path = out / f"variant_{i:04d}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


def time_it(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=500)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--same-amounts", action="store_true",
                    help="keep the samples' amounts (every document then repeats its sample's table cells)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = make_corpus(Path(tmp), args.docs, scale=not args.same_amounts)
        mb = sum(f.stat().st_size for f in files) / 1e6

        def read_split():
            for f in files:
                loaded = load_document(f)
                find_tables(split_lines(loaded.text), loaded.text)

        errors = io.StringIO()

        def extract(workers: int):
            # the command itself, as a user runs it: one JSON file written per document
            def run():
                errors.seek(0)
                errors.truncate()
                with tempfile.TemporaryDirectory() as out, contextlib.redirect_stdout(io.StringIO()), \
                        contextlib.redirect_stderr(errors):
                    cli_main(["extract", *map(str, files), "-o", out, "--format", "json", "--workers", str(workers)])
                    written = sum(1 for _ in Path(out).glob("*.json"))
                if written != len(files):
                    print(f"{written} of {len(files)} documents written", file=errors)
            return run

        base = time_it(read_split, args.repeats)
        one = time_it(extract(1), args.repeats)
        two = time_it(extract(2), args.repeats)
        n = len(files)
        print(f"corpus: {n} documents, {mb:.1f} MB (variants of {len(list((ROOT / 'data' / 'samples').glob('*.txt')))} samples, "
              f"{'amounts scaled per document' if not args.same_amounts else 'amounts as in the samples'}), "
              f"median of {args.repeats} runs")
        print(f"read+split           {base:7.2f} s  {n / base:8.1f} docs/s")
        print(f"extract, 1 worker    {one:7.2f} s  {n / one:8.1f} docs/s  ({one / base:.1f}x read+split)")
        print(f"extract, 2 workers   {two:7.2f} s  {n / two:8.1f} docs/s  ({one / two:.2f}x speed-up over 1 worker)")
        problems = errors.getvalue().splitlines()
        print(f"extraction errors: {len(problems)}")
        for line in problems[:5]:
            print("  ", line)


if __name__ == "__main__":
    main()
