"""Typed loaders for the hand-labeled fixtures (format: evals/fixtures/README.md).

Shaped like pydantic_evals' `Case`/`Dataset`, but kept as plain data: the runner decides how to score.
A gold value's position is resolved against the *loaded* document text (the coordinates every
`Provenance` uses): the first occurrence of `quote` inside `anchor`, and `anchor` must be unique."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, Literal, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from extractor.errors import BudgetQAError

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
GOLD_DIR = FIXTURES / "gold"
QA_FILE = FIXTURES / "qa.jsonl"
SAMPLES = ROOT / "data" / "samples"

TABLE_KINDS = ("summary", "income", "expenditure", "fiscal_summary", "gp_expenditure", "gp_basic", "economic",
               "sangong", "gov_fund", "state_capital", "projects", "dept_performance", "project_performance")
VALUE_TABLES = (*TABLE_KINDS, "narrative")

# Narrative fact names shared across modules (evals/fixtures/README.md).
FACT_NAMES = frozenset({
    "revenue_total", "expenditure_total", "total_change_amount", "total_change_pct", "revenue_sum",
    "income_source", "appropriation", "expenditure_sum", "basic_expenditure", "project_expenditure", "basic_share",
    "project_share", "functional_class", "functional_share", "personnel_expenses", "public_expenses",
    "sangong_total", "sangong_part", "sangong_change", "operating_expenses", "procurement_total", "procurement",
    "vehicles_total", "vehicles", "equipment", "internal_divisions", "secondary_units", "project_count",
    "performance_total",
})

QAKind = Literal["lookup", "share", "ratio", "yoy", "functional_code", "economic_item", "project", "per_unit",
                 "indicator", "count", "cross_sum", "cross_compare", "cross_rank", "cross_list", "followup",
                 "abstain"]
QA_KINDS: tuple[str, ...] = QAKind.__args__  # type: ignore[attr-defined]

_FORMULA = re.compile(r"\d\s*[-+−×÷*/]\s*\d[^=＝]*[=＝]")
_SHIFT_ALT = re.compile(r"#\s*shifted\b[:：]?\s*(?:belongs to\s*)?(.*)$")


class FixtureError(BudgetQAError):
    """A fixture file is malformed or does not match its source document."""


# ------------------------------------------------------------------------------------------------ gold


class _Spanned(BaseModel):
    model_config = ConfigDict(extra="ignore")

    anchor: str
    char_start: int | None = Field(default=None, description="Resolved start of the quote in the loaded text.")
    char_end: int | None = None
    yaml_line: int = Field(default=0, description="1-based line of the entry in its YAML file.")
    comments: list[str] = Field(default_factory=list, description="YAML comments on or just above the entry.")
    extra_keys: list[str] = Field(default_factory=list, description="Keys the format does not define.")

    @property
    def resolved(self) -> bool:
        return self.char_start is not None

    def span_quote(self) -> str:
        return self.anchor


class GoldValue(_Spanned):
    table: str
    row: str = ""
    code: str = ""
    column: str
    value: Decimal
    unit: str
    quote: str
    category: str = ""
    alt_columns: list[str] = Field(default_factory=list,
                                   description="Columns a `# shifted: belongs to X` comment also accepts.")

    @field_validator("value", mode="before")
    @classmethod
    def _decimal(cls, v: Any) -> Any:
        # YAML may type an unquoted 140 as int or 1.5 as float; go through str so no float digits leak in.
        return Decimal(str(v)) if isinstance(v, int | float) else v

    @field_validator("code", "row", "column", "unit", "quote", "category", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return "" if v is None else str(v)

    @property
    def shifted(self) -> bool:
        return any("shifted" in c for c in self.comments)

    def span_quote(self) -> str:
        return self.quote


class GoldText(_Spanned):
    table: str = "narrative"
    row: str = ""
    code: str = ""
    column: str
    text: str = ""
    quote: str

    @field_validator("row", "code", "text", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return "" if v is None else str(v)

    @property
    def expected_text(self) -> str:
        return self.text or self.quote

    def span_quote(self) -> str:
        return self.quote


class GoldIndicator(_Spanned):
    table: Literal["dept_performance", "project_performance"]
    project: str = ""
    level1: str = ""
    level3: str
    value_text: str
    comparator: str = ""
    number: Decimal | None = None
    unit: str = ""

    @field_validator("number", mode="before")
    @classmethod
    def _number(cls, v: Any) -> Any:
        if v is None or v == "":
            return None
        return Decimal(str(v))

    @field_validator("project", "level1", "comparator", "unit", "value_text", mode="before")
    @classmethod
    def _text(cls, v: Any) -> Any:
        return "" if v is None else str(v)

    def value_span(self) -> tuple[int, int] | None:
        """Where `value_text` is printed: its first occurrence after `level3` inside the anchor."""
        if self.char_start is None:
            return None
        after = self.anchor.find(self.level3)
        after = after + len(self.level3) if after >= 0 else 0
        i = self.anchor.find(self.value_text, after) if self.value_text else -1
        if i < 0:
            i = self.anchor.find(self.value_text) if self.value_text else -1
        if i < 0:
            return None
        return self.char_start + i, self.char_start + i + len(self.value_text)


class GoldDoc(BaseModel):
    """One document's gold labels."""

    path: Path
    source: str
    department: str
    year: int | None = None
    kind: str = "预算"
    unit: str = "万元"
    values: list[GoldValue] = Field(default_factory=list)
    texts: list[GoldText] = Field(default_factory=list)
    indicators: list[GoldIndicator] = Field(default_factory=list)
    problems: list[str] = Field(default_factory=list, description="Entries that did not resolve against the text.")

    @property
    def stem(self) -> str:
        return Path(self.source).stem

    def resolve(self, text: str) -> list[str]:
        """Fill every entry's char span from `text`; return (and keep) one message per entry that fails."""
        problems = []
        for group, entries in (("values", self.values), ("texts", self.texts), ("indicators", self.indicators)):
            for i, entry in enumerate(entries):
                msg = _resolve_entry(entry, text)
                if msg:
                    problems.append(f"{self.path.name}:{entry.yaml_line} {group}[{i}]: {msg}")
        self.problems = problems
        return problems


