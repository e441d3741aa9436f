"""The loaded documents as the question parser sees them: who is named (departments, their units, cities,
with typo tolerance and region checks) and which document of a department a year picks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from extractor.departments import DepartmentResolver, aliases_of, clean_department

from .text import fuzzy_find
from .view import DocView

_CITY_STOP = {"城市", "本市", "全市", "我市", "该市", "市市", "各市", "省市", "县市"}
_SEPARATORS = set("，,。？?！!、；;：:（）()和与跟及或的在是 ")


@dataclass
class Mention:
    start: int
    end: int
    alias: str
    views: list[DocView]                  # candidate documents (several: ambiguous name or several years)
    unit: tuple[DocView, str] | None = None  # a unit (部门/单位代码 row) inside a document
    typo: bool = False
    unit_alternatives: list[tuple[DocView, str]] = field(default_factory=list)

    @property
    def names(self) -> list[str]:
        return sorted({v.name for v in self.views})


class Corpus:
    def __init__(self, views: list[DocView]):
        self.views = views
        self.by_name: dict[str, list[DocView]] = {}
        for v in views:
            self.by_name.setdefault(v.name, []).append(v)
        for vs in self.by_name.values():
            vs.sort(key=lambda v: v.doc.year or 0)
        self.resolver = DepartmentResolver(list(self.by_name))
        self._aliases = {name: aliases_of(name) for name in self.by_name}
        # Units (部门/单位代码 rows) that are not the department itself: 驻北京联络处 inside 漯河市人民政府办公室.
        self.units: dict[str, list[tuple[DocView, str]]] = {}
        for v in views:
            for code, u in v.units.items():
                if u.name and clean_department(u.name) != v.name:
                    self.units.setdefault(clean_department(u.name), []).append((v, code))
        self.unit_resolver = DepartmentResolver(list(self.units))
        self.cities: dict[str, list[DocView]] = {}
        for v in views:
            if v.city:
                self.cities.setdefault(v.city, []).append(v)
        self.years = sorted({v.doc.year for v in views if v.doc.year})
        # Row names that contain department-like words (其他政府办公厅（室）及相关机构事务支出 holds 政府办).
        self.item_labels = sorted({lab for v in views for _c, lab, _t, _r in v.functional if len(lab) >= 5}
                                  | {lab for v in views for _c, _g, lab, _t, _r in v.economic if len(lab) >= 5},
                                  key=len, reverse=True)

    # ---- cities ------------------------------------------------------------------------------------
    def known_cities(self, q: str) -> list[tuple[int, str]]:
        return sorted((m.start(), c) for c in self.cities for m in re.finditer(re.escape(c), q))

    def unknown_cities(self, q: str) -> list[tuple[int, str]]:
        """Place names of the form XX市/XX省 the corpus does not know (郑州市), at a word start."""
        out = []
        for m in re.finditer(r"([\u4e00-\u9fff]{2})(?:市|省)", q):
            name = m.group(1)
            if name + "市" in _CITY_STOP or name in self.cities or any(name in c or c in name for c in self.cities):
                continue
            if m.start() == 0 or q[m.start() - 1] in _SEPARATORS or q[m.start() - 1].isdigit():
                out.append((m.start(), name))
        return out

    def city_before(self, q: str, start: int) -> str | None:
        """The city written right before a name (许昌/漯河/郑州 + optional 市), if any."""
        head = q[max(0, start - 4):start]
        for c in sorted(self.cities, key=len, reverse=True):
            if re.search(re.escape(c) + r"市?$", head):
                return c
        for pos, name in self.unknown_cities(q):
            if pos + len(name) + 1 == start or pos + len(name) == start:
                return name
        return None

    # ---- departments -------------------------------------------------------------------------------
    def mentions(self, q: str) -> list[Mention]:
        """Departments and units named in the normalised question, in text order."""
        found: list[Mention] = []
        inside_items = [(i, i + len(lab)) for lab in self.item_labels for i in _find_all(q, lab)]
        for m in self.resolver.mentions(q):
            if any(s <= m.start and m.end <= e and (e - s) > (m.end - m.start) for s, e in inside_items):
                continue
            views = list(self.by_name.get(m.department, []))
            prev = next((f for f in found if (f.start, f.end) == (m.start, m.end) and f.unit is None), None)
            if prev:
                prev.views.extend(v for v in views if v not in prev.views)
            else:
                found.append(Mention(m.start, m.end, m.alias, views))
        taken = [(f.start, f.end) for f in found]
        # Typos (大数剧局, 驻京联洛处): an alias within one edit, outside the exact hits.
        for name, aliases in self._aliases.items():
            for alias in sorted(aliases, key=len, reverse=True):
                if alias in q:
                    continue
                i = fuzzy_find(alias, q)
                if i < 0:
                    continue
                end = i + len(alias)
                if any(s < end and i < e for s, e in taken) or any(s <= i and end <= e for s, e in inside_items):
                    continue
                found.append(Mention(i, end, alias, list(self.by_name[name]), typo=True))
                taken.append((i, end))
                break
        units = []
        for m in self.unit_resolver.mentions(q):
            for v, code in self.units.get(m.department, []):
                units.append(Mention(m.start, m.end, m.alias, [v], unit=(v, code)))
        out: list[Mention] = []
        for u in units:
            longer_dept = [f for f in found if f.start <= u.start and u.end <= f.end and (f.end - f.start) > (u.end - u.start)]
            if longer_dept:
                continue
            same = [f for f in found if (f.start, f.end) == (u.start, u.end)]
            for f in same:
                f.unit_alternatives.append(u.unit)  # type: ignore[arg-type]
            if same:
                continue
            found = [f for f in found if not (u.start <= f.start and f.end <= u.end)]
            out.append(u)
        found.extend(out)
        # A city written right before the name must be the document's (郑州市大数据局 is not 许昌's).
        kept = []
        for f in sorted(found, key=lambda f: f.start):
            city = self.city_before(q, f.start)
            if city and not f.alias.startswith(city):
                f.views = [v for v in f.views if v.city == city]
                if f.unit and f.unit[0].city != city:
                    f.unit = None
                    f.views = []
                f.unit_alternatives = [u for u in f.unit_alternatives if u[0].city == city]
                if not f.views and f.unit_alternatives:
                    f.unit, f.unit_alternatives = f.unit_alternatives[0], []
                    f.views = [f.unit[0]]
            if f.views:
                kept.append(f)
        # merge duplicates of the same unit found through several aliases
        merged: list[Mention] = []
        for f in kept:
            if merged and merged[-1].start < f.end and f.start < merged[-1].end:
                if (merged[-1].end - merged[-1].start) >= (f.end - f.start):
                    continue
                merged[-1] = f
                continue
            merged.append(f)
        return merged

    def unknown_department(self, q: str) -> str:
        """A department-like name in the question that matches nothing loaded ('许昌市教育局')."""
        m = re.search(r"((?:[\u4e00-\u9fff]{2}[市省县区])?(?:人民政府)?[\u4e00-\u9fff]{0,10}?"
                      r"(?:局|委员会|委|办公室|办|厅|联络处|处|中心|院|所|站))", q)
        if not m:
            return ""
        name = m.group(1)
        return name if len(name) >= 3 else ""

    def for_year(self, views: list[DocView], year: int | None) -> list[DocView]:
        if year is None:
            return views
        return [v for v in views if v.doc.year == year]


def _find_all(text: str, sub: str) -> list[int]:
    out, i = [], text.find(sub)
    while i >= 0:
        out.append(i)
        i = text.find(sub, i + 1)
    return out
