"""Signatures of webhook deliveries: HMAC-SHA256 over a timestamp and the body.

A delivery carries three headers:

* ``X-Zongzhi-Delivery``: its idempotency key, the same on every retry, so
  that a receiver that saw it once can ignore it;
* ``X-Zongzhi-Timestamp``: the Unix time of this attempt, in seconds;
* ``X-Zongzhi-Signature``: ``v1=`` and the hex HMAC-SHA256, under the
  subscription's secret, of ``<timestamp>.<body>``.

A receiver recomputes the signature over the bytes it received and refuses
a timestamp too far from its clock, which stops replays of old deliveries.

>>> headers = signed_headers("s3cret", "d-1", b'{"a":1}', now_s=1_765_000_000)
>>> headers["X-Zongzhi-Signature"]
'v1=f54d269257fc57d4e645d2742512e7d2cca0c852f18441066c457b735c9b4e43'
>>> signature_valid("s3cret", headers, b'{"a":1}', now_s=1_765_000_100)
True
>>> signature_valid("s3cret", headers, b'{"a":2}', now_s=1_765_000_100)
False
"""

from __future__ import annotations

import hashlib
import hmac

__all__ = ["REPLAY_TOLERANCE_S", "signature", "signed_headers", "signature_valid"]

#: How far a receiver should accept a delivery's timestamp from its own clock.
REPLAY_TOLERANCE_S = 300


def signature(secret: str, timestamp_s: int, body: bytes) -> str:
    """``v1=`` and the hex HMAC-SHA256 of ``<timestamp>.<body>`` under ``secret``."""
    mac = hmac.new(secret.encode(), f"{timestamp_s}.".encode() + body, hashlib.sha256)
    return "v1=" + mac.hexdigest()


def signed_headers(secret: str, delivery_id: str, body: bytes, *, now_s: int) -> dict[str, str]:
    """The headers of one delivery attempt."""
    return {
        "Content-Type": "application/json",
        "X-Zongzhi-Delivery": delivery_id,
        "X-Zongzhi-Timestamp": str(now_s),
        "X-Zongzhi-Signature": signature(secret, now_s, body),
    }


def signature_valid(
    secret: str, headers, body: bytes, *, now_s: int, tolerance_s: int = REPLAY_TOLERANCE_S
) -> bool:
    """Whether a received delivery is signed by ``secret`` and recent (what a receiver checks)."""
    try:
        timestamp = int(headers["X-Zongzhi-Timestamp"])
        given = headers["X-Zongzhi-Signature"]
    except (KeyError, ValueError):
        return False
    if abs(now_s - timestamp) > tolerance_s:
        return False
    return hmac.compare_digest(given, signature(secret, timestamp, body))
