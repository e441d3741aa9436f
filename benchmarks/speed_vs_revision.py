"""CPU time per document of the working tree against a git revision, measured in alternating rounds: on a
shared VM whose speed drifts from minute to minute, the ratio of interleaved runs is what holds still.

    .venv/bin/python benchmarks/speed_vs_revision.py [--base REV] [--docs 100] [--rounds 5]

Each round runs both trees (in alternating order) in fresh processes set up as a pool worker, over the same
distinct documents of the throughput benchmark's corpus (amounts scaled per document), and records the CPU
time of one pass per document (and the part of it spent in the cyclic garbage collector). Prints the median
and best of each tree and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from extract_throughput import make_corpus  # noqa: E402
from output_identity import export_revision  # noqa: E402

# One pass as a pool worker does it (the collector set by _worker_init): CPU time per document in ms, and
# the wall time the cyclic garbage collector took of it (seen through gc.callbacks).
_DRIVER = """
import gc, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from extractor.batch import _extract_one, _worker_init
files = sorted(Path(sys.argv[2]).glob("*.txt"))
_extract_one(files[0], "json")   # imports and first-use setup out of the measurement
_worker_init()
in_gc = [0.0, 0.0]
def on_gc(phase, info):
    if phase == "start":
        in_gc[1] = time.perf_counter()
    else:
        in_gc[0] += time.perf_counter() - in_gc[1]
gc.callbacks.append(on_gc)
t0 = time.process_time()
for f in files[1:]:
    _extract_one(f, "json")
n = len(files) - 1
print((time.process_time() - t0) * 1000 / n, in_gc[0] * 1000 / n)
"""


def cpu_ms_per_doc(tree: Path, corpus: Path) -> tuple[float, float]:
    """(CPU ms per document, of which ms in the cyclic garbage collector)."""
    out = subprocess.run([sys.executable, "-c", _DRIVER, str(tree), str(corpus)], check=True,
                         capture_output=True, text=True).stdout
    total, in_gc = out.strip().splitlines()[-1].split()
    return float(total), float(in_gc)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="HEAD", help="git revision to compare the working tree with")
    ap.add_argument("--docs", type=int, default=100)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        corpus, base_tree = Path(tmp) / "corpus", Path(tmp) / "base"
        corpus.mkdir()
        base_tree.mkdir()
        make_corpus(corpus, args.docs + 1)
        export_revision(args.base, base_tree)
        times: dict[str, list[float]] = {"base": [], "tree": []}
        in_gc: dict[str, list[float]] = {"base": [], "tree": []}
        for r in range(args.rounds):
            order = [("base", base_tree), ("tree", ROOT)]
            for name, path in order if r % 2 == 0 else order[::-1]:
                total, collector = cpu_ms_per_doc(path, corpus)
                times[name].append(total)
                in_gc[name].append(collector)
            print(f"round {r + 1}: {args.base} {times['base'][-1]:6.2f} ms/doc (gc {in_gc['base'][-1]:.2f})   "
                  f"working tree {times['tree'][-1]:6.2f} ms/doc (gc {in_gc['tree'][-1]:.2f})   "
                  f"({times['base'][-1] / times['tree'][-1]:.2f}x)")
        med = {k: statistics.median(v) for k, v in times.items()}
        print(f"median: {args.base} {med['base']:.2f} ms/doc, working tree {med['tree']:.2f} ms/doc "
              f"-> {med['base'] / med['tree']:.2f}x; best: {min(times['base']):.2f} vs {min(times['tree']):.2f} ms/doc "
              f"-> {min(times['base']) / min(times['tree']):.2f}x ({args.docs} documents, {args.rounds} rounds)")


if __name__ == "__main__":
    main()
