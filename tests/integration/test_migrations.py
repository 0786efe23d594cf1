"""The migrations build the same schema as the models, on SQLite and on PostgreSQL."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from mutualaid.extensions import db
from tests.conftest import fresh_database, make_test_app


@pytest.fixture
def empty_database_url(tmp_path):
    yield from fresh_database(tmp_path / "migrated.sqlite")


def schema_drift(app) -> list:
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return compare_metadata(context, db.metadata)


def test_upgrade_builds_the_model_schema_without_drift_and_downgrades_cleanly(
    empty_database_url, redis_url, tmp_path
):
    app = make_test_app(empty_database_url, redis_url, tmp_path)
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert set(db.metadata.tables) <= tables
        assert schema_drift(app) == []
        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        upgrade()  # and back up again: the downgrade left nothing in the way
        assert schema_drift(app) == []
        db.engine.dispose()


def test_database_from_migrations_enforces_constraints(empty_database_url, redis_url, tmp_path):
    from mutualaid.errors import Invalid
    from mutualaid.services.transactions import commit
    from tests import builders

    app = make_test_app(empty_database_url, redis_url, tmp_path)
    with app.app_context():
        upgrade()
        builders.help_request(urgency="whenever")
        with pytest.raises(Invalid) as caught:
            commit()
        assert caught.value.field == "urgency"
        db.session.remove()
        db.engine.dispose()


def test_the_database_refuses_to_change_or_delete_audit_events(
    empty_database_url, redis_url, tmp_path
):
    from sqlalchemy import text
    from sqlalchemy.exc import DBAPIError

    from mutualaid.services.audit import record_event

    app = make_test_app(empty_database_url, redis_url, tmp_path)
    with app.app_context():
        upgrade()
        record_event(None, "view:test", subject_resident_id=1)
        db.session.commit()
        for statement in (
            "UPDATE audit_events SET action = 'nothing happened'",
            "DELETE FROM audit_events",
        ):
            with pytest.raises(DBAPIError, match="append-only"):
                db.session.execute(text(statement))
            db.session.rollback()
        assert db.session.execute(text("SELECT action FROM audit_events")).scalars().all() == [
            "view:test"
        ]
        db.session.remove()
        db.engine.dispose()