def find_unique(text: str, needle: str) -> tuple[int, int]:
    """(first position, number of occurrences up to 2), overlapping occurrences included."""
    first = text.find(needle)
    if first < 0 or not needle:
        return -1, 0
    return first, 1 if text.find(needle, first + 1) < 0 else 2


def _resolve_entry(entry: _Spanned, text: str) -> str:
    entry.char_start = entry.char_end = None
    start, n = find_unique(text, entry.anchor)
    if n == 0:
        return f"anchor {entry.anchor!r} not found in the source"
    if n > 1:
        return f"anchor {entry.anchor!r} occurs more than once in the source (extend it until it is unique)"
    quote = entry.span_quote()
    inner = entry.anchor.find(quote)
    if inner < 0:
        return f"quote {quote!r} is not inside its anchor {entry.anchor!r}"
    entry.char_start = start + inner
    entry.char_end = entry.char_start + len(quote)
    return ""


def _mapping_get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _entry_comments(lines: list[str], node: yaml.MappingNode) -> list[str]:
    """Comments trailing any line of the entry, plus full-line comments right above it."""
    out = []
    first, last = node.start_mark.line, node.end_mark.line
    j = first - 1
    above = []
    while j >= 0 and lines[j].strip().startswith("#"):
        above.append(lines[j].strip())
        j -= 1
    out.extend(reversed(above))
    for line in lines[first:last + 1]:
        if "#" in line and not line.strip().startswith("#") and re.search(r"\s#", line):
            # a trailing comment: '#' after whitespace, outside quotes (fixture values never hold ' #')
            out.append(line[re.search(r"\s#", line).start():].strip())  # type: ignore[union-attr]
    return out


_KNOWN_KEYS = {
    "values": {"table", "row", "code", "column", "value", "unit", "quote", "anchor", "category"},
    "texts": {"table", "row", "code", "column", "text", "quote", "anchor"},
    "indicators": {"table", "project", "level1", "level3", "value_text", "comparator", "number", "unit", "anchor"},
}
_MODELS: dict[str, type[_Spanned]] = {"values": GoldValue, "texts": GoldText, "indicators": GoldIndicator}


def load_gold(path: Path) -> GoldDoc:
    """Parse one gold YAML file (not yet resolved against its source)."""
    raw = path.read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml is ~5x faster; same result
    try:
        root = yaml.compose(raw, Loader=loader)
        data = loader("").construct_document(root) if root is not None else None
    except yaml.YAMLError as exc:
        raise FixtureError(f"not valid YAML: {exc}", path=str(path), hint="fix the YAML syntax") from None
    if not isinstance(data, dict) or not isinstance(root, yaml.MappingNode):
        raise FixtureError("expected a mapping with source/department/values", path=str(path),
                           hint="see evals/fixtures/README.md")
    lines = raw.split("\n")
    groups: dict[str, list[Any]] = {}
    for group, model in _MODELS.items():
        items = data.get(group) or []
        node = _mapping_get(root, group)
        nodes = node.value if isinstance(node, yaml.SequenceNode) else []
        parsed = []
        for i, item in enumerate(items):
            item_node = nodes[i] if i < len(nodes) else None
            if not isinstance(item, dict):
                raise FixtureError(f"{group}[{i}] is not a mapping", path=str(path), hint="see evals/fixtures/README.md")
            meta: dict[str, Any] = {"extra_keys": sorted(set(item) - _KNOWN_KEYS[group])}
            if isinstance(item_node, yaml.MappingNode):
                meta["yaml_line"] = item_node.start_mark.line + 1
                meta["comments"] = _entry_comments(lines, item_node)
            try:
                entry = model.model_validate({**item, **meta})
            except ValidationError as exc:
                line = meta.get("yaml_line", "?")
                first = exc.errors()[0]
                raise FixtureError(f"{group}[{i}] (line {line}): {'.'.join(map(str, first['loc']))}: {first['msg']}",
                                   path=str(path), hint="see evals/fixtures/README.md") from None
            if isinstance(entry, GoldValue):
                for c in entry.comments:
                    m = _SHIFT_ALT.search(c)
                    if m and m.group(1).strip():
                        entry.alt_columns.append(m.group(1).strip().split()[0])
            parsed.append(entry)
        groups[group] = parsed
    try:
        return GoldDoc(path=path, source=data.get("source") or f"{path.stem}.txt",
                       department=str(data.get("department") or ""), year=data.get("year"),
                       kind=str(data.get("kind") or "预算"), unit=str(data.get("unit") or "万元"), **groups)
    except ValidationError as exc:
        raise FixtureError(str(exc.errors()[0]["msg"]), path=str(path), hint="see evals/fixtures/README.md") from None


