"""Write a benchmark's suggestions to a fresh database through the service layer's bulk writer.

DATABASE_URL selects the database (a fresh PostgreSQL database is created next to the one
named, and dropped after); without it a temporary SQLite file is used.
"""

from __future__ import annotations

import os
import tempfile
import time
import uuid

import numpy as np
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url


def _fresh_database() -> tuple[str, callable]:
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgres", "postgresql")):
        path = os.path.join(tempfile.mkdtemp(), "persist.sqlite")
        return f"sqlite:///{path}", lambda: None
    from mutualaid.config import normalise_database_url

    url = make_url(normalise_database_url(base))
    name = f"mutualaid_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url.set(database=name).render_as_string(hide_password=False), drop


def _bulk(table, rows: list[dict]) -> None:
    from mutualaid.extensions import db

    for start in range(0, len(rows), 50_000):
        db.session.execute(insert(table), rows[start : start + 50_000])


def time_persist(city, candidates) -> dict:
    """Seconds to store the candidates as suggestions (and commit) on a fresh database, then
    to store the same suggestions again (nothing changed: nothing should be written)."""
    from mutualaid import create_app
    from mutualaid.extensions import db
    from mutualaid.models import Category, HelpRequest, Offer, Resident
    from mutualaid.models.base import utcnow
    from mutualaid.services.matching import suggestion_rows
    from mutualaid.services.suggestions import store_suggestions

    url, drop = _fresh_database()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": "redis://127.0.0.1:1/0"})
    try:
        with app.app_context():
            db.create_all()
            people = np.union1d(city.requests.requester_ids, city.offers.helper_ids)
            now = utcnow()
            _bulk(
                Resident.__table__,
                [
                    {
                        "id": int(i),
                        "first_name": "B",
                        "email": f"{i}@x.org",
                        "language_mask": 1,
                        "channel_mask": 0,
                        "self_service": True,
                        "known_to_services": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i in people.tolist()
                ],
            )
            db.session.add(Category(id=1, code="c", bit=0, name_nl="c", name_en="c"))
            db.session.flush()
            req = city.requests
            _bulk(
                HelpRequest.__table__,
                [
                    {
                        "id": int(i),
                        "requester_id": int(p),
                        "category_id": 1,
                        "description": "",
                        "lat": float(a),
                        "lon": float(o),
                        "status": "open",
                        "urgency": "normal",
                        "slots": 0,
                        "recurring": False,
                        "max_distance_m": 3000,
                        "needs_vog": False,
                        "needs_shared_language": False,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, p, a, o in zip(
                        req.ids.tolist(),
                        req.requester_ids.tolist(),
                        req.lat.tolist(),
                        req.lon.tolist(),
                        strict=True,
                    )
                ],
            )
            off = city.offers
            _bulk(
                Offer.__table__,
                [
                    {
                        "id": int(i),
                        "helper_id": int(h),
                        "description": "",
                        "lat": float(a),
                        "lon": float(o),
                        "radius_m": 2000,
                        "slots": 0,
                        "capacity": 1,
                        "language_mask": 1,
                        "is_active": True,
                        "created_at": now,
                        "updated_at": now,
                    }
                    for i, h, a, o in zip(
                        off.ids.tolist(),
                        off.helper_ids.tolist(),
                        off.lat.tolist(),
                        off.lon.tolist(),
                        strict=True,
                    )
                ],
            )
            db.session.commit()
            start = time.perf_counter()
            rows = suggestion_rows(candidates, city.requests, city.offers)
            explain_s = time.perf_counter() - start
            considered = city.requests.ids.tolist()
            result = {"explain_s": explain_s}
            for label in ("first", "unchanged"):
                start = time.perf_counter()
                counts = store_suggestions(rows, considered, "bench", None, utcnow())
                db.session.commit()
                result[f"{label}_s"] = time.perf_counter() - start
                result[f"{label}_written"] = counts["written"]
                result[f"{label}_parts"] = counts.get("seconds")
            print(
                f"  ({db.engine.dialect.name}; building rows with explanations took "
                f"{explain_s:.2f} s, not counted; re-storing the same suggestions took "
                f"{result['unchanged_s']:.2f} s and wrote {result['unchanged_written']} rows)"
            )
            db.session.remove()
            db.engine.dispose()
            return result
    finally:
        drop()
