"""Secrets and personal data stay out of the logs: SMS texts, reset/confirmation links and
the secrets in request lines. Development keeps a usable path (the dev outbox folder);
production has none."""

from __future__ import annotations

import logging

import pytest

from mutualaid.channels import LogSmsChannel, masked_phone
from mutualaid.config import ConfigError, load_config
from mutualaid.dev_outbox import read_dev_outbox
from mutualaid.services.account_mail import send_password_reset
from mutualaid.services.accounts import create_user
from tests.log_hygiene import find_personal_data

LINK = "http://example.test/auth/password/reset/{token}"


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


LOGGERS = ("mutualaid.channels", "mutualaid.services.account_mail", "werkzeug")


@pytest.fixture
def records():
    """What reaches the root logger. The loggers under test are switched on for the test: an
    earlier test's logging.config (alembic's fileConfig) may have disabled existing loggers."""
    handler = Records()
    root = logging.getLogger()
    root.addHandler(handler)
    loggers = [logging.getLogger(name) for name in LOGGERS]
    saved = [(logger.disabled, logger.level) for logger in loggers]
    for logger in loggers:
        logger.disabled = False
        logger.setLevel(logging.INFO)
    try:
        yield handler.messages
    finally:
        root.removeHandler(handler)
        for logger, (disabled, level) in zip(loggers, saved, strict=True):
            logger.disabled, logger.level = disabled, level


@pytest.fixture
def outbox(app_ctx, tmp_path):
    saved = {k: app_ctx.config[k] for k in ("DEV_OUTBOX_PATH", "SMTP_HOST", "ENV_NAME")}
    app_ctx.config.update(DEV_OUTBOX_PATH=str(tmp_path / "outbox"), SMTP_HOST="")
    try:
        yield app_ctx.config
    finally:
        app_ctx.config.update(saved)


def test_the_log_sms_channel_logs_a_masked_number_and_keeps_the_text_out(outbox, records):
    text = "Ophaalcode 4711 voor Anna de Vries"
    LogSmsChannel(outbox).deliver("06 1234 5678", text)
    logged = " ".join(records)
    assert "SMS sent" in logged and "…78" in logged
    assert "4711" not in logged and "Anna" not in logged and "1234" not in logged
    assert find_personal_data(logged) == []
    # The developer finds the text in the outbox instead.
    (message,) = read_dev_outbox(outbox)
    assert text in message


def test_masked_phone_keeps_two_digits():
    assert masked_phone("+31 6 1234 5678") == "…78"
    assert masked_phone("") == "…"


def test_a_reset_mail_without_smtp_goes_to_the_outbox_and_its_link_not_to_the_log(outbox, records):
    user = create_user("outbox@example.org", "een-lang-wachtwoord", "resident", "Otto")
    assert send_password_reset(user.id, LINK) is False  # not sent: there is no SMTP
    (message,) = read_dev_outbox(outbox)
    link = next(line for line in message.splitlines() if line.startswith("http"))
    assert "/auth/password/reset/" in link and len(link) > len(LINK)
    logged = " ".join(records)
    assert "written to" in logged
    assert link.rsplit("/", 1)[1] not in logged
    assert find_personal_data(logged) == []


def test_production_has_no_outbox_and_logs_no_link(outbox, records):
    outbox.update(ENV_NAME="production")
    user = create_user("prod@example.org", "een-lang-wachtwoord", "resident", "Piet")
    assert send_password_reset(user.id, LINK) is False
    assert read_dev_outbox(outbox) == []
    assert any("could not be sent" in m for m in records)
    assert not any("/reset/" in m for m in records)


def test_request_lines_lose_the_secret_of_a_link_before_any_handler_sees_them(app_ctx, records):
    secret = "Zr3x_9kQ-pL2mN8vT4wY1aB6cD0eF7gH5jK"
    access = logging.getLogger("werkzeug")
    access.info('%s - - "%s" %s -', "127.0.0.1", f"GET /auth/password/reset/{secret} HTTP/1.1", 200)
    access.info('%s - - "%s" %s -', "127.0.0.1", f"GET /auth/confirm/{secret} HTTP/1.1", 302)
    invite = f"GET /mijn/kennen/bevestigen?code={secret}&lang=nl HTTP/1.1"
    access.info('%s - - "%s" %s -', "127.0.0.1", invite, 200)
    logged = [m for m in records if "HTTP/1.1" in m]
    assert len(logged) == 3
    assert "?code=[token]&lang=nl" in logged[-1]
    assert all(secret not in m and "[token]" in m for m in logged)


def _production(monkeypatch):
    monkeypatch.setenv("MUTUALAID_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://db/x")
    monkeypatch.setenv("REDIS_URL", "redis://r:6379/0")


def test_production_config_refuses_the_dev_outbox_and_the_log_sms_channel(monkeypatch, tmp_path):
    _production(monkeypatch)
    assert load_config(instance_path=tmp_path)["DEV_OUTBOX_PATH"] == ""
    monkeypatch.setenv("DEV_OUTBOX_PATH", str(tmp_path))
    with pytest.raises(ConfigError, match="DEV_OUTBOX_PATH"):
        load_config(instance_path=tmp_path)
    monkeypatch.delenv("DEV_OUTBOX_PATH")
    monkeypatch.setenv("SMS_CHANNEL", "mutualaid.channels.LogSmsChannel")
    with pytest.raises(ConfigError, match="LogSmsChannel"):
        load_config(instance_path=tmp_path)


def test_development_has_an_outbox_under_instance(monkeypatch, tmp_path):
    monkeypatch.delenv("MUTUALAID_ENV", raising=False)
    monkeypatch.delenv("DEV_OUTBOX_PATH", raising=False)
    assert load_config(instance_path=tmp_path)["DEV_OUTBOX_PATH"] == str(tmp_path / "dev-outbox")


def test_json_log_lines_mask_link_secrets_whoever_logged_them():
    import json

    from mutualaid.logs import JsonFormatter

    secret = "Zr3x_9kQ-pL2mN8vT4wY1aB6cD0eF7gH5jK"
    record = logging.LogRecord(
        "mutualaid.any", logging.INFO, __file__, 1, "opened %s", (f"/auth/confirm/{secret}",), None
    )
    line = JsonFormatter().format(record)
    assert secret not in line
    assert json.loads(line)["message"] == "opened /auth/confirm/[token]"
