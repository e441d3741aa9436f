"""Approximate token counts, offline (tiktoken downloads its vocabulary at first use and fails here).

CJK characters cost about one token each in current BPE vocabularies; other text about one per four
characters. Only ratios are reported (tokens sent vs the whole document), with the same estimator on both
sides, so the constant factors cancel."""

from __future__ import annotations

import json
import math
import re

from pydantic import BaseModel

_CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef\u201c\u201d\u2018\u2019]")


def approx_tokens(text: str) -> int:
    cjk = len(_CJK.findall(text))
    return cjk + math.ceil((len(text) - cjk) / 4)


def request_tokens(messages: list[dict[str, str]], schema: type[BaseModel]) -> int:
    """One request: every message plus the JSON schema sent as response_format, plus ~4 per message."""
    body = sum(approx_tokens(m.get("content") or "") + 4 for m in messages)
    return body + approx_tokens(json.dumps(schema.model_json_schema(), ensure_ascii=False))
