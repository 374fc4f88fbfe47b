"""HMAC-SHA256 request signing shared by the bot and the backend (both directions).

Signature = hex(HMAC-SHA256(secret, "<timestamp>.<raw body>")), sent as
`X-Minsheng-Signature: sha256=<hex>` with `X-Minsheng-Timestamp: <unix seconds>`. A receiver
refuses a signature that does not match or a timestamp outside its window (replays).
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

TIMESTAMP = "X-Minsheng-Timestamp"
SIGNATURE = "X-Minsheng-Signature"
WINDOW_S = 300


def sign(secret: str, body: bytes, timestamp: int | None = None) -> dict[str, str]:
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    mac = hmac.new(secret.encode(), stamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return {TIMESTAMP: stamp, SIGNATURE: f"sha256={mac}"}


def verify(secret: str, headers: Mapping[str, str], body: bytes, window_s: int = WINDOW_S) -> bool:
    stamp, given = headers.get(TIMESTAMP, ""), headers.get(SIGNATURE, "")
    if not secret or not stamp.isdigit() or not given.startswith("sha256="):
        return False
    if abs(time.time() - int(stamp)) > window_s:
        return False
    expected = sign(secret, body, int(stamp))[SIGNATURE]
    return hmac.compare_digest(expected, given)