def load_text(source: str, samples: Path = SAMPLES) -> str:
    """The document text in the coordinates every Provenance uses (the extractor's loader)."""
    from extractor.load import load_document

    return load_document(samples / source).text


def load_gold_docs(gold_dir: Path = GOLD_DIR, samples: Path = SAMPLES, resolve: bool = True) -> list[GoldDoc]:
    docs = []
    for path in sorted(gold_dir.glob("*.yaml")):
        doc = load_gold(path)
        if resolve:
            if not (samples / doc.source).exists():
                raise FixtureError(f"its source {doc.source} is not in {samples}", path=str(path),
                                   hint="fix `source:` or add the document")
            doc.resolve(load_text(doc.source, samples))
        docs.append(doc)
    return docs


# ------------------------------------------------------------------------------------------------ QA


class ExpectedNumber(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: Decimal
    unit: str = ""

    @field_validator("value", mode="before")
    @classmethod
    def _decimal(cls, v: Any) -> Any:
        return Decimal(str(v)) if isinstance(v, int | float) else v


class QACase(BaseModel):
    """One question. `name`/`inputs`/`expected_output` give the pydantic_evals-style view."""

    model_config = ConfigDict(extra="forbid")

    id: str
    kind: QAKind
    question: str
    expected_numbers: list[ExpectedNumber] = Field(default_factory=list)
    expected_sources: list[str] = Field(default_factory=list)
    locator: str = ""
    conversation: str | None = None
    abstain: bool = False
    note: str = ""
    expected_text: str = ""
    line: int = Field(default=0, description="1-based line in the JSONL file.")

    @property
    def name(self) -> str:
        return self.id

    @property
    def inputs(self) -> dict[str, Any]:
        """One line of `budgetqa ask --batch` input."""
        return {"id": self.id, "q": self.question, "conversation": self.conversation}

    @property
    def expected_output(self) -> dict[str, Any]:
        return {"numbers": self.expected_numbers, "sources": self.expected_sources, "abstain": self.abstain,
                "text": self.expected_text}

    @property
    def computed(self) -> bool:
        """The expected figure is derived (the note shows the formula), so it need not be printed anywhere."""
        return "计算" in self.note or bool(_FORMULA.search(self.note))


CaseT = TypeVar("CaseT", bound=BaseModel)


class Dataset(BaseModel, Generic[CaseT]):
    name: str
    cases: list[CaseT]

    def __len__(self) -> int:
        return len(self.cases)

    def __iter__(self) -> Iterator[CaseT]:  # type: ignore[override]
        return iter(self.cases)

    def filter(self, keep: Callable[[CaseT], bool]) -> Dataset[CaseT]:
        return type(self)(name=self.name, cases=[c for c in self.cases if keep(c)])

    def count_by(self, key: Callable[[CaseT], str]) -> dict[str, int]:
        return dict(sorted(Counter(key(c) for c in self.cases).items()))


def load_qa(path: Path = QA_FILE) -> Dataset[QACase]:
    cases: list[QACase] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").split("\n"), 1):
        if not line.strip():
            continue
        try:
            cases.append(QACase.model_validate({**json.loads(line), "line": n}))
        except json.JSONDecodeError as exc:
            raise FixtureError(f"line {n}: not JSON ({exc.msg})", path=str(path), hint="one JSON object per line") from None
        except ValidationError as exc:
            first = exc.errors()[0]
            raise FixtureError(f"line {n}: {'.'.join(map(str, first['loc']))}: {first['msg']}", path=str(path),
                               hint="see evals/fixtures/README.md") from None
    ids = Counter(c.id for c in cases)
    dupes = [i for i, k in ids.items() if k > 1]
    if dupes:
        raise FixtureError(f"duplicate ids {dupes[:5]}", path=str(path), hint="give every case its own id")
    return Dataset[QACase](name=path.stem, cases=cases)


def conversations(dataset: Dataset[QACase]) -> dict[str, list[QACase]]:
    """Turns per conversation, in file order."""
    out: dict[str, list[QACase]] = {}
    for c in dataset:
        if c.conversation:
            out.setdefault(c.conversation, []).append(c)
    return out
