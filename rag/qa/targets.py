"""What a question asks about: catalogue metrics, functional and economic items, projects and performance
indicators found in its text (the `Target`s the question parser hands to the executors)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .catalogue import FUNCTIONAL_CLASSES, METRICS
from .text import bigrams, clean_name, lcs_span, norm
from .view import DocView, ProjectEntry

RE_INDICATOR = re.compile(r"指标|绩效目标(?!的?金额)|目标值|目标是|的目标|满意度|要求.{0,10}(?:至少|多少|不低于)|至少|不低于|"
                          r"控制率|定的是|定了|目标$|目标\?")
RE_LIST_INDICATORS = re.compile(r"(?:指标|绩效目标|目标)(?:都)?有(?:哪些|什么)|哪些(?:绩效)?指标|列出.{0,6}指标")
RE_ECON_CONTEXT = re.compile(r"经济分类|汇总表|基本支出表|基本支出(?:里|中)|工资福利|商品和服务|30\d{3}")


@dataclass
class Target:
    kind: str           # metric | functional | economic | project | indicator
    key: str            # metric key, functional code, economic code/name, project key, indicator level3
    label: str
    start: int = 0
    end: int = 0
    table: str = ""     # economic: economic | gp_basic
    gov_code: str = ""
    role: str = "total"
    projects: list[tuple[DocView, ProjectEntry]] = field(default_factory=list)
    indicators: list = field(default_factory=list)   # (DocView, Indicator)

    @property
    def shown(self) -> str:
        """The label as an answer prints it; a name holding digits (价值50万元以上通用设备) is quoted so its
        digits are not read as a stated figure."""
        return f"「{self.label}」" if re.search(r"\d", self.label) and not self.label.startswith("「") else self.label

    def same(self, other: Target) -> bool:
        return (self.kind, self.key) == (other.kind, other.key)



def find_targets(masked: str, q: str, views: list[DocView]) -> list[Target]:
    """What the question asks about in `masked` (the question with the department mentions masked out):
    catalogue metrics, functional/economic items, projects or indicators of `views`, longest match first."""
    hits: list[tuple[int, int, int, Target]] = []   # (start, end, priority, target)
    econ_context = bool(RE_ECON_CONTEXT.search(q))
    for key, m in METRICS.items():
        for pat in m.patterns:
            for h in re.finditer(pat, masked):
                if h.end() > h.start():
                    hits.append((h.start(), h.end(), 3, Target("metric", key, m.name, h.start(), h.end())))
    for code, names in FUNCTIONAL_CLASSES.items():
        for n in names:
            for h in re.finditer(re.escape(n) + r"(?:支出)?", masked):
                hits.append((h.start(), h.end(), 4, Target("functional", code, _class_label(code), h.start(), h.end())))
    for h in re.finditer(r"(?<!\d)(2\d{2})(\d{2})(\d{2})(?!\d)", masked):
        code = "".join(h.groups())
        label = _functional_label(views, code)
        hits.append((h.start(), h.end(), 5, Target("functional", code, label or code, h.start(), h.end())))
    gov_code = ""
    for h in re.finditer(r"(?<!\d)(5\d{4})(?!\d)", masked):
        gov_code = h.group(1)
    for h in re.finditer(r"(?<!\d)(3\d{4})(?!\d)", masked):
        label = _economic_label(views, h.group(1))
        hits.append((h.start(), h.end(), 5, Target("economic", h.group(1), label or h.group(1), h.start(), h.end())))
    labels_f = {lab: c for v in views for c, lab, _t, _r in v.functional if len(lab) >= 2 and len(c) == 7}
    for lab, code in labels_f.items():
        for h in re.finditer(re.escape(lab), masked):
            hits.append((h.start(), h.end(), 2 if econ_context else 4, Target("functional", code, lab, h.start(), h.end())))
    labels_e = {lab for v in views for _c, _g, lab, _t, _r in v.economic if len(lab) >= 2}
    for lab in labels_e:
        for h in re.finditer(re.escape(lab), masked):
            hits.append((h.start(), h.end(), 4 if econ_context else 1,
                         Target("economic", "", lab, h.start(), h.end(), gov_code=gov_code)))
    proj = _project_target(q, masked, views)
    if proj:
        # a project named in full beats a row label inside it; a partial match loses to an exact row label
        hits.append((proj.start, proj.end, 6 if proj.role == "full" else 3, proj))
    if RE_INDICATOR.search(masked) and not RE_LIST_INDICATORS.search(masked):
        ind = _indicator_target(q, masked, views)
        if ind:
            return [ind]   # the project or metric words around it only say whose indicator it is
    # Longest first, then priority; a kept hit blocks every overlapping one.
    hits.sort(key=lambda h: (-(h[1] - h[0]), -h[2], h[0]))
    kept: list[tuple[int, int, int, Target]] = []
    for h in hits:
        if any(k[0] < h[1] and h[0] < k[1] for k in kept):
            continue
        kept.append(h)
    targets = _fund_qualifiers([h[3] for h in sorted(kept, key=lambda h: h[0])], masked)
    if not targets:
        row = _row_target(masked, views)
        targets = [row] if row else []
    for t in targets:
        if t.kind == "economic" and not t.key:
            t.key = _economic_code(views, t.label)
        if t.kind == "economic":
            t.gov_code = gov_code
            if re.search(r"汇总表|经济分类汇总|汇总", q):
                t.table = "economic"
            elif re.search(r"基本支出", q):
                t.table = "gp_basic"
    return _dedupe_targets(targets)


_FUND_INCOME = ("income_gp", "income_gov_fund", "income_state_capital")


def _fund_qualifiers(targets: list[Target], q: str) -> list[Target]:
    """'一般公共预算机关运行经费': a fund name written right before another item says which money it is,
    it does not ask for the fund's income as well."""
    out = []
    for i, t in enumerate(targets):
        nxt = targets[i + 1] if i + 1 < len(targets) else None
        if (t.kind == "metric" and t.key in _FUND_INCOME and "收入" not in q[t.start:t.end] and nxt is not None
                and re.fullmatch(r"(?:的)?(?:财政拨款)?(?:安排的?)?", q[t.end:nxt.start])):
            continue
        out.append(t)
    return out


