"""The rule engine: a registry of named, documented checks, and the comparisons they share.

A rule is a function `(Context) -> Iterable[Finding]` registered with `@rule(id, title)`. Comparisons go
through `Context.check_sum`, which converts units explicitly (extractor.units), applies the tolerance of the
printed rounding (±0.01 per summed term -> `rounding`, more -> `mismatch`), records every value it looked at
(so a benchmark can tell which cells take part in some identity) and writes the Chinese message."""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from operator import attrgetter

from ..models import TABLE_NAMES, Amount, BudgetDocument, Finding, Table, TableRow
from ..provenance import full_record
from ..units import MONEY_UNITS, convert
from .structure import column_name

_WS = re.compile(r"\s")
_UNIT_OF = attrgetter("unit")
_VALUE_OF = attrgetter("value")
STEP = Decimal("0.01")  # the printed rounding unit (尾差) per summed term
ZERO = Decimal(0)

# A finding's subject, or a function that words it: only called when there is something to report.
Subject = str | Callable[[], str]

SEVERITIES = ("mismatch", "shifted_column", "missing", "malformed", "rounding", "info")


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    func: Callable[[Context], Iterable[Finding]]

    @property
    def doc(self) -> str:
        return inspect.getdoc(self.func) or ""


RULES: dict[str, Rule] = {}


def rule(rule_id: str, title: str):
    """Register a check under a stable id; its docstring is its documentation."""

    def register(func: Callable[[Context], Iterable[Finding]]):
        if rule_id in RULES:
            raise ValueError(f"duplicate rule id {rule_id}")
        RULES[rule_id] = Rule(rule_id, title, func)
        return func

    return register


def fmt(value: Decimal) -> str:
    """Two decimals (as the tables print them), more only when the value has more."""
    if value.same_quantum(STEP) or value.same_quantum(ZERO):
        return f"{value:.2f}"   # two or no decimals stored (the usual amounts): as below, without as_tuple
    exp = value.as_tuple().exponent
    if isinstance(exp, int) and exp >= -2:
        return f"{value:.2f}"   # at most two decimals stored: normalising cannot ask for more
    exp = value.normalize().as_tuple().exponent
    places = max(2, -exp if isinstance(exp, int) and exp < 0 else 0)
    return f"{value:.{places}f}"


def table_name(table: Table) -> str:
    return TABLE_NAMES.get(table.kind, "") or table.title


def row_name(row: TableRow) -> str:
    label = row.label.strip() or ("合计" if row.is_total else "")
    if row.code and row.code_kind in ("functional", "economic", "project") and row.code not in label:
        return f"{row.code} {label}".strip()
    return label or row.code or "（无名称行）"


def value_in(amount: Amount, unit: str) -> Decimal | None:
    """The amount's value in `unit` (money units convert; other units only to themselves)."""
    try:
        return convert(amount.value, amount.unit, unit)
    except ValueError:
        return None


def _step(amount: Amount, unit: str) -> Decimal:
    if amount.unit in MONEY_UNITS and unit in MONEY_UNITS:
        return convert(STEP, amount.unit, unit)
    return STEP


def _finding(rule_id: str, severity: str, message: str, expected: Decimal | None, actual: Decimal | None,
             difference: Decimal | None, values: list[Amount]) -> Finding:
    """`Finding(...)` without pydantic's validation: every field is already of its type here (str, Decimal or
    None, a new list of Amount records), so validating would only copy the list."""
    return full_record(Finding, {"rule": rule_id, "severity": severity, "message": message, "expected": expected,
                                 "actual": actual, "difference": difference, "values": values})


