"""The data model: validated pydantic records, every value with its provenance. Money is Decimal + unit."""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from .provenance import Provenance, Record


class TableKind(StrEnum):
    summary = "summary"                      # 收支总体情况表
    income = "income"                        # 收入总体情况表
    expenditure = "expenditure"              # 支出总体情况表
    fiscal_summary = "fiscal_summary"        # 财政拨款收支总体情况表
    gp_expenditure = "gp_expenditure"        # 一般公共预算支出情况表
    gp_basic = "gp_basic"                    # 一般公共预算基本支出表
    economic = "economic"                    # 支出经济分类汇总表
    sangong = "sangong"                      # "三公"经费表
    gov_fund = "gov_fund"                    # 政府性基金预算支出表
    state_capital = "state_capital"          # 国有资本经营预算支出表
    projects = "projects"                    # 项目支出表
    dept_performance = "dept_performance"    # 整体绩效目标表
    project_performance = "project_performance"  # 项目绩效目标表
    generic = "generic"                      # a table no rule recognised


TABLE_NAMES: dict[TableKind, str] = {
    TableKind.summary: "收支总体情况表", TableKind.income: "收入总体情况表", TableKind.expenditure: "支出总体情况表",
    TableKind.fiscal_summary: "财政拨款收支总体情况表", TableKind.gp_expenditure: "一般公共预算支出情况表",
    TableKind.gp_basic: "一般公共预算基本支出表", TableKind.economic: "支出经济分类汇总表",
    TableKind.sangong: "“三公”经费支出情况表", TableKind.gov_fund: "政府性基金预算支出情况表",
    TableKind.state_capital: "国有资本经营预算支出情况表", TableKind.projects: "项目支出表",
    TableKind.dept_performance: "整体绩效目标表", TableKind.project_performance: "项目绩效目标表",
    TableKind.generic: "其他表",
}


class Amount(Record):
    value: Decimal
    unit: str = Field(description="Unit as printed for this value: 万元, 元, %, 个, 辆 …; never rescaled.")
    raw: str = Field(description="The number exactly as printed.")
    prov: Provenance


class Cell(Record):
    column: str = Field(description="Column header path as printed, levels joined by '/'.")
    role: str = Field(default="", description="Canonical column role (total, basic, personnel, project …) where known.")
    amount: Amount
    method: str = Field(default="rules", description="How the value was extracted: rules | llm:<model>.")


class TableRow(Record):
    label: str = Field(description="Row label (科目名称 / 项目名称 / 项目 …).")
    code: str = Field(default="", description="Normalised code: functional 3/5/7 digits, economic 3/5, unit or project code.")
    code_raw: str = Field(default="", description="Code text as printed (e.g. '201 03 01').")
    code_kind: str = Field(default="", description="functional | economic | unit | project | ''")
    gov_code: str = Field(default="", description="政府预算支出经济分类 code (economic tables).")
    gov_label: str = Field(default="", description="政府预算支出经济分类 name (economic tables).")
    side: str = Field(default="", description="income | expenditure for two-sided tables.")
    category: str = Field(default="", description="Project category (类型) where the table gives one.")
    unit_name: str = Field(default="", description="Implementing unit (项目单位) where the table gives one.")
    is_total: bool = Field(default=False, description="合计/总计 rows.")
    label_prov: Provenance | None = None
    cells: list[Cell] = Field(default_factory=list)

    def get(self, role: str) -> Cell | None:
        for cell in self.cells:
            if cell.role == role:
                return cell
        return None


class Table(Record):
    kind: TableKind
    title: str
    title_prov: Provenance
    department_line: str = Field(default="", description="The 部门名称/单位名称 line's value.")
    unit: str = Field(default="万元", description="The table's unit line (单位：万元 / 元).")
    columns: list[str] = Field(default_factory=list, description="Amount column paths in order.")
    rows: list[TableRow] = Field(default_factory=list)
    empty: bool = Field(default=False, description="The table has no amounts (an empty table is still recognised).")
    parts: int = Field(default=1, description="How many printed pieces (page splits) were merged into this table.")
    char_start: int = 0
    char_end: int = 0


