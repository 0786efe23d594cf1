"""Engine settings per database, and SQLite connection pragmas."""

from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError


def configure_engine_options(app: Flask) -> None:
    """Engine options that suit the configured database."""
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    if uri.startswith("sqlite"):
        # A web process and a worker write at once: wait for the lock instead of failing.
        options.setdefault("connect_args", {"timeout": 30})
    else:
        # No ping on every checkout (a round trip per request): `install_idle_ping` pings
        # only connections that sat idle in the pool, which is when a restart can have
        # broken them.
        options.setdefault("pool_pre_ping", False)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options


PING_AFTER_IDLE_S = 1.0


def install_idle_ping(engine: Engine) -> None:
    """Before a pooled connection is reused after more than PING_AFTER_IDLE_S idle, ping it;
    a dead one is replaced (DisconnectionError makes the pool connect afresh). Connections
    reused at once, as under load, skip the round trip. A connection that breaks while in
    use still invalidates the pool, as before."""
    if engine.dialect.name == "sqlite" or engine.pool._pre_ping:
        return

    @event.listens_for(engine, "checkin")
    def remember_checkin(dbapi_connection, connection_record) -> None:
        connection_record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def ping_if_idle(dbapi_connection, connection_record, connection_proxy) -> None:
        checked_in_at = connection_record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < PING_AFTER_IDLE_S:
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            raise DisconnectionError(str(error)) from error
        if alive is False:
            raise DisconnectionError("the connection did not answer a ping")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """WAL journal, a busy timeout and enforced foreign keys on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def render_migration_type(type_, obj, autogen_context):
    """Write our UTCDateTime as a plain timestamp column, so migrations need no app imports."""
    from .models.base import UTCDateTime

    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False
