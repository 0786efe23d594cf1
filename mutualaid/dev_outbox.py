"""Development stand-in for mail and SMS delivery: each message becomes a file.

Without SMTP (or with the LogSmsChannel) a developer still needs the reset or confirmation link
and the SMS text, but links carry secrets and texts can carry names or hand-over codes, so they
never go into a log. They go into DEV_OUTBOX_PATH (default `instance/dev-outbox/`), one file
per message, readable by the owner only; the log says only that a file was written. Production
has no outbox (config.py refuses DEV_OUTBOX_PATH there).
"""

from __future__ import annotations

import os
import secrets
from datetime import UTC, datetime
from pathlib import Path


def dev_outbox_path(config) -> Path | None:
    """The outbox folder, or None where there is none (production)."""
    if config.get("ENV_NAME") == "production" or not config.get("DEV_OUTBOX_PATH"):
        return None
    return Path(config["DEV_OUTBOX_PATH"])


def write_to_dev_outbox(config, kind: str, to: str, subject: str, body: str) -> Path | None:
    """Write one message as a file in the outbox; its path, or None without an outbox."""
    folder = dev_outbox_path(config)
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    path = folder / f"{stamp}-{kind}-{secrets.token_hex(3)}.txt"
    text = f"To: {to}\nSubject: {subject}\n\n{body}"
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(text)
    return path


def read_dev_outbox(config) -> list[str]:
    """Every message in the outbox, oldest first (for tests and the developer)."""
    folder = dev_outbox_path(config)
    if folder is None or not folder.is_dir():
        return []
    return [p.read_text(encoding="utf-8") for p in sorted(folder.glob("*.txt"))]
