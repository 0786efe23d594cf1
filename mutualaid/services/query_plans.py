"""Query-plan settings for the dashboards' counting queries.

PostgreSQL compiles a query with LLVM (JIT) when its estimated cost passes `jit_above_cost`.
The dashboards' grouped counts over residents and requests pass it on a town of 100,000
residents, and the compilation then costs 0.3–0.5 s per query while running the query takes
tens of milliseconds (EXPLAIN ANALYZE in benchmarks/README.md). For these short interactive
reads JIT never pays off, so they turn it off for their own transaction only.
"""

from __future__ import annotations

from sqlalchemy import text

from ..extensions import db


def without_jit() -> None:
    """No JIT compilation for the rest of the current transaction (PostgreSQL; else nothing)."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL jit = off"))
