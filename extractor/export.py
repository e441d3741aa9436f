"""Writers: one JSON per document, JSONL, and the tidy long format (CSV/Parquet, one row per value)."""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from pathlib import Path

from .models import TABLE_NAMES, BudgetDocument

TIDY_COLUMNS = ["doc_id", "source", "department", "year", "kind", "table", "table_title", "row_label", "code",
                "code_kind", "column", "role", "method", "value", "unit", "locator", "char_start", "char_end", "quote", "page"]


def tidy_rows(doc: BudgetDocument) -> list[dict]:
    """One row per extracted value: table cells, narrative facts and indicator numbers."""
    rows: list[dict] = []
    base = {"doc_id": doc.doc_id, "source": doc.source, "department": doc.department, "year": doc.year,
            "kind": doc.kind}
    for table in doc.tables:
        for row in table.rows:
            for cell in row.cells:
                p = cell.amount.prov
                rows.append({**base, "table": TABLE_NAMES[table.kind], "table_title": table.title,
                             "row_label": row.label, "code": row.code, "code_kind": row.code_kind,
                             "column": cell.column, "role": cell.role,
                             "method": getattr(cell, "method", "rules"), "value": str(cell.amount.value),
                             "unit": cell.amount.unit, "locator": p.locator, "char_start": p.char_start,
                             "char_end": p.char_end, "quote": p.quote, "page": p.page})
    for fact in doc.facts:
        if fact.amount is None:
            continue
        p = fact.amount.prov
        rows.append({**base, "table": "narrative", "table_title": fact.section, "row_label": fact.qualifier,
                     "code": "", "code_kind": "", "column": fact.name, "role": fact.name,
                     "method": getattr(fact, "method", "rules"),
                     "value": str(fact.amount.value), "unit": fact.amount.unit, "locator": p.locator,
                     "char_start": p.char_start, "char_end": p.char_end, "quote": p.quote, "page": p.page})
    for ind in doc.indicators:
        if ind.number is None:
            continue
        p = ind.prov
        rows.append({**base, "table": TABLE_NAMES[ind.table], "table_title": ind.project, "row_label": ind.level3,
                     "code": ind.project_code, "code_kind": "project" if ind.project_code else "",
                     "column": "指标值", "role": "indicator", "method": "rules", "value": str(ind.number), "unit": ind.unit,
                     "locator": p.locator, "char_start": p.char_start, "char_end": p.char_end, "quote": p.quote,
                     "page": p.page})
    return rows


def _atomic_write(path: Path, data: str | bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data, encoding="utf-8")
    tmp.replace(path)


class Writer:
    """Collects documents and writes them in one format into an output directory (atomically)."""

    def __init__(self, out_dir: Path, fmt: str):
        self.out_dir = Path(out_dir)
        self.fmt = fmt
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._jsonl = None  # documents.jsonl.tmp, written as documents arrive (a bulk run's JSON can be GBs)
        self._tidy: list[dict] = []
        self._names: set[str] = set()   # json file names written by this run
        self._spool: Path | None = None
        self.files: list[Path] = []

    @property
    def spool_dir(self) -> Path:
        """A private directory inside the output directory where workers write documents (shape 'file')
        before they are renamed into place: same file system, so the rename is atomic; removed by `close`
        or `remove_spool` (a killed run leaves only this hidden directory behind, never a partial file)."""
        if self._spool is None:
            self._spool = Path(tempfile.mkdtemp(prefix=".extract-", dir=self.out_dir))
        return self._spool

    def remove_spool(self) -> None:
        if self._spool is not None:
            shutil.rmtree(self._spool, ignore_errors=True)
            self._spool = None

    @property
    def shape(self) -> str:
        """What the writer needs from a worker (see extractor.batch): JSON documents come as files written
        by the workers into the output directory, to be renamed here."""
        return {"csv": "tidy", "parquet": "tidy", "json": "file"}.get(self.fmt, "json")

    def add_outcome(self, outcome) -> None:
        """Write one successful `extractor.batch.Outcome`, in whichever shape it arrived."""
        if self.fmt in ("csv", "parquet"):
            self._tidy.extend(outcome.tidy if outcome.tidy is not None else tidy_rows(outcome.get_document()))
            return
        if outcome.json_file is not None:
            if self.fmt == "json":
                path = self.out_dir / self._json_name(outcome.summary["source"], outcome.summary.get("doc_id", ""))
                outcome.json_file.replace(path)
                self.files.append(path)
                return
            data = outcome.json_file.read_bytes()
            outcome.json_file.unlink()
        else:
            data = outcome.json if outcome.json is not None else outcome.get_document().model_dump_json().encode()
        if self.fmt == "jsonl":
            if self._jsonl is None:
                self._jsonl = (self.out_dir / "documents.jsonl.tmp").open("wb")
            self._jsonl.write(data + b"\n")
        else:
            path = self.out_dir / self._json_name(outcome.summary["source"], outcome.summary.get("doc_id", ""))
            _atomic_write(path, data)
            self.files.append(path)

    def _json_name(self, source: str, doc_id: str) -> str:
        """`<stem>.json`; a second document of this run with the same stem (a/x.txt and b/x.txt, x.txt and
        x.md) gets its content hash appended instead of overwriting the first: the same name again on a
        re-run of the same inputs."""
        name = f"{Path(source).stem}.json"
        if name in self._names:
            name = f"{Path(source).stem}-{doc_id[:12]}.json"
        self._names.add(name)
        return name

    def add(self, doc: BudgetDocument) -> None:
        from .batch import Outcome

        self.add_outcome(Outcome(Path(doc.source), document=doc, summary={"source": doc.source, "doc_id": doc.doc_id}))

    def close(self) -> list[Path]:
        self.remove_spool()
        if self.fmt == "jsonl":
            path = self.out_dir / "documents.jsonl"
            tmp = path.with_suffix(".jsonl.tmp")
            if self._jsonl is None:
                self._jsonl = tmp.open("wb")  # no document: an empty file, as before
            self._jsonl.close()
            tmp.replace(path)
            self.files.append(path)
        elif self.fmt == "csv":
            path = self.out_dir / "values.csv"
            tmp = path.with_suffix(".csv.tmp")
            with tmp.open("w", encoding="utf-8", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=TIDY_COLUMNS)
                w.writeheader()
                w.writerows(self._tidy)
            tmp.replace(path)
            self.files.append(path)
        elif self.fmt == "parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            path = self.out_dir / "values.parquet"
            table = pa.Table.from_pylist(self._tidy, schema=pa.schema(
                [(c, pa.int64() if c in ("year", "char_start", "char_end", "page") else pa.string())
                 for c in TIDY_COLUMNS]))
            tmp = path.with_suffix(".parquet.tmp")
            pq.write_table(table, tmp)
            tmp.replace(path)
            self.files.append(path)
        return self.files


def summary_line(doc: BudgetDocument) -> str:
    n_values = sum(1 for _ in doc.amounts()) + sum(1 for f in doc.facts if f.amount)
    return json.dumps({"source": doc.source, "department": doc.department, "year": doc.year,
                       "tables": len(doc.tables), "values": n_values, "findings": len(doc.findings)},
                      ensure_ascii=False)
