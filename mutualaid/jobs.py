"""Background jobs: thin top-level functions that take ids and call a service."""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def ping(token: str) -> dict:
    """Answer a probe: proves a worker is alive and runs jobs from this codebase."""
    log.info("ping %s", token)
    return {"pong": token, "pid": os.getpid()}
