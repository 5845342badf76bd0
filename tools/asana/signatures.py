"""Webhook delivery signatures: `X-Hook-Signature` is hex HMAC-SHA256 of the raw body keyed by
the handshake secret. Compare in constant time, always on the raw bytes as received."""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: str | bytes, body: bytes) -> str:
    key = secret.encode() if isinstance(secret, str) else secret
    return hmac.new(key, body, hashlib.sha256).hexdigest()


def verify(secret: str | bytes | None, body: bytes, signature: str | None) -> bool:
    if not secret or not signature:
        return False
    return hmac.compare_digest(sign(secret, body), signature.strip().lower())
