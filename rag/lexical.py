"""Chinese lexical ranking: BM25 over jieba tokens with a budget vocabulary.

Local Chroma has no BM25/sparse search (and `$contains` filters without ranking), so lexical ranking
lives here and is fused with vector search in `rag.retrieve`. jieba is initialised lazily and quietly:
importing this module prints nothing and costs nothing."""

from __future__ import annotations

import hashlib
import logging
import re
import threading
import warnings
from collections import Counter
from collections.abc import Iterable, Sequence
from functools import lru_cache

import numpy as np

from extractor.numbers import fold_width

# Terms jieba must keep whole (it would cut 三公经费 or 机关运行经费 into pieces that match everything).
BUDGET_TERMS = (
    "三公", "三公经费", "一般公共预算", "政府性基金", "政府性基金预算", "国有资本经营预算", "财政拨款", "财政专户",
    "收支总计", "收入总计", "支出总计", "收入合计", "支出合计", "上年结转", "结转结余", "事业收入", "其他收入",
    "基本支出", "项目支出", "人员经费", "公用经费", "机关运行经费", "工资福利支出", "商品和服务支出",
    "对个人和家庭的补助", "资本性支出", "社保", "社会保障", "社会保障和就业", "社会保障缴费", "住房公积金",
    "基本工资", "津贴补贴", "绩效工资", "奖金", "伙食补助费", "办公费", "印刷费", "水电费", "邮电费", "差旅费",
    "劳务费", "委托业务费", "工会经费", "福利费", "培训费", "会议费", "维修(护)费", "离退休费", "退休费",
    "抚恤金", "生活补助", "医疗费补助", "因公出国", "因公出国（境）费", "公务用车", "公务用车购置费",
    "公务用车运行费", "公务用车运行维护费", "公务用车购置及运行费", "公务接待费", "政府采购", "绩效目标",
    "绩效指标", "满意度", "行政运行", "事业运行", "一般行政管理事务", "机关服务", "一般公共服务",
    "招商引资", "驻京联络处", "驻北京联络处", "大数据局", "内设机构", "二级机构", "预算单位", "部门预算",
    "部门决算", "功能分类", "经济分类", "科目编码", "项目名称",
)

# Query-side expansions: what people type -> how documents print it.
SYNONYMS: dict[str, tuple[str, ...]] = {
    "社保": ("社会保障",), "三公": ("三公经费",), "公车": ("公务用车",), "车辆": ("公务用车", "车"),
    "出国": ("因公出国",), "接待费": ("公务接待费",), "公积金": ("住房公积金",), "运行经费": ("机关运行经费",),
    "采购": ("政府采购",), "人头费": ("人员经费",), "今年": (), "去年": ("上年",), "上一年": ("上年",),
    "涨": ("增长", "增加"), "增幅": ("增长",), "同比": ("上年", "增长"), "降": ("减少", "下降"),
    "少了": ("减少",), "多了": ("增加",), "总预算": ("收入总计", "支出总计"), "一共": ("合计", "总计"),
    "总共": ("合计", "总计"), "加起来": ("合计",), "占比": ("占",), "比重": ("占",), "比例": ("占",),
    "车": ("车辆",), "几辆": ("车辆",), "科室": ("内设",), "处室": ("内设",),
}

# Function words and question words that carry no retrieval signal.
STOPWORDS = frozenset(
    "的 了 是 在 和 与 及 或 为 对 有 多少 多少钱 几 几个 什么 哪个 哪些 哪 吗 呢 吧 啊 一共 一下 分别 各 "
    "请问 请 告诉 我 你 这个 那个 这 那 其中 里面 里 中 上 下 年 年度 是否 怎么 如何 几辆 合计是 "
    "安排 安排了 花 花了 钱 多 少 市 省 县 区".split())

# Stored tokens are reused only when they were made with this vocabulary.
LEXICON_VERSION = hashlib.sha1("|".join(("v2", *BUDGET_TERMS, "#", *sorted(STOPWORDS))).encode()).hexdigest()[:12]

_QUOTES = re.compile(r"[“”‘’\"'「」『』《》〈〉]")
_TOKEN_RE = re.compile(r"\d+(?:\.\d+)?|[a-z]+|[\u3400-\u9fff]+")
_lock = threading.Lock()
_jieba = None