class Context:
    """What rules see: the document, its text (optional), shared caches and the record of used values."""

    def __init__(self, doc: BudgetDocument, text: str | None = None):
        self.doc = doc
        self.text = text
        self._used: dict[tuple[int, int], Amount] = {}
        self._pending: list[Amount | None] = []   # amounts `use`d since `used` was last read
        self.shifted_rows: set[int] = set()
        self.moves: dict[tuple[int, str], str] = {}  # (row, printed column) -> column the value belongs to
        self.cache: dict[str, object] = {}
        self.memo: dict[tuple, object] = {}   # per-table figures (figures.py), keyed by (what, id(table))
        self.row_cells: dict[tuple[int, int], tuple[int, list]] = {}   # figures.cells per (table, row)

    def ready(self) -> None:
        """Find rows printed a column off — by their own identities (shifts.py), then by column sums (the
        table and two-sided passes) — before any rule reads rows by column, so every rule reads them repaired."""
        if "ready" in self.cache:
            return
        self.cache["ready"] = True
        from .rules_totals import _side_findings, _tree_findings
        from .shifts import _row_shifts

        self.cache["row_shifts"] = _row_shifts(self)
        self.cache["tree_findings"] = _tree_findings(self)
        self.cache["side_findings"] = _side_findings(self)

    def col(self, row: TableRow, column: str) -> str:
        """The column a printed cell belongs to (its printed column unless the row was found shifted)."""
        return self.moves.get((id(row), column), column)

    @property
    def tables(self) -> list[Table]:
        """The document's tables, with pieces of one table that were left unmerged (consecutive, same kind,
        title and columns: a page split) read as one. The document itself is not changed."""
        return self.once("tables", self._merged_tables)  # type: ignore[return-value]

    def tables_of(self, kind) -> list[Table]:
        by_kind = self.cache.get("tables_by_kind")
        if by_kind is None:   # one pass over the tables per document
            by_kind = self.cache["tables_by_kind"] = {}
            for t in self.tables:
                by_kind.setdefault(t.kind, []).append(t)
        return list(by_kind.get(kind, ()))  # type: ignore[union-attr]

    def _merged_tables(self) -> list[Table]:
        out: list[Table] = []
        for t in self.doc.tables:
            prev = out[-1] if out else None
            if prev is not None and prev.kind == t.kind and prev.columns == t.columns and t.columns \
                    and _WS.sub("", prev.title) == _WS.sub("", t.title):
                out[-1] = prev.model_copy(update={"rows": prev.rows + t.rows, "empty": prev.empty and t.empty,
                                                  "parts": prev.parts + t.parts, "char_end": t.char_end})
            else:
                out.append(t)
        return out

    @property
    def used(self) -> dict[tuple[int, int], Amount]:
        """Every value that took part in some comparison, by its span (the last one given for a span).
        Built when read: extraction itself never reads it."""
        if self._pending:
            used = self._used
            for a in self._pending:
                if a is not None:
                    p = a.prov
                    used[(p.char_start, p.char_end)] = a
            self._pending.clear()
        return self._used

    def use(self, amounts: Iterable[Amount | None]) -> None:
        self._pending.extend(amounts)

    def once(self, key: str, compute: Callable[[], object]):
        if key not in self.cache:
            self.cache[key] = compute()
        return self.cache[key]

    def balanced(self, left: list[Amount], right: list[Amount]) -> bool:
        """True when `compare(…, left, right, …)` (no unit given) has nothing to report because Σ left and
        Σ right are equal in one unit — the usual outcome — with the values recorded as used, as compare
        records them. False otherwise: then compare says what differs. Saves building the wording."""
        both = left + right
        if not both:
            return True
        unit = both[0].unit
        for a in both:
            if a.unit != unit:
                return False
        if sum(map(_VALUE_OF, left), ZERO) - sum(map(_VALUE_OF, right), ZERO) != 0:
            return False
        self._pending.extend(both)
        return True

    def check_sum(self, rule_id: str, actual: Amount | None, parts: Sequence[Amount], subject: Subject,
                  formula: str, *, unit: str | None = None, note: str = "") -> Finding | None:
        """`actual` (None = printed blank, i.e. 0) against Σ parts. Returns a finding or None."""
        return self.compare(rule_id, [actual] if actual is not None else [], parts, subject, formula,
                            unit=unit, note=note)

    def compare(self, rule_id: str, left: Sequence[Amount], right: Sequence[Amount], subject: Subject,
                formula: str, *, unit: str | None = None, note: str = "") -> Finding | None:
        """Σ left (what is printed as the subject) against Σ right (what it should be). Blank = 0."""
        if type(left) is not list or type(right) is not list:
            left, right = list(left), list(right)   # (lists are only read here: no copy needed)
        both = left + right
        if not both:
            return None
        unit = unit or both[0].unit
        for a in both:
            if a.unit != unit:
                break
        else:
            # the common case: one unit, nothing to convert
            act, expected = sum(map(_VALUE_OF, left), ZERO), sum(map(_VALUE_OF, right), ZERO)
            self._pending.extend(both)
            if act == expected:
                return None
            lv, rv = [a.value for a in left], [a.value for a in right]
            return self._differ(rule_id, left, right, lv, rv, act, expected, subject, formula, unit, note, True)
        lv = [value_in(a, unit) for a in left]
        rv = [value_in(a, unit) for a in right]
        if any(v is None for v in lv + rv):
            return None  # units that cannot be compared (e.g. % against 万元): not this rule's business
        self.use(both)
        act = sum(lv, ZERO)  # type: ignore[arg-type]
        expected = sum(rv, ZERO)  # type: ignore[arg-type]
        one_unit = len({a.unit for a in both}) == 1   # all in one unit, other than the one asked for
        return self._differ(rule_id, left, right, lv, rv, act, expected, subject, formula, unit, note, one_unit)

    def _differ(self, rule_id: str, left: list[Amount], right: list[Amount], lv: list, rv: list, act: Decimal,
                expected: Decimal, subject: Subject, formula: str, unit: str, note: str,
                one_unit: bool) -> Finding | None:
        """The finding for Σ left ≠ Σ right (values already in `unit`); only reached when they differ."""
        both = left + right
        diff = act - expected
        if diff == 0:
            return None
        if not one_unit and abs(diff) * 2 <= max(_step(a, unit) for a in both):
            return None  # 37151.47 万元 printed for 371514655 元: the same number at a coarser unit
        # the summed terms: the non-zero values on the right, and on the left after its first
        if one_unit:
            # every term has the same step: Σ steps is that step times their number
            n_terms = sum(map(bool, rv)) + sum(map(bool, lv[1:]))
            step = _step(both[0], unit)
            tolerance = max(step * n_terms, step if left else STEP)
        else:
            terms = [a for a, v in zip(right, rv, strict=True) if v] + [a for a, v in zip(left[1:], lv[1:], strict=True) if v]
            n_terms = len(terms)
            steps = [_step(a, unit) for a in terms]
            tolerance = max(sum(steps, ZERO), _step(left[0], unit) if left else STEP)
        severity = "rounding" if abs(diff) <= tolerance else "mismatch"
        if callable(subject):
            subject = subject()
        u = unit if unit != "%" else "个百分点"
        shown = fmt(act) if left else "空白（0）"
        if severity == "rounding":
            message = (f"{subject} {shown} 与{formula} {fmt(expected)} 相差 {fmt(abs(diff))} {u}，"
                       f"在尾差范围内（±0.01×{max(n_terms, 1)}）")
        else:
            message = f"{subject} {shown} 比{formula} {fmt(expected)} {'多' if diff > 0 else '少'} {fmt(abs(diff))} {u}"
        if note:
            message += f"，{note}"
        return _finding(rule_id, severity, message, expected, act, diff, both)

    def finding(self, rule_id: str, severity: str, message: str, values: Sequence[Amount] = (), *,
                expected: Decimal | None = None, actual: Decimal | None = None) -> Finding:
        self.use(values)
        diff = actual - expected if expected is not None and actual is not None else None
        return _finding(rule_id, severity, message, expected, actual, diff, list(values))


