"""Hybrid retrieval: BM25 over jieba tokens + Chroma vectors, fused by reciprocal rank fusion, under
metadata filters (department, year, table, kind) resolved from the question and the conversation.

The department/year resolution here (`resolve_scope`) is the one the QA engine shares: exact names,
abbreviations and nicknames through `extractor.departments.DepartmentResolver`, then fuzzy and region
fallbacks; years that are only a comparison base ("比2023年增加") are not filters."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from extractor.departments import DepartmentResolver, clean_department, region_of
from extractor.numbers import fold_width

from .embed import HashedNgramEmbedding
from .lexical import BM25, LEXICON_VERSION, query_tokens, tokenize
from .store import Store

RRF_K = 10            # reciprocal rank fusion constant (60 in Cormack et al.; smaller trusts top ranks more)
CANDIDATES = 50       # candidates taken from each ranker before fusion
CONTEXT_WEIGHT = 0.35  # weight of conversation-context tokens relative to the question's own
LEXICAL_WEIGHT = 2.0   # weight of the BM25 ranking in the fusion (the vector ranking weighs 1)
REDUNDANCY = 0.5       # score factor per chunk of the same group already chosen
DOC_REDUNDANCY = 0.5   # score factor per chunk of the same document already chosen (cross-document questions)

LOCAL_VECTOR_LIMIT = 6000  # filtered vector search at most this wide runs in numpy (offline embedding)
VECTOR_CACHE_DOCS = 32     # documents whose chunk vectors stay in memory for it
NAME_WEIGHT = 0.3      # weight of department names / years the filter already enforces
NO_FIGURE = 0.5       # score factor for a chunk that prints no number, when the question asks for one

_YEAR = re.compile(r"((?:19|20)\d{2})\s*年")
# Questions that want a figure: an amount, a count, a share, a change, a ranking.
_WANTS_FIGURE = re.compile(r"多少|几[个辆项人家台次]?|金额|合计|总计|一共|共计|总共|占比|比例|比重|百分|增长|增加|减少|"
                           r"下降|涨|最多|最少|最高|最低|排名|排前|差多少|相差|预算数|安排了|数量|规模")
_COMPARISON_BEFORE = "比较与同跟"


@dataclass
class Scope:
    """What a question is about, as far as filters go."""

    departments: list[str] = field(default_factory=list)
    years: list[int] = field(default_factory=list)
    unmatched_years: list[int] = field(default_factory=list)
    how: str = ""  # alias | fuzzy | region | context | ""

    @property
    def empty(self) -> bool:
        return not self.departments and not self.years


@dataclass
class Hit:
    id: str
    text: str
    metadata: dict[str, Any]
    score: float
    lexical_rank: int | None = None
    vector_rank: int | None = None

    @property
    def doc_id(self) -> str:
        return str(self.metadata["doc_id"])

    @property
    def source(self) -> str:
        return str(self.metadata["source"])

    @property
    def char_start(self) -> int:
        return int(self.metadata["char_start"])

    @property
    def char_end(self) -> int:
        return int(self.metadata["char_end"])

    @property
    def locator(self) -> str:
        return str(self.metadata.get("locator", ""))


def question_years(text: str) -> list[int]:
    """Years the question is about; '比2023年', '与2023年相比' are comparison bases, not scope."""
    t = fold_width(text)
    out: list[int] = []
    for m in _YEAR.finditer(t):
        before = t[:m.start()].rstrip()[-1:]
        after = t[m.end():m.end() + 3]
        if before and before in _COMPARISON_BEFORE or after.startswith(("相比", "比", "相较")):
            continue
        year = int(m.group(1))
        if year not in out:
            out.append(year)
    return out


def _region_key(region: str) -> str:
    """'漯河市' -> '漯河' (what people write); '' when too short to be distinctive."""
    key = re.sub(r"(省|市|自治州|地区|盟|区|县|旗)$", "", region)
    return key if len(key) >= 2 else ""


def resolve_scope(question: str, context: Sequence[str], catalog: dict[str, dict[str, Any]],
                  resolver: DepartmentResolver | None = None) -> Scope:
    """Departments and years a question is about. A follow-up without them inherits the scope of the
    turn before it (resolved the same way, so the scope carries along a conversation); a follow-up that
    names a department by a region-less short name keeps the earlier department in scope as well."""
    if resolver is None:
        resolver = DepartmentResolver(sorted({str(e.get("department") or "") for e in catalog.values()} - {""}))
    known_years = {int(e["year"]) for e in catalog.values() if e.get("year")}
    earlier = resolve_scope(context[-1], context[:-1], catalog, resolver) if context else Scope()
    scope = Scope()
    found, how = _departments_in(question, resolver, catalog)
    if found:
        scope.departments, scope.how = found, how
        if earlier.departments and not _names_region(question, found):
            # "驻北京联络处的项目呢？" after a question about 漯河: the short name may be a unit of the
            # department under discussion
            scope.departments += [d for d in earlier.departments if d not in found]
    elif earlier.departments:
        scope.departments, scope.how = list(earlier.departments), "context"
    years = question_years(question)
    if years:
        scope.years = [y for y in years if y in known_years]
        scope.unmatched_years = [y for y in years if y not in known_years]
    else:
        scope.years, scope.unmatched_years = list(earlier.years), list(earlier.unmatched_years)
    if scope.departments and scope.years:
        docs = [e for e in catalog.values() if clean_department(str(e.get("department") or "")) in scope.departments]
        if not any(e.get("year") in scope.years for e in docs):
            # the department has no document for that year: keep the department, report the year
            scope.unmatched_years += scope.years
            scope.years = []
    return scope


def _names_region(text: str, departments: Sequence[str]) -> bool:
    t = re.sub(r"\s", "", text)
    return any((key := _region_key(region_of(d))) and key in t for d in departments)


def _departments_in(text: str, resolver: DepartmentResolver,
                    catalog: dict[str, dict[str, Any]]) -> tuple[list[str], str]:
    t = re.sub(r"\s", "", text)
    regions: dict[str, set[str]] = {}
    for e in catalog.values():
        key = _region_key(str(e.get("region") or ""))
        if key and key in t:
            regions.setdefault(key, set()).add(clean_department(str(e.get("department") or "")))
    mentions = resolver.mentions(text)
    if mentions:
        found = list(dict.fromkeys(m.department for m in mentions))
        # "漯河驻京联络处": the alias names another city's office, the region names where to look
        for key, deps in sorted(regions.items()):
            if not any(_region_key(region_of(d)) == key for d in found):
                found.extend(sorted(deps - set(found)))
        return found, "alias"
    fuzzy = resolver.resolve(text)
    if fuzzy and fuzzy[0].score >= 0.5 and (len(fuzzy) == 1 or fuzzy[1].score < fuzzy[0].score - 0.1):
        return [fuzzy[0].department], "fuzzy"
    by_region = sorted(set().union(*regions.values())) if regions else []
    return (by_region, "region") if by_region else ([], "")


class Retriever:
    """Loads the committed chunks of a store once; `search` runs in milliseconds afterwards."""

    def __init__(self, store: Store):
        self.store = store
        self._texts: dict[str, str] = {}
        self._load()

    def _load(self) -> None:
        self.catalog = self.store.catalog()
        self.resolver = DepartmentResolver(sorted({str(e.get("department") or "") for e in self.catalog.values()}))
        ids, texts, metas, tokens = [], [], [], []
        for doc_id in self.catalog:
            data = self.store.chunk_file(doc_id)
            fresh = data.get("lexicon") == LEXICON_VERSION
            for c in data["chunks"]:
                ids.append(c["id"])
                texts.append(c["text"])
                metas.append(c["metadata"])
                tokens.append(c["tokens"].split() if fresh else tokenize(c.get("index_text") or c["text"]))
        self.ids, self.texts, self.metas = ids, texts, metas
        self.position = {cid: i for i, cid in enumerate(ids)}
        self.bm25 = BM25(tokens)
        # metadata as integer codes: filters become cheap numpy comparisons
        self._doc_code = {d: n for n, d in enumerate(dict.fromkeys(m["doc_id"] for m in metas))}
        self._doc = np.fromiter((self._doc_code[m["doc_id"]] for m in metas), dtype=np.int32, count=len(metas))
        bounds = np.searchsorted(self._doc, np.arange(len(self._doc_code) + 1))
        self._ranges = {code: (int(bounds[code]), int(bounds[code + 1])) for code in self._doc_code.values()}
        self._table = np.array([m.get("table", "") for m in metas], dtype=object)
        self._title = np.array([m.get("table_title", "") for m in metas], dtype=object)
        self._kind = np.array([m.get("kind", "") for m in metas], dtype=object)
        self._vectors: OrderedDict[int, np.ndarray] = OrderedDict()
        # pay the one-off costs now, not on the first question: jieba's dictionary, Chroma's index load
        query_tokens("预算")
        if ids:
            self.store.collection.query(query_embeddings=self.store.embedding.embed_query(["预算"]), n_results=1,
                                        include=[])

    def refresh(self) -> None:
        """Pick up documents ingested since the retriever was built."""
        if self.store.refresh() or set(self.store.catalog()) != set(self.catalog):
            self._load()

    def __len__(self) -> int:
        return len(self.ids)

    # ---------------------------------------------------------------------------------------- filters

    def scope(self, question: str, context: Sequence[str] = ()) -> Scope:
        return resolve_scope(question, context, self.catalog, self.resolver)

    def doc_ids_for(self, departments: Sequence[str] = (), years: Sequence[int] = ()) -> list[str]:
        deps = {clean_department(d) for d in departments}
        return [k for k, e in self.catalog.items()
                if (not deps or clean_department(str(e.get("department") or "")) in deps)
                and (not years or e.get("year") in years)]

    def _resolve_departments(self, names: Sequence[str]) -> list[str]:
        out: list[str] = []
        for name in names:
            if clean_department(name) in self.resolver.departments:
                out.append(clean_department(name))
                continue
            matches = self.resolver.resolve(name)
            out.extend(m.department for m in matches[:1])
        return out

    # ---------------------------------------------------------------------------------------- search

    def search(self, query: str, *, k: int | None = None, department: str | Sequence[str] | None = None,
               year: int | Sequence[int] | None = None, table: str | Sequence[str] | None = None,
               kind: str | Sequence[str] | None = None, doc_ids: Sequence[str] | None = None,
               context: Sequence[str] = (), auto_scope: bool = True, lexical: bool = True,
               vector: bool = True) -> list[Hit]:
        """Top-k chunks for `query`, best first. Explicit filters win over what the question names;
        `auto_scope` resolves department/year from the question (and `context`, earlier turns)."""
        k = k or self.store.settings.top_k
        departments = [department] if isinstance(department, str) else list(department or [])
        years = [year] if isinstance(year, int) else list(year or [])
        if auto_scope and not departments and not years and doc_ids is None:
            scope = self.scope(query, context)
            departments, years = scope.departments, scope.years
        allowed_docs: list[str] | None = list(doc_ids) if doc_ids is not None else None
        if departments or years:
            scoped = self.doc_ids_for(self._resolve_departments(departments) if departments else [], years)
            allowed_docs = scoped if allowed_docs is None else [d for d in allowed_docs if d in set(scoped)]
        tables = [table] if isinstance(table, str) else list(table or [])
        kinds = [kind] if isinstance(kind, str) else list(kind or [])
        mask = self._mask(allowed_docs, tables, kinds)
        if mask is not None and not mask.any():
            return []
        vec_query, vec_context = query, list(context)
        if departments or years:
            # what the filter already enforces would only favour chunks that repeat the name
            vec_query = self._strip_scope(query, departments, years)
            vec_context = [self._strip_scope(c, departments, years) for c in context]
        lex = self._lexical(query, context, mask, bool(departments), years) if lexical else []
        vec = self._vector(vec_query, vec_context, allowed_docs, tables, kinds, mask) if vector else []
        # a follow-up ("公用经费呢？") asks for what the turn before asked for
        wants_figure = bool(_WANTS_FIGURE.search(query) or (context and _WANTS_FIGURE.search(context[-1])))
        return self._fuse(lex, vec, k, wants_figure=wants_figure)

    def _strip_scope(self, text: str, departments: Sequence[str], years: Sequence[int]) -> str:
        mentions = self.resolver.mentions(text)
        # a name is dropped only when the filter is exactly what it names; a short name kept in scope next
        # to an earlier department ("驻北京联络处" of 漯河) still tells which rows to look at
        if mentions and {m.department for m in mentions} == {clean_department(d) for d in departments}:
            for m in sorted(mentions, key=lambda m: -len(m.alias)):
                text = text.replace(m.alias, " ")
        for y in years:
            text = re.sub(rf"{y}\s*年度?", " ", text)
        return text

    def _mask(self, docs: list[str] | None, tables: list[str], kinds: list[str]) -> np.ndarray | None:
        if docs is None and not tables and not kinds:
            return None
        mask = np.ones(len(self.ids), dtype=bool)
        if docs is not None:
            allowed = np.zeros(len(self.ids), dtype=bool)
            for d in docs:
                if d in self._doc_code:
                    lo, hi = self._ranges[self._doc_code[d]]
                    allowed[lo:hi] = True
            mask &= allowed
        if tables:
            mask &= np.isin(self._table, np.array(tables, dtype=object)) | \
                np.array([any(t in title for t in tables) for title in self._title], dtype=bool)
        if kinds:
            mask &= np.isin(self._kind, np.array(kinds, dtype=object))
        return mask

    def _lexical(self, query: str, context: Sequence[str], mask: np.ndarray | None, named: bool = False,
                 years: Sequence[int] = ()) -> list[int]:
        """BM25 over the question's tokens and, lighter, the earlier turns'. Department names and years the
        filter already enforces weigh NAME_WEIGHT: they would otherwise favour chunks that merely repeat
        the name (a department's 职责 says 市政府 twenty times)."""
        def split(text: str) -> tuple[list[str], set[str], str]:
            rest = text
            for y in years:
                rest = re.sub(rf"{y}\s*年度?", " ", rest)
            if named:
                for m in sorted(self.resolver.mentions(rest), key=lambda m: -len(m.alias)):
                    rest = rest.replace(m.alias, " ")
            tokens = query_tokens(text)
            kept = set(query_tokens(rest))
            return tokens, {t for t in tokens if t not in kept}, rest

        own, own_names, rest = split(query)
        # "那市政府办公室呢？" asks the earlier question again about another department: with nothing
        # but a name in it, the earlier turns carry the whole content
        content = re.sub(r"[\s\W那这呢吗吧啊的了又再市省县区和与跟]", "", rest)
        context_weight = CONTEXT_WEIGHT if content else 1.0
        weights = {t: (NAME_WEIGHT if t in own_names else 1.0) for t in own}
        ctx: list[str] = []
        for c in context[-2:]:
            tokens, names, _ = split(c)
            for t in tokens:
                if t not in weights:
                    weights[t] = context_weight * (NAME_WEIGHT if t in names else 1.0)
                    ctx.append(t)
        return [i for i, _ in self.bm25.search(own + ctx, CANDIDATES, mask, weights)]

    def _vector(self, query: str, context: Sequence[str], docs: list[str] | None, tables: list[str],
                kinds: list[str], mask: np.ndarray | None) -> list[int]:
        clauses: list[dict[str, Any]] = []
        if docs is not None:
            clauses.append({"doc_id": {"$in": docs}})
        if kinds:
            clauses.append({"kind": {"$in": kinds}})
        where = clauses[0] if len(clauses) == 1 else {"$and": clauses} if clauses else None
        n = CANDIDATES if mask is None else int(min(CANDIDATES * (2 if tables else 1), mask.sum()))
        if n <= 0 or not self.ids:
            return []
        text = " ".join([*context[-1:], query])
        if mask is not None and isinstance(self.store.embedding, HashedNgramEmbedding):
            allowed = np.flatnonzero(mask)
            if len(allowed) <= LOCAL_VECTOR_LIMIT:
                # exact search over the filtered chunks: Chroma's metadata-filtered query costs 60-170 ms
                # on 150k chunks, recomputing a few hundred offline vectors costs a few
                sims = self._local_vectors(allowed) @ np.asarray(self.store.embedding([text])[0])
                return [int(allowed[j]) for j in np.argsort(-sims, kind="stable")[:n]]
        res = self.store.collection.query(query_embeddings=self.store.embedding.embed_query([text]),
                                          n_results=n, where=where, include=[])
        out = []
        for cid in res["ids"][0]:
            i = self.position.get(cid)  # chunks of uncommitted documents are not in `position`
            if i is not None and (mask is None or mask[i]):
                out.append(i)
        return out

    def _local_vectors(self, allowed: np.ndarray) -> np.ndarray:
        """Vectors of the chunks `allowed` (sorted indices), computed per document and kept for a while."""
        rows = []
        for code in np.unique(self._doc[allowed]):
            lo, hi = self._ranges[int(code)]
            matrix = self._vectors.get(int(code))
            if matrix is None:
                matrix = np.asarray(self.store.embedding(self.texts[lo:hi]), dtype=np.float32)
                self._vectors[int(code)] = matrix
                if len(self._vectors) > VECTOR_CACHE_DOCS:
                    self._vectors.popitem(last=False)
            else:
                self._vectors.move_to_end(int(code))
            sel = allowed[(allowed >= lo) & (allowed < hi)] - lo
            rows.append(matrix[sel])
        return np.vstack(rows)

    def _fuse(self, lex: list[int], vec: list[int], k: int, wants_figure: bool = False) -> list[Hit]:
        """Weighted reciprocal rank fusion, then a redundancy penalty: the n-th chunk of the same group
        (one project's indicators, one row repeated in several tables, one section) counts REDUNDANCY**n,
        so the top k shows different evidence instead of ten variations of one thing."""
        scores: dict[int, float] = {}
        ranks: dict[int, list[int | None]] = {}
        for which, (ranking, weight) in enumerate(((lex, LEXICAL_WEIGHT), (vec, 1.0))):
            for rank, i in enumerate(ranking, start=1):
                scores[i] = scores.get(i, 0.0) + weight / (RRF_K + rank)
                ranks.setdefault(i, [None, None])[which] = rank
        if wants_figure:
            for i in scores:
                if not self.metas[i].get("amounts", 1):
                    scores[i] *= NO_FIGURE
        pool = sorted(scores, key=lambda i: (-scores[i], i))
        chosen: list[int] = []
        seen: dict[tuple[str, ...], int] = {}
        per_doc: dict[str, int] = {}
        while pool and len(chosen) < k:
            best = max(pool, key=lambda i: (scores[i] * REDUNDANCY ** seen.get(self._group(i), 0)
                                            * DOC_REDUNDANCY ** per_doc.get(self.metas[i]["doc_id"], 0),
                                            -pool.index(i)))
            pool.remove(best)
            chosen.append(best)
            seen[self._group(best)] = seen.get(self._group(best), 0) + 1
            per_doc[self.metas[best]["doc_id"]] = per_doc.get(self.metas[best]["doc_id"], 0) + 1
        return [Hit(self.ids[i], self.texts[i], self.metas[i], scores[i], ranks[i][0], ranks[i][1]) for i in chosen]

    def _group(self, i: int) -> tuple[str, str, str]:
        m = self.metas[i]
        return (str(m["doc_id"]), str(m.get("kind", "")), str(m.get("group", m.get("locator", ""))))

    def source_text(self, doc_id: str) -> str:
        if doc_id not in self._texts:
            self._texts[doc_id] = self.store.text(doc_id)
        return self._texts[doc_id]

    def quote(self, hit: Hit) -> str:
        """The exact source characters a hit cites."""
        return self.source_text(hit.doc_id)[hit.char_start:hit.char_end]
