"""The output guard: model-written text is checked before it can reach Asana or an approval request.

A model's answer is untrusted output (task text the model read may carry injected instructions,
and a careless model invents). `check_output` reads every string of a filled schema and reports:

- `link`: a URL (any scheme), `www.`, `mailto:`, a markdown or HTML link, or a bare domain;
- `mention`: an `@name` or an e-mail address (Asana turns profile links and @mentions into
  notifications; an agent's text never needs one);
- `approval_claim`: "approved", "LGTM", "ok to merge", "no approval needed", … (only a human, through
  an approval surface, approves anything);
- `number`: a number that is not in the run's inputs (the variables the writer was given) nor in the
  offline writer's text for the same inputs (the computed facts, e.g. a percentage of capacity).

`LanguageEngine.write` (tools/llm/engine.py), the one place all model text passes through, asks
the guard about every answer (fresh or replayed from the cache); on any violation the offline
writer's text is used instead, the event is logged and counted here. The counters are in-process
(`guard_counts()`, thread-safe) so `/metrics` can export them; a worker and the API each count
their own runs.
"""

from __future__ import annotations

import json
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel

Kind = Literal["link", "mention", "approval_claim", "number"]
KINDS: tuple[Kind, ...] = ("link", "mention", "approval_claim", "number")
_EXCERPT = 60

# Top-level domains that make a bare `name.tld` a link (phishing favourites and the common ones).
_TLDS = frozenset(
    {
        "com", "net", "org", "io", "co", "ai", "app", "dev", "info", "biz", "xyz", "ru", "cn", "ly", "gl",
        "cc", "tk", "top", "site", "online", "link", "click", "zip", "mov", "gov", "edu", "uk", "de",
        "fr", "eu", "tv", "club", "live", "shop", "store", "page", "cloud", "tech", "host", "website",
        "space", "me", "su", "ws"
    }
)  # fmt: skip
_FILE_EXTENSIONS = frozenset(
    {
        "js", "ts", "jsx", "tsx", "py", "md", "json", "yaml", "yml", "toml", "css", "htm", "html", "go",
        "rs", "java", "kt", "rb", "php", "sh", "txt", "csv", "sql"
    }
)  # fmt: skip
# Links: cheap substring tests first, then a few small patterns (one big alternation is ~40x slower).
_SCHEMES = ("://", "www.", "href")
_PSEUDO_SCHEME = re.compile(r"\b(?:mailto|javascript|vbscript|data):(?=[^\s])", re.IGNORECASE)
_MD_LINK = re.compile(r"\]\s*\(")
_ANCHOR = re.compile(r"<\s*a[\s>]", re.IGNORECASE)
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}(?::\d+|/)")  # an IP address with a port or path
# A host name's last label: `x.com` (a known top-level domain) or `evil.example/login` (a path).
_DOTTED = re.compile(r"\.(?<=[a-z0-9]\.)([a-z][a-z0-9\-]{0,23})\b(?![.\-]?[a-z0-9])(/\S)?", re.IGNORECASE)
_MENTION = re.compile(r"[\w.+\-]+[@＠][\w\-]+(?:\.[\w\-]+)+|(?<![\w@＠])[@＠]\w[\w.\-]*")
_APPROVAL_WORDS = (
    "approv",
    "lgtm",
    "looks good",
    "sign",
    "merge",
    "ship",
    "green",
    "rubber",
    "authori",
    "review",
)
_APPROVAL = re.compile(
    r"\b(?:pre-?|auto-?|self-?)?approved\b"
    r"|\bapproval\s+(?:is\s+|was\s+|has\s+been\s+|already\s+)*(?:granted|given|received|obtained|confirmed|done)\b"
    r"|\bno\s+(?:further\s+|human\s+|manual\s+)?(?:approval|review|sign-?off)\s+(?:is\s+)?(?:needed|required|necessary)\b"
    r"|\b(?:does\s+not|doesn't|do\s+not|don't|need\s+not|needn't)\s+need\s+(?:an?\s+|any\s+)?(?:approval|review|sign-?off)\b"
    r"|\bskip(?:ping)?\s+(?:the\s+)?(?:approval|review)\b"
    r"|\blgtm\b|\blooks\s+good\s+to\s+me\b"
    r"|\bsigned[\s\-]?off\b|\bsign[\s\-]?off\s+(?:given|granted|done)\b"
    r"|\b(?:ok(?:ay)?|good|ready|cleared|safe|fine)\s+to\s+(?:merge|ship|deploy|apply|release)\b"
    r"|\bmerge\s+(?:it|this|now|away)\b|\bship\s+it\b"
    r"|\bgreen-?(?:lit|lighted)\b|\brubber-?stamped\b|\bauthori[sz]ed\s+by\b",
    re.IGNORECASE,
)
# 1,234 (thousands), 12.5, or 1,2 (two numbers); signs are ignored (a slack of -3 is "3 days late").
# The inputs' JSON is scanned for ASCII digits (fast); a model's text for any digit (Unicode).
_INPUT_NUMBER = re.compile(r"[0-9][0-9,]*(?:\.[0-9]+)?")
_NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")
_THOUSANDS = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")