def _row_target(masked: str, views: list[DocView]) -> Target | None:
    """A row of any table (a generic table no rule names, a summary row no metric covers: 年初结转和结余)
    whose whole label the question writes; the longest such label wins."""
    best: tuple[int, str] | None = None
    for v in views:
        for label in v.row_labels:
            if len(label) >= 4 and (best is None or len(label) > len(best[1])):
                i = masked.find(label)
                if i >= 0:
                    best = (i, label)
    if best is None:
        return None
    i, label = best
    return Target("row", label, label, i, i + len(label))


def _dedupe_targets(targets: list[Target]) -> list[Target]:
    out: list[Target] = []
    for t in targets:
        if t.kind in ("metric", "functional", "economic") and any(o.same(t) for o in out):
            continue
        out.append(t)
    return out


def _class_label(code: str) -> str:
    from .catalogue import class_name

    return class_name(code)


def _functional_label(views: list[DocView], code: str) -> str:
    for v in views:
        for c, lab, _t, _r in v.functional:
            if c == code:
                return lab
    return ""


def _economic_code(views: list[DocView], label: str) -> str:
    codes = {c for v in views for c, _g, lab, _t, _r in v.economic if lab == label and len(c) == 5}
    return codes.pop() if len(codes) == 1 else ""


def _economic_label(views: list[DocView], code: str) -> str:
    for v in views:
        for c, _g, lab, _t, _r in v.economic:
            if c == code:
                return lab
    return ""


