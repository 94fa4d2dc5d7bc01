"""Reference values for the contract tests: the key, the clock and the towns."""

import hashlib
import hmac
from datetime import datetime

KEY = b"k" * 32
# 2026-11-27T10:00:00+08:00
NOW_MS = int(datetime.fromisoformat("2026-11-27T10:00:00+08:00").timestamp() * 1000)

TOWNS = [
    {"name": "鼓楼街道", "kind": "街道", "approx_lat": 40.376, "approx_lon": 116.845},
    {"name": "十里堡镇", "kind": "镇", "approx_lat": 40.330, "approx_lon": 116.840},
]


def token(kind: str, canonical: str) -> str:
    """A token's tail after its prefix: ``v1_`` and 24 hex digits of HMAC-SHA256(KEY, kind:canonical).

    KEY is a chain of one key, so tokens are of version 1.
    """
    digest = hmac.new(KEY, f"{kind}:{canonical}".encode(), hashlib.sha256).hexdigest()
    return "v1_" + digest[:24]