def _link(text: str) -> tuple[int, int] | None:
    low = text.lower()
    for marker in _SCHEMES:
        at = low.find(marker)
        if at >= 0:
            return at, at + len(marker)
    for pattern, needed in ((_PSEUDO_SCHEME, ":"), (_MD_LINK, "]"), (_ANCHOR, "<"), (_IP, ".")):
        if needed in text and (m := pattern.search(text)):
            return m.span()
    for m in _DOTTED.finditer(low):
        label = m.group(1)
        if label in _TLDS or (m.group(2) and label not in _FILE_EXTENSIONS):
            return m.span()
    return None


def _mention(text: str) -> tuple[int, int] | None:
    m = _MENTION.search(text) if "@" in text or "＠" in text else None
    return m.span() if m else None


def _approval_claim(text: str) -> tuple[int, int] | None:
    low = text.lower()
    m = _APPROVAL.search(text) if any(w in low for w in _APPROVAL_WORDS) else None
    return m.span() if m else None


@dataclass(frozen=True)
class Violation:
    kind: Kind
    field: str  # where in the answer, e.g. "summary" or "risks[1]"
    excerpt: str  # the offending piece (for the log only; never written anywhere else)

    def describe(self) -> str:
        return f"{self.kind} in {self.field}: {self.excerpt!r}"


# --- numbers -------------------------------------------------------------------------------------


def _canon(x: float) -> str:
    r = round(x, 2)
    return str(int(r)) if float(r).is_integer() else f"{r:.2f}".rstrip("0").rstrip(".")


def _values(token: str) -> list[float]:
    """The numbers a token states: "1,234" is one, "3,5" or "1,2," are several."""
    if _THOUSANDS.fullmatch(token):
        return [float(token.replace(",", ""))]
    return [float(part) for part in token.split(",") if part]


@lru_cache(maxsize=8192)
def _forms(x: float) -> frozenset[str]:
    """The ways a writer may state `x`: as is, rounded, floored/ceiled, and as a percentage."""
    if not math.isfinite(x):
        return frozenset()
    a = abs(x)
    if a.is_integer():
        return frozenset({_canon(a), _canon(a * 100)} if a <= 1 else {_canon(a)})
    out = {_canon(a), _canon(round(a)), _canon(round(a, 1)), _canon(math.floor(a)), _canon(math.ceil(a))}
    if a <= 1:
        pct = a * 100
        out |= {_canon(pct), _canon(round(pct)), _canon(round(pct, 1))}
    return frozenset(out)


def _counts(value: Any, found: set[str]) -> None:
    """How many items each list holds: a count of listed items is a computed fact."""
    if type(value) is dict:
        for v in value.values():
            if type(v) is dict or type(v) is list:
                _counts(v, found)
    elif type(value) is list:
        found |= _forms(float(len(value)))
        for v in value:
            if type(v) is dict or type(v) is list:
                _counts(v, found)


def allowed_numbers(*sources: Any) -> frozenset[str]:
    """Every number the sources state (canonical strings, keys and texts included, e.g. "p85" or a
    date), in the forms a writer may use, and the length of every list in them."""
    found: set[str] = set()
    for source in sources:
        data = source.model_dump(mode="json") if isinstance(source, BaseModel) else source
        # One pass over the JSON text: numbers, numbers inside strings and keys alike.
        try:
            text = json.dumps(data, ensure_ascii=False, default=str)
        except (TypeError, ValueError):  # e.g. a key that is not a string
            text = str(data)
        for token in set(_INPUT_NUMBER.findall(text)):
            for x in _values(token):
                found |= _forms(x)
        _counts(data, found)
    return frozenset(found)


# --- the check -----------------------------------------------------------------------------------


