"""Control flow is never swallowed (issue 10, faults): rq's StopRequested (SIGTERM while the
worker is not busy) and a job's timeout (JobTimeoutException) are `Exception`s, so a broad
`except Exception` on a path a job takes must re-raise them first (`mutualaid.control_flow`).

1. Every broad handler in the package re-raises CONTROL_FLOW before it, re-raises whatever it
   caught, or is on a reviewed list of places no job reaches (web requests, the health check,
   the periodic loop's own process) — a new one fails this test until it is one of those.
2. A notification whose SMTP server never answers, inside rq's real death penalty: the job
   timeout reaches the job (it is not recorded as a failed send and the loop does not carry on
   past its timeout); the claimed row is sent by the retry.
"""

from __future__ import annotations

import ast
import socket
import threading
from pathlib import Path

import pytest
from rq.timeouts import JobTimeoutException, UnixSignalDeathPenalty
from sqlalchemy import select

import mutualaid
from mutualaid.extensions import db
from mutualaid.models import Notification
from mutualaid.models.vocab import channel_mask
from mutualaid.services.notifications import notify
from tests import builders
from tests.smtp_server import local_smtp_server

PACKAGE = Path(mutualaid.__file__).parent
# Broad handlers no job reaches (reviewed): file -> why.
REVIEWED = {
    "services/health.py": "the health check reports every failure (web, CLI)",
    "services/email_confirmation.py": "web request: enqueuing the mail job, Redis down",
    "services/account_mail.py": "web request: enqueuing the mail job, Redis down",
    "services/erasure.py": "web/API request: erasure does not run in a job",
    "services/intake.py": "web/API request: a worker's intake, geocoder down",
    "services/aid.py": "web/API request: a resident's request, geocoder down",
    "web/errors.py": "web request: the error page's rollback",
    "embedded_redis.py": "the development server's Redis, before any worker",
    "logs.py": "a log format string that does not fit its arguments",
    "periodic.py": "the periodic loop's own process (no rq signal handler there)",
}


def _catches_everything(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return handler.type is None or any(
        isinstance(n, ast.Name) and n.id in ("Exception", "BaseException") for n in names
    )


def _names_control_flow(handler: ast.ExceptHandler) -> bool:
    names = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(isinstance(n, ast.Name) and n.id in ("CONTROL_FLOW", "StopRequested") for n in names)


def _reraises(handler: ast.ExceptHandler) -> bool:
    last = handler.body[-1]
    return isinstance(last, ast.Raise) and last.exc is None


def broad_handlers_that_swallow_control_flow() -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        if relative in REVIEWED:
            continue
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if not isinstance(node, ast.Try):
                continue
            guarded = False
            for handler in node.handlers:
                if _names_control_flow(handler):
                    guarded = True
                elif _catches_everything(handler) and not guarded and not _reraises(handler):
                    found.append(f"{relative}:{handler.lineno}")
    return found


def test_every_broad_except_on_a_job_path_lets_control_flow_through():
    assert broad_handlers_that_swallow_control_flow() == []


def test_the_check_finds_a_broad_handler_that_swallows(tmp_path, monkeypatch):
    bad = tmp_path / "bad.py"
    bad.write_text("try:\n    pass\nexcept Exception:\n    pass\n")
    monkeypatch.setattr("tests.integration.test_control_flow.PACKAGE", tmp_path, raising=True)
    assert broad_handlers_that_swallow_control_flow() == ["bad.py:3"]
    bad.write_text("try:\n    pass\nexcept CONTROL_FLOW:\n    raise\nexcept Exception:\n    pass\n")
    assert broad_handlers_that_swallow_control_flow() == []


@pytest.fixture
def silent_smtp():
    """A TCP server that accepts connections and never says a word (a hung mail server)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(8)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    for connection in accepted:
        connection.close()
    server.close()


def test_a_job_timeout_during_a_send_reaches_the_job_and_the_retry_sends(hengelo, silent_smtp):
    hengelo.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=silent_smtp, SMTP_STARTTLS=False)
    hengelo.config.update(SMS_CHANNEL="")
    person = builders.resident(channel_mask=channel_mask(["message"]))
    db.session.commit()
    death_penalty = UnixSignalDeathPenalty(1, JobTimeoutException, job_id="test")
    with pytest.raises(JobTimeoutException), death_penalty:
        notify(person.id, "test", "timeout-key", "Onderwerp", "Tekst")
    db.session.rollback()
    row = db.session.scalar(
        select(Notification).where(Notification.idempotency_key == "timeout-key:email")
    )
    assert row is not None and row.status == "pending"  # claimed, not "failed", not "sent"
    with local_smtp_server(hengelo) as inbox:
        sent = notify(person.id, "test", "timeout-key", "Onderwerp", "Tekst")
        assert [n.channel for n in sent] == ["email"] and len(inbox.wait_for(1)) == 1
    hengelo.config.update(SMTP_HOST="")
