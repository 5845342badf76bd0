"""Text preparation for the trained sentiment classifier: placeholders for technical noise and
negation scope marking.

Issue keys, URLs, paths, code blocks and numbers say nothing about mood but make up many of the
rare n-grams of a Jira comment; one placeholder each lets the classifier share what it learns
across them. Negation marking (prefixing the words after a negator with ``NEG_`` up to the next
punctuation or three words, Das & Chen 2001; Pang et al. 2002) lets a linear model tell
"works" from "not works".
"""

from __future__ import annotations

import re

from tools.sentiment.lexicon import NEGATORS

_CODE_BLOCK = re.compile(r"\{(code|noformat)[^}]*\}.*?\{\1\}", re.S)
_URL = re.compile(r"https?://\S+|\bwww\.\S+")
_ISSUE_KEY = re.compile(r"\b[A-Z][A-Z0-9]+-\d+\b")
_PATH = re.compile(r"\b[\w-]+(?:[./][\w-]+){2,}\b")
_NUMBER = re.compile(r"\b\d[\d.,]*\b")
# Words, the common ASCII emoticons, "+1", and the punctuation that ends a negation scope.
_TOKEN = re.compile(r"[a-z0-9][a-z0-9']*|[:;=][-o']?[()dp/|\\$]|<3|\+1|[.,;!?]")
_SCOPE_END = frozenset(".,;!?")
NEGATION_SCOPE = 3


def clean_text(text: str) -> str:
    """Replace code blocks, URLs, issue keys, dotted paths and numbers by one placeholder each."""
    text = _CODE_BLOCK.sub(" CODEBLOCK ", text)
    text = _URL.sub(" URLTOKEN ", text)
    text = _ISSUE_KEY.sub(" ISSUEKEY ", text)
    text = _PATH.sub(" PATHTOKEN ", text)
    return _NUMBER.sub(" 0 ", text)


def mark_negation(text: str) -> str:
    """Lower-cased tokens separated by spaces, with ``NEG_`` on the words a negator governs."""
    out: list[str] = []
    left = 0
    for tok in _TOKEN.findall(text.lower().replace("\u2019", "'")):
        if tok in _SCOPE_END:
            left = 0
            out.append(tok)
            continue
        out.append(f"NEG_{tok}" if left else tok)
        if tok in NEGATORS:
            left = NEGATION_SCOPE
        elif left:
            left -= 1
    return " ".join(out)