def text_fields(output: BaseModel | Mapping[str, Any]) -> Iterator[tuple[str, str]]:
    """(path, text) of every string in a filled schema."""
    data = output.model_dump(mode="json") if isinstance(output, BaseModel) else output

    def walk(value: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(value, str):
            yield path, value
        elif isinstance(value, Mapping):
            for k, v in value.items():
                yield from walk(v, f"{path}.{k}" if path else str(k))
        elif isinstance(value, list | tuple):
            for i, v in enumerate(value):
                yield from walk(v, f"{path}[{i}]")

    yield from walk(data, "")


def _excerpt(text: str, start: int, end: int) -> str:
    piece = text[max(0, start - 10) : min(len(text), end + 20)]
    line = " ".join(piece.split())
    return line if len(line) <= _EXCERPT else line[: _EXCERPT - 1] + "…"


def _plain(text: str) -> str:
    """Compatibility forms folded (fullwidth `＠`, `：／／`, digits) and invisible format characters
    (zero-width spaces, joiners) dropped, so a link is seen as it renders."""
    folded = unicodedata.normalize("NFKC", text)
    if folded.isascii():
        return folded
    return "".join(c for c in folded if unicodedata.category(c) != "Cf")


def check_text(text: str, path: str, numbers: frozenset[str]) -> list[Violation]:
    text = _plain(text)
    out: list[Violation] = []
    for kind, find in (("link", _link), ("mention", _mention), ("approval_claim", _approval_claim)):
        span = find(text)
        if span is not None:
            out.append(Violation(kind, path, _excerpt(text, *span)))  # type: ignore[arg-type]
    for m in _NUMBER.finditer(text):
        if any(_canon(x) not in numbers for x in _values(m.group(0))):
            out.append(Violation("number", path, _excerpt(text, m.start(), m.end())))
            break
    return out


def check_output(
    output: BaseModel | Mapping[str, Any],
    inputs: Mapping[str, Any],
    reference: BaseModel | Mapping[str, Any] | None = None,
) -> list[Violation]:
    """What is wrong with a model's answer: links, mentions, approval claims, and numbers that
    neither the inputs nor the `reference` (the offline writer's answer to the same inputs) state."""
    numbers = allowed_numbers(inputs, reference) if reference is not None else allowed_numbers(inputs)
    found: list[Violation] = []
    for path, text in text_fields(output):
        found += check_text(text, path, numbers)
    return found


def describe_kinds(kinds: Iterable[str]) -> str:
    """'a link and an approval claim' (the fallback label: fixed words, never the model's text)."""
    words = {
        "link": "a link",
        "mention": "a mention",
        "approval_claim": "an approval claim",
        "number": "a number not in the inputs",
    }
    named = [words[k] for k in KINDS if k in set(kinds)]
    if len(named) <= 1:
        return "".join(named)
    return ", ".join(named[:-1]) + " and " + named[-1]


# --- counters ------------------------------------------------------------------------------------


@dataclass
class GuardCounts:
    """A snapshot: answers checked and rejected per prompt, violations per (prompt, kind)."""

    checked: dict[str, int] = field(default_factory=dict)
    rejected: dict[str, int] = field(default_factory=dict)
    violations: dict[tuple[str, str], int] = field(default_factory=dict)

    @property
    def total_checked(self) -> int:
        return sum(self.checked.values())

    @property
    def total_rejected(self) -> int:
        return sum(self.rejected.values())

    def by_kind(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for (_, kind), n in self.violations.items():
            out[kind] = out.get(kind, 0) + n
        return out


class _Counter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = GuardCounts()

    def record(self, prompt_id: str, violations: list[Violation]) -> None:
        with self._lock:
            c = self._counts
            c.checked[prompt_id] = c.checked.get(prompt_id, 0) + 1
            if violations:
                c.rejected[prompt_id] = c.rejected.get(prompt_id, 0) + 1
                for kind in {v.kind for v in violations}:
                    key = (prompt_id, kind)
                    c.violations[key] = c.violations.get(key, 0) + 1

    def snapshot(self) -> GuardCounts:
        with self._lock:
            c = self._counts
            return GuardCounts(dict(c.checked), dict(c.rejected), dict(c.violations))

    def reset(self) -> None:
        with self._lock:
            self._counts = GuardCounts()


_COUNTER = _Counter()


def guard_counts() -> GuardCounts:
    """This process's counts since start (or the last reset): for `/metrics` and tests."""
    return _COUNTER.snapshot()


def reset_guard_counts() -> None:
    _COUNTER.reset()


class OutputGuard:
    """Checks one answer and counts the result (`LanguageEngine.guard`)."""

    def check(
        self,
        prompt_id: str,
        output: BaseModel,
        inputs: Mapping[str, Any],
        reference: BaseModel | None = None,
    ) -> list[Violation]:
        found = check_output(output, inputs, reference)
        _COUNTER.record(prompt_id, found)
        return found