def _project_target(q: str, masked: str, views: list[DocView]) -> Target | None:
    """Projects named (in full or in part) by the question; several equally good matches are all kept
    (two projects may share a name in different units)."""
    scored: list[tuple[float, int, int, DocView, ProjectEntry]] = []
    grams = bigrams(q)
    for v in views:
        for pr in v.projects:
            key = pr.key
            if len(key) < 2 or not (bigrams(key) & grams):
                continue
            start, n = lcs_span(q, key)
            if n < 3:
                continue
            # the match must reach outside the department's name (驻京联络处运行经费 vs 驻京联络处)
            if masked[start:start + n].count("□") == n:
                continue
            cover = n / len(key)
            core = key.split("-")[-1]
            full_core = core in q
            if not (full_core or n >= 6 or (n >= 4 and cover >= 0.5) or (n >= 3 and cover >= 0.75)):
                # an abbreviation (12345热线运维费 for 许昌市12345政务服务便民热线运行维护费): an anchor of four
                # characters plus most of the name's characters in order
                sub = _subsequence(masked.replace("□", ""), key)
                anchor = re.sub(r"(?:19|20)\d{2}年?", "", q[start:start + n])   # a year names no project
                digits = sum(ch.isdigit() for ch in anchor)
                if not (n >= 4 and (sub >= max(8, 0.45 * len(key)) or (digits >= 4 and sub >= 6)
                                    or sub >= max(6, 0.45 * len(core)))):
                    continue
            score = n + (3 if full_core else 0) + cover
            scored.append((score, start, start + n, v, pr, full_core))
    if not scored:
        return None
    best = max(s[0] for s in scored)
    top = [s for s in scored if s[0] >= best - 0.01]
    start = min(s[1] for s in top)
    end = max(s[2] for s in top)
    name = top[0][4].key
    t = Target("project", name, name, start, end, projects=[(s[3], s[4]) for s in top])
    t.role = "full" if any(s[5] for s in top) else "partial"
    return t


def _subsequence(a: str, b: str) -> int:
    """Longest common subsequence length (bounded inputs)."""
    prev = [0] * (len(b) + 1)
    for ca in a:
        cur = [0]
        for j, cb in enumerate(b, 1):
            cur.append(prev[j - 1] + 1 if ca == cb else max(prev[j], cur[j - 1]))
        prev = cur
    return prev[-1]


_IND_STOP = re.compile(r"指标值?|目标值?|是多少|多少|是什么|要求|至少|定的是|这个|整体|绩效|[?？,，]")


def coverage(name: str, q: str) -> int:
    """How many characters of `name` lie in substrings (length ≥ 2) that the question contains."""
    covered = [False] * len(name)
    i = 0
    while i < len(name) - 1:
        j = i + 2
        if name[i:j] not in q:
            i += 1
            continue
        while j < len(name) and name[i:j + 1] in q:
            j += 1
        for k in range(i, j):
            covered[k] = True
        i = j
    return sum(covered)


def _indicator_target(q: str, masked: str, views: list[DocView]) -> Target | None:
    """The performance indicator named: its 三级指标 name covered by the question, the project it belongs
    to (when the question names one) as a tie-breaker; '整体' asks for the department-wide table."""
    wanted = _IND_STOP.sub("", masked)
    whole_dept = "整体" in q
    scored = []
    own: dict[str, str] = {}
    grams = bigrams(wanted)
    for v in views:
        for ind in v.indicators:
            name = norm(ind.level3)
            if not name or len(bigrams(name) & grams) < 1:
                continue   # shares no two characters with the question: cannot be the one asked
            project = clean_name(ind.project) if ind.project else ""
            if project not in own:
                # the words naming the project say whose indicator it is, not which one
                start, n = lcs_span(wanted, project) if project else (0, 0)
                own[project] = wanted[:start] + "□" * n + wanted[start + n:] if n >= 3 else wanted
            text = own[project]
            n = coverage(name, text)
            if n < 2:
                continue
            cover = n / len(name)
            if not (cover >= 0.5 or n >= 3):
                continue
            pn = coverage(project, q) if project else 0
            score = n + cover * 3 + (min(pn, 10) * 0.5 if pn >= 2 else 0)
            if ind.level1 and norm(ind.level1) in q:
                score += 2
            if whole_dept and not ind.project:
                score += 3
            scored.append((score, v, ind))
    if not scored:
        return None
    scored.sort(key=lambda s: -s[0])
    best = scored[0]
    top = [s for s in scored if s[0] >= best[0] - 0.01 and norm(s[2].level3) == norm(best[2].level3)]
    name = norm(best[2].level3)
    start, n = lcs_span(q, name)
    return Target("indicator", name, best[2].level3, start, start + max(n, 1), indicators=[(s[1], s[2]) for s in top])
