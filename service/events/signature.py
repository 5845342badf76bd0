"""Check Asana's `X-Hook-Signature` (hex HMAC-SHA256 of the raw body) without leaking timing.

Unlike a bare `compare_digest(str, str)`, this never raises on odd input (non-ASCII headers, the
wrong length), so every malformed signature ends in the same 401 as a wrong one.
"""

from __future__ import annotations

import hashlib
import hmac
import string
from collections.abc import Iterable
from enum import StrEnum

_HEX = frozenset(string.hexdigits)
SIGNATURE_HEX_LEN = 64


class SignatureProblem(StrEnum):
    MISSING = "missing_signature"
    MALFORMED = "malformed_signature"
    MISMATCH = "bad_signature"


def compute(secret: str, body: bytes) -> str:
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def check(
    secrets: Iterable[str], body: bytes, header: str | None
) -> tuple[int | None, SignatureProblem | None]:
    """The index of the secret that signed `body`, or the reason none did.

    Every candidate secret is compared (no early exit), so the time taken does not tell which
    subscription, if any, matched.
    """
    if header is None or not header.strip():
        return None, SignatureProblem.MISSING
    given = header.strip().lower()
    if len(given) != SIGNATURE_HEX_LEN or not set(given) <= _HEX:
        return None, SignatureProblem.MALFORMED
    given_bytes = given.encode("ascii")
    match: int | None = None
    for index, secret in enumerate(secrets):
        if hmac.compare_digest(compute(secret, body).encode("ascii"), given_bytes) and match is None:
            match = index
    return (match, None) if match is not None else (None, SignatureProblem.MISMATCH)
