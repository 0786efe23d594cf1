"""Exceptions that steer a worker rather than report a failure.

rq raises `StopRequested` from its SIGTERM handler when the worker is not busy, and the job's
death penalty raises `JobTimeoutException` (a `BaseTimeoutException`) inside a job that runs
over its timeout. Both are `Exception`s: an `except Exception` that means "this call failed,
carry on" would swallow them, and the worker would then ignore SIGTERM or run a job on past
its timeout. Every broad handler on a path a job can take re-raises these first
(`tests/unit/test_control_flow.py` checks that)::

    try:
        ...
    except CONTROL_FLOW:
        raise
    except Exception:
        ...
"""

from __future__ import annotations

from rq.exceptions import StopRequested
from rq.timeouts import BaseTimeoutException

CONTROL_FLOW: tuple[type[BaseException], ...] = (
    StopRequested,
    BaseTimeoutException,
    SystemExit,
    KeyboardInterrupt,
)
