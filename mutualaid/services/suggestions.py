"""Writing ranked suggestions in bulk: upsert the new top-k, expire the ones that dropped out.

Accepted, invited, done and declined matches are never touched: the upsert only updates rows
whose status is still `suggested`. PostgreSQL gets COPY into a temporary table and one
INSERT ... SELECT ... ON CONFLICT (about a million rows in a few seconds); SQLite an executemany
of the same upsert.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import SCORE_PARTS, Match

COLUMNS = (
    "request_id",
    "offer_id",
    "helper_id",
    "rank",
    "score",
    *(f"score_{p}" for p in SCORE_PARTS),
    "distance_m",
    "explanation_nl",
    "explanation_en",
    "engine_version",
    "matching_run_id",
)
CHUNK = 10_000
TEMP_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS new_suggestions (request_id integer, offer_id integer, "
    "helper_id integer, rank integer, score float8, "
    + "".join(f"score_{p} float8, " for p in SCORE_PARTS)
    + "distance_m float8, explanation_nl text, explanation_en text, engine_version text, "
    "matching_run_id text) ON COMMIT DELETE ROWS"
)


@dataclass
class SuggestionRows:
    """Column arrays of the suggestions to store (one row per request x offer)."""

    request_id: np.ndarray
    offer_id: np.ndarray
    helper_id: np.ndarray
    rank: np.ndarray
    score: np.ndarray
    parts: np.ndarray  # (n, 6) in SCORE_PARTS order
    distance_m: np.ndarray
    explanation_nl: list[str]
    explanation_en: list[str]

    def __len__(self) -> int:
        return len(self.request_id)


def _records(rows: SuggestionRows, version: str, run_id: str | None) -> list[tuple]:
    parts = np.clip(np.asarray(rows.parts, dtype=float), 0.0, 1.0).round(6).tolist()
    scores = np.clip(np.asarray(rows.score, dtype=float), 0.0, 1.0).round(6).tolist()
    return [
        (r, o, h, k, s, *p, round(d, 1), nl, en, version, run_id)
        for r, o, h, k, s, p, d, nl, en in zip(
            rows.request_id.tolist(),
            rows.offer_id.tolist(),
            rows.helper_id.tolist(),
            rows.rank.tolist(),
            scores,
            parts,
            np.asarray(rows.distance_m, float).tolist(),
            rows.explanation_nl,
            rows.explanation_en,
            strict=True,
        )
    ]


def _write_postgres(records: list[tuple], now) -> None:
    raw = db.session.connection().connection.driver_connection  # psycopg 3
    columns = ", ".join(COLUMNS)
    updates = ", ".join(f"{c} = excluded.{c}" for c in COLUMNS[3:])
    with raw.cursor() as cursor:
        cursor.execute(TEMP_TABLE)
        cursor.execute("TRUNCATE new_suggestions")
        with cursor.copy(f"COPY new_suggestions ({columns}) FROM STDIN") as copy:
            for record in records:
                copy.write_row(record)
        cursor.execute(
            f"INSERT INTO matches ({columns}, status, proposed_by, created_at, updated_at, "
            f"status_changed_at) SELECT {columns}, 'suggested', 'engine', %(now)s, %(now)s, "
            f"%(now)s FROM new_suggestions ON CONFLICT (request_id, offer_id) DO UPDATE SET "
            f"{updates}, updated_at = excluded.updated_at WHERE matches.status = 'suggested'",
            {"now": now},
        )


def _write_sqlite(records: list[tuple], now) -> None:
    table = Match.__table__
    statement = sqlite_insert(table)
    statement = statement.on_conflict_do_update(
        index_elements=["request_id", "offer_id"],
        set_={c: statement.excluded[c] for c in (*COLUMNS[3:], "updated_at")},
        where=table.c.status == "suggested",
    )
    fixed = {
        "status": "suggested",
        "proposed_by": "engine",
        "created_at": now,
        "updated_at": now,
        "status_changed_at": now,
    }
    for start in range(0, len(records), CHUNK):
        db.session.execute(
            statement,
            [dict(zip(COLUMNS, r, strict=True), **fixed) for r in records[start : start + CHUNK]],
        )


def _expire_dropped(rows: SuggestionRows, request_ids: list[int], now) -> int:
    """Suggestions of these requests that are not in the new top-k become `expired`."""
    keep = set(zip(rows.request_id.tolist(), rows.offer_id.tolist(), strict=True))
    dropped = []
    for start in range(0, len(request_ids), CHUNK):
        current = db.session.execute(
            select(Match.id, Match.request_id, Match.offer_id).where(
                Match.status == "suggested",
                Match.request_id.in_(request_ids[start : start + CHUNK]),
            )
        ).all()
        dropped += [r.id for r in current if (r.request_id, r.offer_id) not in keep]
    for start in range(0, len(dropped), CHUNK):
        db.session.execute(
            update(Match)
            .where(Match.status == "suggested", Match.id.in_(dropped[start : start + CHUNK]))
            .values(status="expired", status_changed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
    return len(dropped)


def store_suggestions(
    rows: SuggestionRows, request_ids: list[int], version: str, run_id: str | None, now
) -> dict[str, int]:
    """Make `rows` the suggestions of `request_ids` (the caller commits)."""
    records = _records(rows, version, run_id)
    if records:
        if db.engine.dialect.name == "postgresql":
            _write_postgres(records, now)
        else:
            _write_sqlite(records, now)
    return {"written": len(records), "expired": _expire_dropped(rows, list(request_ids), now)}