# ---- a parent row against its children, column by column, with shifted-column detection -------------

def _column_sums(ctx: Context, children: list[TableRow], columns: list[str],
                 moves: dict[tuple[int, str], str] | None = None):
    sums = dict.fromkeys(columns, ZERO)
    for r in children:
        for c in r.cells:
            col = (moves or {}).get((id(r), c.column)) or ctx.col(r, c.column)
            if col in sums:
                sums[col] += c.amount.value
    return sums


def _find_shift(ctx: Context, parent: TableRow, children: list[TableRow], order: list[str], failing: set[str],
                tolerance: dict[str, Decimal]) -> tuple[TableRow, dict[tuple[int, str], str]] | None:
    """One child row whose run of cells, moved one column left or right, makes every column add up."""
    totals = {col: ZERO for col in order}
    for c in parent.cells:
        if ctx.col(parent, c.column) in totals:
            totals[ctx.col(parent, c.column)] = c.amount.value
    index = {col: i for i, col in enumerate(order)}
    best = None
    for r in children:
        if id(r) in ctx.shifted_rows:
            continue
        cols = sorted(index[c.column] for c in r.cells if c.column in index)
        occupied = set(cols)
        for a_pos in range(len(cols)):
            for b_pos in range(a_pos, min(a_pos + 3, len(cols))):
                block = cols[a_pos:b_pos + 1]
                for d in (-1, 1):
                    targets = [k + d for k in block]
                    if min(targets) < 0 or max(targets) >= len(order):
                        continue
                    if any(t in occupied and t not in block for t in targets):
                        continue
                    touched = {order[k] for k in block} | {order[t] for t in targets}
                    if not failing <= touched:
                        continue
                    moves = {(id(r), order[k]): order[k + d] for k in block}
                    sums = _column_sums(ctx, children, order, moves)
                    if all(abs(totals[col] - sums[col]) <= tolerance[col] for col in order):
                        if best is None or len(block) < len(best[1]):
                            best = (r, moves)
        if best is not None and len(best[1]) == 1:
            break
    return best


