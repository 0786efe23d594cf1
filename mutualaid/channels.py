"""Ways to reach a resident: in-app (always), email (when SMTP is configured), SMS (pluggable)."""

from __future__ import annotations

import importlib
import logging
import smtplib
from email.message import EmailMessage
from typing import Protocol

from .dev_outbox import write_to_dev_outbox
from .models.vocab import channel_codes

log = logging.getLogger(__name__)


class Channel(Protocol):
    name: str

    def can_reach(self, resident) -> bool:
        """Whether this channel has what it needs to reach the resident."""

    def send(self, resident, subject: str, body: str) -> None:
        """Deliver the message or raise."""


class InAppChannel:
    """The stored Notification row is the in-app message; nothing else to deliver."""

    name = "in_app"

    def can_reach(self, resident) -> bool:
        return True

    def send(self, resident, subject: str, body: str) -> None:
        return None


class EmailChannel:
    name = "email"

    def __init__(self, config: dict) -> None:
        self.config = config

    def can_reach(self, resident) -> bool:
        return bool(resident.email) and "message" in channel_codes(resident.channel_mask)

    def send(self, resident, subject: str, body: str) -> None:
        send_email(self.config, resident.email, subject, body)


def send_email(config: dict, to: str, subject: str, body: str) -> None:
    """Send one plain-text email through the configured SMTP server (raises on failure)."""
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    with smtplib.SMTP(config["SMTP_HOST"], config["SMTP_PORT"], timeout=20) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls()
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        smtp.send_message(message)


class SmsChannel:
    """Base for an SMS gateway: subclass, implement `deliver`, name it in SMS_CHANNEL."""

    name = "sms"

    def __init__(self, config: dict) -> None:
        self.config = config

    def can_reach(self, resident) -> bool:
        return bool(resident.phone) and "phone" in channel_codes(resident.channel_mask)

    def send(self, resident, subject: str, body: str) -> None:
        self.deliver(resident.phone, f"{subject}\n{body}"[:640])

    def deliver(self, phone: str, text: str) -> None:
        raise NotImplementedError


def masked_phone(phone: str) -> str:
    """A phone number for a log line: only its last two digits."""
    digits = [ch for ch in phone or "" if ch.isdigit()]
    return "…" + "".join(digits[-2:])


class LogSmsChannel(SmsChannel):
    """Development stand-in: sends nothing. The text (it can hold a name or a hand-over code)
    goes into the development outbox file, never into the log; the log says only that an SMS
    was 'sent', to a masked number."""

    def deliver(self, phone: str, text: str) -> None:
        written = write_to_dev_outbox(self.config, "sms", phone, "SMS", text)
        log.info(
            "SMS sent (development stand-in) to %s, %d characters%s",
            masked_phone(phone),
            len(text),
            f"; text in {written.name}" if written else "",
        )


def configured_channels(config: dict) -> list[Channel]:
    """In-app, plus email when SMTP_HOST is set, plus SMS when SMS_CHANNEL names a class."""
    channels: list[Channel] = [InAppChannel()]
    if config.get("SMTP_HOST"):
        channels.append(EmailChannel(config))
    sms = config.get("SMS_CHANNEL")
    if sms:
        module, _, cls = sms.rpartition(".")
        channels.append(getattr(importlib.import_module(module), cls)(config))
    return channels
