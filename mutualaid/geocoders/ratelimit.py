"""A minimum delay between geocoder calls, shared by every process through Redis.

rq forks a new work horse per job and the web server runs several processes, so geopy's
in-process `RateLimiter` would not hold: the next free time slot is kept in Redis instead and
reserved atomically (a small Lua script on the Redis server's own clock).
"""

from __future__ import annotations

import logging
import threading
import time
from typing import ClassVar

from ..control_flow import CONTROL_FLOW

log = logging.getLogger(__name__)

# KEYS[1]: the slot key. ARGV[1]: delay in ms; ARGV[2]: longest acceptable wait in ms.
# Returns the wait in ms before the caller may go, or -1 (nothing reserved) when that is longer.
_RESERVE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local free = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, free)
if slot - now > tonumber(ARGV[2]) then
  return -1
end
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', tonumber(ARGV[1]) + 60000)
return slot - now
"""


class RateLimited(Exception):
    """The next free slot is further away than the caller is willing to wait."""


class SharedRateLimiter:
    """Reserve a call slot at least `min_delay` seconds after the previous one (any process)."""

    _local_lock = threading.Lock()
    _local_next: ClassVar[dict[str, float]] = {}

    def __init__(self, redis, key: str, min_delay: float) -> None:
        self.redis = redis
        self.key = key
        self.min_delay = max(0.0, float(min_delay))

    def wait(self, max_wait: float = 3600.0) -> float:
        """Sleep until this caller's slot; returns the seconds waited. RateLimited if too far."""
        if self.min_delay <= 0:
            return 0.0
        try:
            waited_ms = self.redis.eval(
                _RESERVE, 1, self.key, int(self.min_delay * 1000), int(max_wait * 1000)
            )
            delay = float(waited_ms) / 1000
        except CONTROL_FLOW:
            raise
        except Exception:  # Redis down: at least keep this process polite
            log.warning("shared rate limit unavailable; limiting this process only", exc_info=True)
            delay = self._reserve_locally(max_wait)
        if delay < 0:
            raise RateLimited(f"next geocoder slot is more than {max_wait:.1f}s away")
        if delay:
            time.sleep(delay)
        return delay

    def _reserve_locally(self, max_wait: float) -> float:
        with self._local_lock:
            now = time.monotonic()
            slot = max(now, self._local_next.get(self.key, 0.0))
            if slot - now > max_wait:
                return -1.0
            self._local_next[self.key] = slot + self.min_delay
            return slot - now