class Indicator(Record):
    table: TableKind
    project: str = Field(default="", description="Project name; '' for the department-wide table.")
    project_code: str = ""
    level1: str = ""
    level2: str = ""
    level3: str = Field(description="三级指标 name.")
    value_text: str = Field(description="指标值 as printed.")
    comparator: str = ""
    number: Decimal | None = None
    unit: str = ""
    prov: Provenance


class Fact(Record):
    """A fact stated in the narrative, e.g. 收入总计 286.55 万元, 基本支出占 51.14%."""

    name: str = Field(description="Fact name (revenue_total, income_source, functional_share …).")
    qualifier: str = Field(default="", description="What the fact is about when the name needs it (source, class …).")
    amount: Amount | None = None
    text: str | None = Field(default=None, description="Text facts: reasons, 职责.")
    prov: Provenance
    section: str = ""
    method: str = Field(default="rules", description="How the value was extracted: rules | llm:<model>.")


class Section(Record):
    title: str
    path: str = Field(description="Part / section path, e.g. '第二部分/一、收入支出预算总体情况说明'.")
    level: int
    char_start: int
    char_end: int


class Finding(Record):
    rule: str
    severity: str = Field(description="info | rounding | mismatch | shifted_column | malformed | missing")
    message: str
    expected: Decimal | None = None
    actual: Decimal | None = None
    difference: Decimal | None = None
    values: list[Amount] = Field(default_factory=list)


class LLMUsage(Record):
    """What the LLM-assisted stage cost and did for one document (absent when it did not run)."""

    model: str
    requests: int = Field(default=0, description="HTTP requests made (validation retries included).")
    cached: int = Field(default=0, description="Chunks answered from the cache (no request, no cost).")
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost: Decimal | None = Field(default=None, description="Cost of the requests, when prices are configured.")
    chunks: int = Field(default=0, description="Parts of the document sent (uncovered by the rules).")
    chunks_failed: int = 0
    tokens_sent_estimate: int = Field(default=0, description="Approximate tokens sent (all requests).")
    tokens_whole_estimate: int = Field(default=0, description="Approximate tokens to send the whole document.")
    proposed: int = Field(default=0, description="Items the LLM returned.")
    accepted: int = Field(default=0, description="Items added to the document (grounded, new).")
    agreed: int = Field(default=0, description="Items equal to a value the rules already had.")
    rejected: int = Field(default=0, description="Items dropped (ungrounded, invalid, or contradicted by the rules).")
    errors: list[str] = Field(default_factory=list, description="Endpoint failures; the rule results stand.")


class BudgetDocument(Record):
    doc_id: str
    source: str
    title: str = ""
    department: str = ""
    department_code: str = ""
    region: str = ""
    year: int | None = None
    kind: str = Field(default="预算", description="预算 | 决算")
    unit: str = "万元"
    text_length: int = 0
    sections: list[Section] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    facts: list[Fact] = Field(default_factory=list)
    indicators: list[Indicator] = Field(default_factory=list)
    findings: list[Finding] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list, description="Layout notes (merged page splits, repaired cells …).")
    llm_usage: LLMUsage | None = Field(default=None, description="Set when the LLM-assisted stage ran (--llm).")

    def tables_of(self, kind: TableKind) -> list[Table]:
        return [t for t in self.tables if t.kind == kind]

    def table(self, kind: TableKind) -> Table | None:
        found = self.tables_of(kind)
        return found[0] if found else None

    def facts_named(self, name: str) -> list[Fact]:
        return [f for f in self.facts if f.name == name]

    def amounts(self):
        """Every extracted amount with its context (table or narrative), for export and checks."""
        for t in self.tables:
            for r in t.rows:
                for c in r.cells:
                    yield t, r, c
