"""Crash-window markers: the short tag that ties an Asana object to its ledger entry.

An action whose ledger entry is still PENDING on a later attempt may have been written just before
the process died (Asana has no idempotency keys). Before writing again the executor asks its kind's
spec to probe Asana (`ActionSpec.probe`): creates are found by name plus this marker in their
notes/text; sections by name in their project; attachments by file name; memberships by reading
the task. Updates, field values and dependency links are idempotent and covered by the stale check.
"""

from __future__ import annotations

MARKER_CHARS = 10


def marker(key: str) -> str:
    """The short, visible tag that ties an Asana object to its ledger entry."""
    return f"⟨sp:{key[:MARKER_CHARS]}⟩"


def with_marker(text: str, key: str) -> str:
    mark = marker(key)
    if mark in text:
        return text
    return f"{text.rstrip()}\n\n{mark}" if text.strip() else mark
