"""Writing ranked suggestions: only what changed (new, re-scored, dropped) is written.

Accepted, invited, done and declined matches are never touched: only rows whose status is still
`suggested` are updated or expired. An `expired` suggestion comes back (`suggested` again) when
the ranking has it again and it expired for a reason that has passed: its offer was paused (and
is resumed now), or an earlier run dropped it (REVIVABLE_REASONS). One that expired because
nobody acted on it in time, or because someone blocked the other, stays expired. A suggestion
whose rank, score, parts, distance and explanations are all unchanged is not rewritten at all
(its `matching_run_id` stays the run that last changed it), so a re-match where nothing changed
writes nothing.

PostgreSQL: the rows go through COPY (text, built column-wise) into a temporary staging table,
then ONE statement inserts the new rows, updates the changed ones and expires the dropped ones
(`INSERT ... ON CONFLICT DO UPDATE ... WHERE <something differs>` and an `UPDATE ... NOT
EXISTS` as data-modifying CTEs). SQLite: the same rule, with the comparison done in Python and
an executemany of the changed rows.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from flask import current_app
from sqlalchemy import case, or_, select, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..extensions import db
from ..models import SCORE_PARTS, Match

log = logging.getLogger(__name__)

# The columns that come from the ranking, in COPY order; engine_version and matching_run_id
# are constants per run and go into the statement as parameters.
VALUES = (
    "request_id",
    "offer_id",
    "helper_id",
    "rank",
    "score",
    *(f"score_{p}" for p in SCORE_PARTS),
    "distance_m",
    "explanation_nl",
    "explanation_en",
)
# What makes a suggestion "changed" (helper_id follows from offer_id).
COMPARED = VALUES[3:]
# Why a suggestion expired, when ranking it again brings it back (see the module docstring).
PAUSED_REASON = "the offer was paused"  # offers.py writes it when an offer is paused
DROPPED_REASON = "no longer among the best suggestions"  # a later run ranked it out
REVIVABLE_REASONS = (PAUSED_REASON, DROPPED_REASON)
CHUNK = 10_000
STAGING = (
    "CREATE TEMP TABLE IF NOT EXISTS new_suggestions (request_id integer, offer_id integer, "
    "helper_id integer, rank integer, score float8, "
    + "".join(f"score_{p} float8, " for p in SCORE_PARTS)
    + "distance_m float8, explanation_nl text, explanation_en text) ON COMMIT DELETE ROWS"
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


def _columns(rows: SuggestionRows) -> list[list]:
    """The VALUES columns as Python lists, rounded as stored (so re-runs compare equal)."""
    parts = np.clip(np.asarray(rows.parts, dtype=np.float64), 0.0, 1.0).round(6)
    return [
        np.asarray(rows.request_id, np.int64).tolist(),
        np.asarray(rows.offer_id, np.int64).tolist(),
        np.asarray(rows.helper_id, np.int64).tolist(),
        np.asarray(rows.rank, np.int64).tolist(),
        np.clip(np.asarray(rows.score, np.float64), 0.0, 1.0).round(6).tolist(),
        *(parts[:, i].tolist() for i in range(parts.shape[1])),
        np.asarray(rows.distance_m, np.float64).round(1).tolist(),
        list(rows.explanation_nl),
        list(rows.explanation_en),
    ]


# PostgreSQL binary COPY: per row a field count, then (length, value) per field, big-endian.
# The numeric fields have a fixed width, so they are laid out by one numpy structured array;
# only the two explanations vary in length.
_FIXED = np.dtype(
    [("fields", ">i2")]
    + [(f"{c}", [("n", ">i4"), ("v", ">i4")]) for c in VALUES[:4]]
    + [(f"{c}", [("n", ">i4"), ("v", ">f8")]) for c in VALUES[4:12]]
    + [("nl_n", ">i4")]
)
_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00" * 8
_TRAILER = b"\xff\xff"


def _utf8(texts: list[str]) -> tuple[list[bytes], np.ndarray]:
    encoded = [t.encode() for t in texts]
    return encoded, np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))


def _copy_binary(rows: SuggestionRows) -> bytes:
    """The rows in PostgreSQL's binary COPY format, built column-wise."""
    n = len(rows)
    fixed = np.zeros(n, dtype=_FIXED)
    fixed["fields"] = len(VALUES)
    parts = np.clip(np.asarray(rows.parts, dtype=np.float64), 0.0, 1.0).round(6)
    values = {
        "request_id": rows.request_id,
        "offer_id": rows.offer_id,
        "helper_id": rows.helper_id,
        "rank": rows.rank,
        "score": np.clip(np.asarray(rows.score, np.float64), 0.0, 1.0).round(6),
        **{f"score_{p}": parts[:, i] for i, p in enumerate(SCORE_PARTS)},
        "distance_m": np.asarray(rows.distance_m, np.float64).round(1),
    }
    for name, column in values.items():
        fixed[name]["n"] = 4 if name in VALUES[:4] else 8
        fixed[name]["v"] = column
    nl, nl_len = _utf8(rows.explanation_nl)
    en, en_len = _utf8(rows.explanation_en)
    fixed["nl_n"] = nl_len
    head = fixed.tobytes()
    width = _FIXED.itemsize
    en_n = en_len.astype(">i4").tobytes()
    pieces: list[bytes] = [b""] * (4 * n)
    pieces[0::4] = [head[k : k + width] for k in range(0, n * width, width)]
    pieces[1::4] = nl
    pieces[2::4] = [en_n[k : k + 4] for k in range(0, 4 * n, 4)]
    pieces[3::4] = en
    return b"".join([_HEADER, *pieces, _TRAILER])