def _read_cells(ctx: Context, parent: TableRow, children: list[TableRow]):
    """(parent amount per column, children amounts per column), each cell in the column it belongs to, and
    the one unit of all of them ('' when they have several)."""
    moves, shifted = ctx.moves, ctx.shifted_rows   # only rows in shifted_rows have moves
    top: dict[str, Amount] = {}
    pid = id(parent)
    moved = pid in shifted
    unit = None
    same = True
    for c in parent.cells:
        a = c.amount
        col = moves.get((pid, c.column), c.column) if moved else c.column
        if col not in top:
            top[col] = a
        if unit is None:
            unit = a.unit
        elif a.unit != unit:
            same = False
    by_col: dict[str, list[Amount]] = {}
    sums: dict[str, Decimal] = {}   # Σ by_col[col], added as the cells are read (no Decimal(0) to start)
    for r in children:
        rid = id(r)
        moved = rid in shifted
        for c in r.cells:
            a = c.amount
            col = moves.get((rid, c.column), c.column) if moved else c.column
            got = by_col.get(col)
            if got is None:
                by_col[col] = [a]
                sums[col] = a.value
            else:
                got.append(a)
                sums[col] += a.value
            if unit is None:
                unit = a.unit
            elif a.unit != unit:
                same = False
    return top, by_col, sums, (unit or "") if same else ""


def check_children(ctx: Context, rule_id: str, table: Table, parent: TableRow, children: list[TableRow],
                   subject: Subject, formula: str, columns: list[str] | None = None) -> list[Finding]:
    """parent[col] = Σ children[col] for every column either prints. Two or more failing columns that one
    child's cells, moved one column over, would all fix are reported once as `shifted_column`."""
    if "ready" not in ctx.cache:
        ctx.ready()
    # each cell read once, in the column it belongs to (children's cells in row order, then cell order)
    top, by_col, sums, unit = _read_cells(ctx, parent, children)
    present = top.keys() | by_col.keys()
    order = [c for c in (columns or table.columns) if c in present]
    order += sorted(present - set(order))
    if unit:
        # the usual outcome, every column adds up in one unit: record the values as `balanced` would
        for col in order:
            a = top.get(col)
            if sums.get(col, ZERO) != (a.value if a is not None else ZERO):
                break
        else:
            pending = ctx._pending
            for col in order:
                a = top.get(col)
                if a is not None:
                    pending.append(a)
                pending.extend(by_col.get(col, ()))
            return []
    if callable(subject):
        subject = subject()
    results: dict[str, Finding] = {}
    tolerance: dict[str, Decimal] = {}
    pending = ctx._pending
    for col in order:
        parts = by_col.get(col, [])
        actual = top.get(col)
        left = [actual] if actual is not None else []
        if not unit:
            if ctx.balanced(left, parts):
                continue
            f = ctx.check_sum(rule_id, actual, parts, f"{subject}「{column_name(col)}」", formula)
        else:
            # one unit: what balanced and then compare would do, from the sums already read
            pending.extend(left)
            pending.extend(parts)
            if sums.get(col, ZERO) == (actual.value if actual is not None else ZERO):
                continue
            lv, rv = [a.value for a in left], [a.value for a in parts]
            f = ctx._differ(rule_id, left, parts, lv, rv, sum(lv, ZERO), sum(rv, ZERO),
                            f"{subject}「{column_name(col)}」", formula, unit, "", True)
        if f is not None:
            results[col] = f
    failing = {col for col, f in results.items() if f.severity == "mismatch"}
    if len(failing) >= 2:
        for col in order:
            tolerance[col] = STEP * max(1, sum(1 for p in by_col.get(col, []) if p.value))
        shift = _find_shift(ctx, parent, children, order, failing, tolerance)
        if shift is not None:
            row, moves = shift
            ctx.shifted_rows.add(id(row))
            ctx.moves.update(moves)
            moved = [c for c in row.cells if (id(row), c.column) in moves]
            what = "，".join(f"{c.amount.raw} 印在「{column_name(c.column)}」应属于「{column_name(moves[(id(row), c.column)])}」"
                            for c in moved)
            totals = [c.amount for c in parent.cells if c.column in failing]
            message = (f"{table_name(table)}「{row_name(row)}」一行错列：{what}；"
                       f"按此移回一列后「{row_name(parent)}」各列合计相符")
            shifted = ctx.finding(rule_id, "shifted_column", message, [c.amount for c in moved] + totals,
                                  actual=moved[0].amount.value)
            return [shifted] + [f for col, f in results.items() if col not in failing]
    return list(results.values())
