"""Typographic cues of mood for the trained classifier: exclamation and question marks, ellipses,
capitals, emoji and ASCII emoticons, as six numbers in 0..1.

The n-grams see these characters too, but only as many rare, separate features; one dense column
each lets a small training set learn "an emoji anywhere" or "shouting" at once. Computed on the raw
text: cleaning would remove some of the cues.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

# Pictographs, dingbats and miscellaneous symbols (the Unicode blocks emoji live in).
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf]")
# An emoticon standing on its own: not the ":/" of a URL or the "=(" of code.
_EMOTICON = re.compile(r"(?<!\S)(?:[:;=]-?[()DPp/|]|<3|\^_\^)(?![\w/])")
STYLE_FEATURES = 6


def style_row(text: str) -> list[float]:
    letters = [c for c in text if c.isalpha()]
    capitals = sum(c.isupper() for c in letters) / max(len(letters), 1)
    return [
        min(text.count("!"), 3) / 3,
        min(text.count("?"), 3) / 3,
        1.0 if "..." in text else 0.0,
        capitals,
        1.0 if _EMOJI.search(text) else 0.0,
        1.0 if _EMOTICON.search(text) else 0.0,
    ]


def style_features(texts: Sequence[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    """One row of `STYLE_FEATURES` values per text."""
    return np.asarray([style_row(t) for t in texts], dtype=float).reshape(len(texts), STYLE_FEATURES)