def _fault_pause() -> None:
    """Fault-injection tests only: pause halfway through the write, where a killed process
    would leave half a set behind if the write were not one transaction."""
    pause = current_app.config.get("FAULT_WRITE_PAUSE_SECONDS") or 0.0
    if pause:
        log.warning("fault pause: %ss inside the suggestions write", pause)
        time.sleep(pause)


def _write_postgres(rows: SuggestionRows, request_ids: list[int], version, run_id, now) -> dict:
    raw = db.session.connection().connection.driver_connection  # psycopg 3
    columns = ", ".join(VALUES)
    updates = ", ".join(f"{c} = excluded.{c}" for c in VALUES[2:])
    differs = (
        f"({', '.join(f'matches.{c}' for c in COMPARED)}) IS DISTINCT FROM "
        f"({', '.join(f'excluded.{c}' for c in COMPARED)})"
    )
    revivable = "matches.status = 'expired' AND matches.status_reason = ANY(%(revivable)s)"
    clock = time.perf_counter()
    payload = _copy_binary(rows) if len(rows) else b""
    seconds = {"build_s": time.perf_counter() - clock}
    with raw.cursor() as cursor:
        cursor.execute(STAGING)
        cursor.execute("TRUNCATE new_suggestions")
        clock = time.perf_counter()
        if len(rows):
            with cursor.copy(
                f"COPY new_suggestions ({columns}) FROM STDIN (FORMAT BINARY)"
            ) as copy:
                copy.write(payload)
        seconds["copy_s"] = time.perf_counter() - clock
        _fault_pause()  # staged, not yet applied
        clock = time.perf_counter()
        cursor.execute(
            f"""
            WITH changed AS (
                SELECT n.*, (matches.status = 'expired') AS revived FROM new_suggestions n
                LEFT JOIN matches ON matches.request_id = n.request_id
                    AND matches.offer_id = n.offer_id
                WHERE matches.id IS NULL
                   OR (matches.status = 'suggested' AND {differs.replace("excluded.", "n.")})
                   OR ({revivable})
            ), upserted AS (
                INSERT INTO matches ({columns}, engine_version, matching_run_id, status,
                    proposed_by, created_at, updated_at, status_changed_at)
                SELECT {columns}, %(version)s, %(run)s, 'suggested', 'engine', %(now)s,
                    %(now)s, %(now)s
                FROM changed
                ON CONFLICT (request_id, offer_id) DO UPDATE SET {updates},
                    engine_version = excluded.engine_version,
                    matching_run_id = excluded.matching_run_id,
                    updated_at = excluded.updated_at,
                    status_changed_at = CASE WHEN matches.status = 'suggested'
                        THEN matches.status_changed_at ELSE excluded.status_changed_at END,
                    status = 'suggested',
                    status_reason = NULL
                WHERE matches.status = 'suggested' OR ({revivable})
                RETURNING (xmax = 0) AS inserted
            ), expired AS (
                UPDATE matches SET status = 'expired', status_changed_at = %(now)s,
                    updated_at = %(now)s, status_reason = %(dropped)s
                FROM unnest(%(requests)s::integer[]) AS considered(request_id)
                WHERE matches.request_id = considered.request_id
                  AND matches.status = 'suggested'
                  AND NOT EXISTS (
                    SELECT 1 FROM new_suggestions n
                    WHERE n.request_id = matches.request_id AND n.offer_id = matches.offer_id)
                RETURNING 1
            )
            SELECT (SELECT count(*) FILTER (WHERE inserted) FROM upserted),
                   (SELECT count(*) FILTER (WHERE NOT inserted) FROM upserted),
                   (SELECT count(*) FROM expired),
                   (SELECT count(*) FILTER (WHERE revived) FROM changed)
            """,
            {
                "version": version,
                "run": run_id,
                "now": now,
                "requests": list(request_ids),
                "dropped": DROPPED_REASON,
                "revivable": list(REVIVABLE_REASONS),
            },
        )
        inserted, updated, expired, revived = cursor.fetchone()
        seconds["apply_s"] = time.perf_counter() - clock
    return {
        "inserted": inserted,
        "updated": updated,
        "expired": expired,
        "revived": revived,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }


def _current(request_ids: list[int]) -> dict[tuple[int, int], tuple]:
    """(request, offer) -> (id, status, compared values, revivable) of these requests'
    matches; revivable: expired for one of REVIVABLE_REASONS."""
    found = {}
    compared = [getattr(Match, c) for c in COMPARED]
    for start in range(0, len(request_ids), CHUNK):
        for row in db.session.execute(
            select(
                Match.request_id,
                Match.offer_id,
                Match.id,
                Match.status,
                Match.status_reason,
                *compared,
            ).where(Match.request_id.in_(request_ids[start : start + CHUNK]))
        ):
            revivable = row[3] == "expired" and row[4] in REVIVABLE_REASONS
            found[(row[0], row[1])] = (row[2], row[3], tuple(row[5:]), revivable)
    return found


def _write_sqlite(rows: SuggestionRows, request_ids: list[int], version, run_id, now) -> dict:
    current = _current(request_ids)
    table = Match.__table__
    statement = sqlite_insert(table)
    changing = (*VALUES[2:], "engine_version", "matching_run_id", "updated_at", "status")
    # Equalities, not IN: an executemany cannot expand a list parameter.
    revivable = (table.c.status == "expired") & or_(
        *(table.c.status_reason == reason for reason in REVIVABLE_REASONS)
    )
    statement = statement.on_conflict_do_update(
        index_elements=["request_id", "offer_id"],
        set_={
            **{c: statement.excluded[c] for c in changing},
            "status_reason": None,
            "status_changed_at": case(
                (table.c.status == "suggested", table.c.status_changed_at),
                else_=statement.excluded.status_changed_at,
            ),
        },
        where=(table.c.status == "suggested") | revivable,
    )
    fixed = {
        "engine_version": version,
        "matching_run_id": run_id,
        "status": "suggested",
        "proposed_by": "engine",
        "created_at": now,
        "updated_at": now,
        "status_changed_at": now,
    }
    records, inserted, updated, revived = [], 0, 0, 0
    for values in zip(*_columns(rows), strict=True):
        existing = current.get((values[0], values[1]))
        if existing is None:
            inserted += 1
        elif existing[3]:
            updated += 1
            revived += 1  # expired for a reason that has passed: suggested again
        elif existing[1] != "suggested" or existing[2] == values[3:]:
            continue  # never touched, or unchanged
        else:
            updated += 1
        records.append(dict(zip(VALUES, values, strict=True), **fixed))
    for start in range(0, len(records), CHUNK):
        db.session.execute(statement, records[start : start + CHUNK])
    _fault_pause()  # new rows written, dropped ones not yet expired
    keep = set(zip(rows.request_id.tolist(), rows.offer_id.tolist(), strict=True))
    dropped = [
        match_id
        for key, (match_id, status, _values, _revivable) in current.items()
        if status == "suggested" and key not in keep
    ]
    expired = 0
    for start in range(0, len(dropped), CHUNK):
        expired += db.session.execute(
            update(Match)
            .where(Match.status == "suggested", Match.id.in_(dropped[start : start + CHUNK]))
            .values(
                status="expired",
                status_reason=DROPPED_REASON,
                status_changed_at=now,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    return {"inserted": inserted, "updated": updated, "expired": expired, "revived": revived}


def store_suggestions(
    rows: SuggestionRows, request_ids: list[int], version: str, run_id: str | None, now
) -> dict[str, int]:
    """Make `rows` the suggestions of `request_ids`, writing only what changed (the caller
    commits). Returns counts: written (= inserted + updated), inserted, updated (of which
    revived: expired ones suggested again), expired (and on PostgreSQL `seconds`: building
    the COPY data, COPY, the one statement)."""
    request_ids = list(request_ids)
    if db.engine.dialect.name == "postgresql":
        counts = _write_postgres(rows, request_ids, version, run_id, now)
    else:
        counts = _write_sqlite(rows, request_ids, version, run_id, now)
    counts = {"written": counts["inserted"] + counts["updated"], **counts}
    return counts
