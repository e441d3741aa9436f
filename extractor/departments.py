"""The one department resolver: names as printed -> canonical name, region, and the short names
people use (大数据局, 驻京联络处, 市政府办公室). Shared by extraction, retrieval, QA and evals."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

_SUFFIX = re.compile(r"[（(]\s*汇\s*总\s*[)）]|[（(]\s*本级\s*[)）]")
_REGION = re.compile(r"^(.{2,3}?(?:省|自治区|特别行政区))?(.{2,4}?(?:自治州|地区|盟|市))?"
                     r"(.{2,3}?(?:区|县|旗)|.{2,8}?(?:示范区|新区|开发区))?")
# Words that carry no identity in a department name.
_FILLER = ("人民政府", "政府", "中国共产党", "中共", "委员会", "管理局", "服务中心", "管理", "服务", "和", "的", "市", "省", "区",
           "县")

# Colloquial short forms: (pattern in the canonical name, what people say)
_NICKNAMES: list[tuple[str, str]] = [
    ("大数据管理局", "大数据局"), ("政务服务和大数据", "大数据局"), ("驻北京联络处", "驻京联络处"), ("驻北京联络处", "驻京办"),
    ("人民政府办公室", "政府办公室"), ("人民政府办公室", "政府办"), ("招商引资服务中心", "招商中心"),
    ("人民检察院", "检察院"), ("高级人民法院", "高院"), ("人大常委会办公厅", "人大办公厅"), ("商务委员会", "商务委"),
    ("财政局", "财政局"), ("街道办事处", "街道办"),
]


def clean_department(name: str) -> str:
    """'许昌市人民政府驻北京联络处（汇总）' -> '许昌市人民政府驻北京联络处'; spaces and markup removed."""
    name = re.sub(r"[\s*#|]", "", name)
    name = _SUFFIX.sub("", name)
    return name.strip("：:，,。")


def region_of(name: str) -> str:
    m = _REGION.match(clean_department(name))
    if not m:
        return ""
    return "".join(g for g in m.groups() if g)


def aliases_of(name: str) -> list[str]:
    """Names a user may type for this department: full, without region, nicknames, with region prefix."""
    full = clean_department(name)
    region = region_of(full)
    core = full[len(region):] if region and full.startswith(region) else full
    out = {full, core}
    city = re.match(r"^(.{1,6}?[市省区县])", full)
    for pattern, nick in _NICKNAMES:
        if pattern in full:
            out.add(nick)
            if city:
                out.add(city.group(1) + nick)
                out.add(city.group(1).rstrip("市省区县") + nick)
    if core.startswith("人民政府"):
        out.add(core[len("人民政府"):])
        if city:
            out.add(city.group(1) + "政府" + core[len("人民政府"):])
    return sorted(a for a in out if len(a) >= 2)


def most_common_department(candidates: list[str]) -> str:
    cleaned = [clean_department(c) for c in candidates if c and clean_department(c)]
    if not cleaned:
        return ""
    return Counter(cleaned).most_common(1)[0][0]


@dataclass(frozen=True)
class Match:
    department: str
    score: float


def _bigrams(s: str) -> set[str]:
    return {s[i:i + 2] for i in range(len(s) - 1)} if len(s) > 1 else {s}


@dataclass(frozen=True)
class Mention:
    """An exact alias occurrence in a text (offsets in the text with whitespace removed)."""

    department: str
    alias: str
    start: int
    end: int


class DepartmentResolver:
    """Finds which known department a piece of text (a question, a file name) refers to."""

    def __init__(self, departments: list[str]):
        self.departments = sorted({clean_department(d) for d in departments if d})
        self._aliases = {d: aliases_of(d) for d in self.departments}

    def resolve(self, text: str) -> list[Match]:
        """Candidates best first; an exact alias hit scores ≥ 1, fuzzy bigram overlap scores below."""
        t = re.sub(r"\s", "", text)
        scored: list[Match] = []
        for dep, aliases in self._aliases.items():
            best = 0.0
            for alias in aliases:
                if alias in t:
                    best = max(best, 1.0 + len(alias) / 100)
            if best == 0.0:
                core = dep
                for f in _FILLER:
                    core = core.replace(f, " ")
                grams = set().union(*(_bigrams(w) for w in core.split() if w)) if core.split() else set()
                if grams:
                    hit = sum(1 for g in grams if g in t)
                    best = 0.9 * hit / len(grams) if hit >= 2 else 0.0
            if best > 0:
                scored.append(Match(dep, best))
        scored.sort(key=lambda m: -m.score)
        return scored

    def mentions(self, text: str) -> list[Mention]:
        """Departments named in `text` by an exact alias, in text order. A shorter alias inside a longer
        one's span is dropped (漯河市政府办 wins over 政府办); several departments on the same span are all
        kept (an ambiguous name such as 政府办公室 names each of them)."""
        t = re.sub(r"\s", "", text)
        found = []
        for dep, aliases in self._aliases.items():
            for alias in aliases:
                start = t.find(alias)
                while start >= 0:
                    found.append(Mention(dep, alias, start, start + len(alias)))
                    start = t.find(alias, start + 1)
        found.sort(key=lambda m: (-(m.end - m.start), m.start))
        kept: list[Mention] = []
        for m in found:
            if any(k.start < m.end and m.start < k.end and (k.start, k.end) != (m.start, m.end) for k in kept):
                continue
            if any(k.department == m.department and k.start <= m.start and m.end <= k.end for k in kept):
                continue
            kept.append(m)
        return sorted(kept, key=lambda m: m.start)
