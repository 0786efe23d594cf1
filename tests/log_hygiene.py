"""Log hygiene over the whole test run: no email address, phone number or home address in any
log line, whoever wrote it, and no secret (reset/confirmation/export link token, API token).

A handler on the root logger sees every record the code emits at INFO and above (the level
production logs at) BEFORE any formatter's `scrub()` masks it: the point is that code never
logs personal data, not that a last line of defence hides it. Worker subprocesses write their
(already scrubbed) logs to files under pytest's temporary folder; there a scrub mark
("[email]", "[phone]") or an address is the leak. At the end, the run fails and names each
logger and message that leaked.

Hooked in from `tests/conftest.py`. `pytest -p no:...` cannot switch it off; set
`MUTUALAID_LOG_HYGIENE=0` to look at other failures first.
"""

from __future__ import annotations

import logging
import os
import re
from pathlib import Path

import pytest

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PHONE = re.compile(r"(?<![\w.:/-])(?:\+31|0031|0)[\s-]?[1-9](?:[\s-]?\d){7,8}(?![\w.:-])")
POSTCODE = re.compile(r"(?<![\w.-])[1-9]\d{3} ?(?!SS|SD|SA)[A-Z]{2}(?![\w-])")
STREET = re.compile(
    r"\b[A-Z][a-z]+(?:straat|weg|laan|plein|kant|singel|dijk|hof|steeg|gracht|pad)\s+\d+"
)
# Secrets: the token in a reset, email-confirmation or export link, and API bearer tokens.
TOKEN = re.compile(
    r"/(?:password/reset|confirm|export)/(?!\[token\])[\w-]{16,}|(?<![\w])ma_[\w-]{20,}"
)
PATTERNS = {
    "email": EMAIL,
    "phone": PHONE,
    "postcode": POSTCODE,
    "street": STREET,
    "token": TOKEN,
}
SCRUB_MARKS = re.compile(r"\[(email|phone)\]")
# Log files our own processes write in the tests (worker, web server, `make run`); a line is a
# log record when it starts with a time stamp (text) or is a JSON object. What a command prints
# for its user (the demo accounts `seed-demo` lists) is console output, not a log.
OUR_LOG_FILES = ("worker.log", "web.log", "devserver.log")
LOG_RECORD = re.compile(r"^(\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}|\d{2}:\d{2}:\d{2} |\{\")")
MAX_REPORTED = 50
# Loggers of test stand-ins for the outside world, not of the product: the local SMTP server
# (aiosmtpd) logs the recipients it receives, as a real mail provider would in its own logs.
IGNORED_LOGGERS = ("mail.log",)


def find_personal_data(text: str) -> list[str]:
    """The kinds of personal data found in a log text, with what matched."""
    return [f"{kind} {m.group(0)!r}" for kind, rx in PATTERNS.items() for m in rx.finditer(text)]


class HygieneHandler(logging.Handler):
    """Collects (test, logger, message, what leaked) for records carrying personal data."""

    def __init__(self) -> None:
        super().__init__(level=logging.INFO)
        self.leaks: list[tuple[str, str, str, list[str]]] = []
        self.current_test = "(collection)"

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith(IGNORED_LOGGERS):
            return
        try:
            text = record.getMessage()
        except Exception:  # a broken format string is not our concern here
            text = str(record.msg)
        if record.exc_info and record.exc_info[1] is not None:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        found = find_personal_data(text)
        if found:
            self.leaks.append((self.current_test, record.name, text[:300], found))


_handler = HygieneHandler()


def _enabled() -> bool:
    return os.environ.get("MUTUALAID_LOG_HYGIENE", "1") != "0"


def pytest_sessionstart(session: pytest.Session) -> None:
    if not _enabled():
        return
    root = logging.getLogger()
    root.addHandler(_handler)
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)  # what production logs; tests see the same records


def pytest_runtest_setup(item: pytest.Item) -> None:
    _handler.current_test = item.nodeid


def _worker_log_leaks(session: pytest.Session) -> list[tuple[str, str, str, list[str]]]:
    factory = getattr(session.config, "_tmp_path_factory", None)
    if factory is None:
        return []
    try:
        base = Path(factory.getbasetemp())
    except Exception:
        return []
    leaks = []
    paths = sorted(p for name in OUR_LOG_FILES for p in base.rglob(name))
    for path in paths:
        for line in path.read_text(errors="replace").splitlines():
            if not LOG_RECORD.match(line):
                continue
            found = find_personal_data(line) + [
                f"scrubbed {m.group(1)}" for m in SCRUB_MARKS.finditer(line)
            ]
            if found:
                leaks.append((str(path.relative_to(base)), "worker log file", line[:300], found))
    return leaks


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if not _enabled():
        return
    logging.getLogger().removeHandler(_handler)
    _handler.leaks.extend(_worker_log_leaks(session))
    if _handler.leaks and session.exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter) -> None:
    if not _handler.leaks:
        return
    write = terminalreporter.write_line
    terminalreporter.section("log hygiene: personal data in the logs", red=True)
    for where, logger, message, found in _handler.leaks[:MAX_REPORTED]:
        write(f"{where} · {logger}: {', '.join(found)}")
        write(f"    {message!r}")
    if len(_handler.leaks) > MAX_REPORTED:
        write(f"... and {len(_handler.leaks) - MAX_REPORTED} more")
    write(f"log hygiene fails the run: {len(_handler.leaks)} log line(s) with personal data")