def _tokenizer():
    """jieba, initialised once, silently, with the budget vocabulary."""
    global _jieba
    if _jieba is None:
        with _lock:
            if _jieba is None:
                with warnings.catch_warnings():  # jieba's old regexes warn when first compiled
                    warnings.simplefilter("ignore")
                    import jieba

                jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict…" on stderr
                tok = jieba.Tokenizer()
                tok.initialize()
                for term in BUDGET_TERMS:
                    tok.add_word(term, freq=200_000)
                _jieba = tok
    return _jieba


def tokenize(text: str) -> list[str]:
    """Index-side tokens: numbers and codes whole, Chinese by jieba's search mode (words and sub-words)."""
    out: list[str] = []
    # quote marks split terms: “三公”经费 must index like 三公经费
    for m in _TOKEN_RE.finditer(_QUOTES.sub("", fold_width(text).lower())):
        piece = m.group(0)
        if piece[0].isdigit() or piece.isascii():
            out.append(piece)
            continue
        out.extend(_cut(piece))
    return out


@lru_cache(maxsize=262_144)
def _cut(piece: str) -> tuple[str, ...]:
    # chunks repeat department names, table titles, labels and headers: each run is cut once
    return tuple(w for w in _tokenizer().cut_for_search(piece) if w not in STOPWORDS)


def query_tokens(text: str) -> list[str]:
    """Query-side tokens: as `tokenize`, plus the synonyms of what people type."""
    tokens = tokenize(text)
    folded = fold_width(text)
    extra = [s for key, alts in SYNONYMS.items() if key in folded for s in alts]
    return tokens + [t for s in extra for t in tokenize(s) if t not in tokens]


class BM25:
    """Okapi BM25 over pre-tokenised chunks, with an optional boolean mask (metadata filters).

    Postings are built with numpy (one sort over (term, chunk) pairs): 150k chunks index in about a second."""

    def __init__(self, corpus: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        self.k1, self.b = k1, b
        self.n = len(corpus)
        lengths = np.fromiter((len(d) for d in corpus), dtype=np.int64, count=self.n)
        self.avgdl = float(lengths.mean()) if self.n else 0.0
        vocab: dict[str, int] = {}
        term_ids = np.fromiter((vocab.setdefault(t, len(vocab)) for d in corpus for t in d), dtype=np.int64,
                               count=int(lengths.sum()))
        owner = np.repeat(np.arange(self.n, dtype=np.int64), lengths)
        pairs, tf = np.unique(term_ids * max(self.n, 1) + owner, return_counts=True)
        terms, chunks = pairs // max(self.n, 1), pairs % max(self.n, 1)
        df = np.bincount(terms, minlength=len(vocab))
        idf = np.log(1 + (self.n - df + 0.5) / (df + 0.5))
        norm = self.k1 * (1 - self.b + self.b * lengths / (self.avgdl or 1.0))
        weight = idf[terms] * tf * (self.k1 + 1) / (tf + norm[chunks])
        bounds = np.searchsorted(terms, np.arange(len(vocab) + 1))
        self._vocab = vocab
        self._chunks, self._weight, self._bounds = chunks, weight, bounds

    def _postings_of(self, term: str) -> tuple[np.ndarray, np.ndarray] | None:
        t = self._vocab.get(term)
        if t is None:
            return None
        lo, hi = self._bounds[t], self._bounds[t + 1]
        return self._chunks[lo:hi], self._weight[lo:hi]

    def scores(self, tokens: Iterable[str], weights: dict[str, float] | None = None) -> np.ndarray:
        out = np.zeros(self.n, dtype=np.float64)
        for term, count in Counter(tokens).items():
            entry = self._postings_of(term)
            if entry is not None:
                w = (weights or {}).get(term, 1.0)
                out[entry[0]] += entry[1] * w * count
        return out

    def search(self, tokens: Iterable[str], k: int, mask: np.ndarray | None = None,
               weights: dict[str, float] | None = None) -> list[tuple[int, float]]:
        """Top-k (index, score) with a positive score, best first; `mask` keeps only allowed chunks."""
        scores = self.scores(tokens, weights)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        positive = np.flatnonzero(scores > 0)
        if positive.size == 0:
            return []
        top = positive[np.argsort(-scores[positive], kind="stable")[:k]]
        return [(int(i), float(scores[i])) for i in top]
