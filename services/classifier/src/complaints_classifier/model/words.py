"""Words of model-normalised text, for similarity: Chinese segmented by jieba, Latin words
and codes (promo codes, model numbers, app versions) kept whole; function words dropped.

Paraphrases of one problem share its words ("优惠码", "无效", "warm0") more reliably than
their character n-grams, which carry each writer's style.
"""

from __future__ import annotations

import logging
import re
from functools import cache

import jieba

_LATIN = re.compile(r"[a-z0-9][a-z0-9.'-]*")
_SKIP = re.compile(r"[\W_]+")
_STOP_WORDS = (
    "的 了 是 我 你 您 们 他 她 它 在 也 都 就 还 又 吗 呢 啊 吧 呀 哦 和 与 及 这 那 个 一 不 有 "
    "没 没有 被 把 给 到 说 要 会 能 可以 怎么 什么 为什么 请 谢谢 你们 我们 今天 已经 一直 "
    "the a an to is i my me it of and in on for was this that you your with have has be "
    "are not no but at so we our they them he she his her its do did does am or if as by from"
)
STOP = frozenset(_STOP_WORDS.split())


@cache
def _tokenizer() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    return tokenizer


def words(text: str) -> list[str]:
    out: list[str] = []
    for word in _tokenizer().lcut(text, HMM=False):
        word = word.strip()
        if word and word not in STOP and not _SKIP.fullmatch(word):
            out.append(word)
    return out
