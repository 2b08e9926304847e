"""Whether a text says something: a report or a problem of just "。" or "有问题" is refused, or it
would count as filed (the on-time rate) while telling nobody anything."""

from __future__ import annotations

import unicodedata

from oversight.errors import InvalidInputError

MEANINGFUL_MIN = 5  # Chinese characters, letters or digits; punctuation and spaces do not count
DISTINCT_MIN = 3  # "啊啊啊啊啊啊" is six characters and says nothing


def meaningful_chars(text: str) -> list[str]:
    """The characters of `text` that carry words: letters (Chinese included) and digits."""
    return [c for c in text if unicodedata.category(c)[0] in "LN"]


def require_content(text: str, *, what: str, ask: str, example: str) -> None:
    """Refuse `text` in Chinese, naming `what`, saying what to write (`ask`) and showing `example`,
    unless it says something."""
    chars = meaningful_chars(text)
    if len(chars) < MEANINGFUL_MIN or len(set(chars)) < DISTINCT_MIN:
        raise InvalidInputError(
            f"{what}过于简单，看不出具体情况（至少写{MEANINGFUL_MIN}个字，标点不计）。请写清{ask}，例如：{example}"
        )
