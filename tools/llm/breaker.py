"""Model failures, in words and counted: a readable reason per failed call, and a per-run breaker.

A model call is already bounded by the client (timeout, `max_retries`; tools/llm/factory.py). When
it still fails, `describe_model_error` says why in one line a person can read ("the model server
answered HTTP 500: …", "the model did not answer within 60 s"), never a traceback or a raw
exception dump. `ModelBreaker` counts consecutive failed calls in one run: once it is open, the
rest of that run uses the offline engine instead of waiting for more timeouts and retries, and
says so (`note`). A success closes it again; a new run starts with a fresh one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

_DETAIL_LIMIT = 120


def _one_line(text: str, limit: int = _DETAIL_LIMIT) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _seconds(timeout: Any) -> str | None:
    if isinstance(timeout, int | float) and not isinstance(timeout, bool):
        return f"{timeout:g} s"
    return None


def describe_model_error(err: BaseException, *, timeout: Any = None) -> str:
    """One line saying why a model call failed (after the client's own retries)."""
    try:
        import openai
    except ImportError:  # pragma: no cover - langchain-openai brings openai
        openai = None  # type: ignore[assignment]
    if openai is not None:
        if isinstance(err, openai.APITimeoutError):
            within = _seconds(timeout)
            return (
                f"the model did not answer within {within}" if within else "the model did not answer in time"
            )
        if isinstance(err, openai.APIConnectionError):
            return "the model server could not be reached"
        if isinstance(err, openai.APIStatusError):
            body = err.body if isinstance(err.body, dict) else {}
            nested = body.get("error")
            detail = body.get("message") or (nested.get("message") if isinstance(nested, dict) else nested)
            text = f"the model server answered HTTP {err.status_code}"
            return f"{text}: {_one_line(str(detail))}" if detail else text
    if isinstance(err, TimeoutError):
        within = _seconds(timeout)
        return f"the model did not answer within {within}" if within else "the model did not answer in time"
    return _one_line(f"{type(err).__name__}: {err}")


@dataclass
class ModelBreaker:
    """Consecutive failed model calls in one run; open (skip the model) at `threshold`."""

    threshold: int = 3
    failures: int = 0
    reason: str | None = None  # why the last call failed

    @property
    def open(self) -> bool:
        return self.failures >= self.threshold

    def failed(self, reason: str) -> None:
        self.failures += 1
        self.reason = reason

    def succeeded(self) -> None:
        self.failures = 0
        self.reason = None

    def note(self) -> str:
        """What the run says about it once open."""
        calls = "call" if self.failures == 1 else "calls"
        return (
            f"the model failed {self.failures} {calls} in a row ({self.reason or 'no reason given'}); "
            "the rest of this run was written offline"
        )
