"""Figures per neighbourhood: open requests, active offers and matches."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select

from ..extensions import db
from ..models import HelpRequest, Match, Neighbourhood, Offer
from ..models.vocab import ACTIVE_MATCH_STATUSES
from .monitoring.suppression import Equation
from .monitoring.suppression import suppress as suppress_cells


@dataclass(frozen=True)
class Count:
    """A count that may be suppressed: shown as "<threshold" when small and not exact."""

    value: int
    suppressed: bool

    def __str__(self) -> str:
        return f"<{self.value}" if self.suppressed else str(self.value)


@dataclass(frozen=True)
class NeighbourhoodFigures:
    code: str
    name: str
    district_code: str
    open_requests: Count
    active_offers: Count
    active_matches: Count


def suppress(value: int, threshold: int, exact: bool) -> Count:
    """Small-count suppression: 1..threshold-1 become "<threshold" unless exact is allowed."""
    if exact or value == 0 or value >= threshold:
        return Count(value, False)
    return Count(threshold, True)


def neighbourhood_figures(
    municipality_code: str, *, threshold: int, exact: bool = False
) -> list[NeighbourhoodFigures]:
    """Per neighbourhood of a municipality, sorted by name; three grouped queries in all."""
    neighbourhoods = db.session.execute(
        select(
            Neighbourhood.id, Neighbourhood.code, Neighbourhood.name, Neighbourhood.district_code
        )
        .where(Neighbourhood.municipality_code == municipality_code)
        .order_by(Neighbourhood.name)
    ).all()
    ids = [n.id for n in neighbourhoods]

    def grouped(statement) -> dict[int, int]:
        return dict(db.session.execute(statement).all())

    open_requests = grouped(
        select(HelpRequest.neighbourhood_id, func.count())
        .where(HelpRequest.status == "open", HelpRequest.neighbourhood_id.in_(ids))
        .group_by(HelpRequest.neighbourhood_id)
    )
    active_offers = grouped(
        select(Offer.neighbourhood_id, func.count())
        .where(Offer.is_active.is_(True), Offer.neighbourhood_id.in_(ids))
        .group_by(Offer.neighbourhood_id)
    )
    active_matches = grouped(
        select(HelpRequest.neighbourhood_id, func.count())
        .join(Match, Match.request_id == HelpRequest.id)
        .where(
            Match.status.in_((*ACTIVE_MATCH_STATUSES, "done")),
            HelpRequest.neighbourhood_id.in_(ids),
        )
        .group_by(HelpRequest.neighbourhood_id)
    )
    return [
        NeighbourhoodFigures(
            code=n.code,
            name=n.name,
            district_code=n.district_code,
            open_requests=suppress(open_requests.get(n.id, 0), threshold, exact),
            active_offers=suppress(active_offers.get(n.id, 0), threshold, exact),
            active_matches=suppress(active_matches.get(n.id, 0), threshold, exact),
        )
        for n in neighbourhoods
    ]


def municipality_totals(municipality_code: str) -> dict[str, int]:
    """Totals for the whole municipality (large enough not to need suppression)."""
    in_municipality = HelpRequest.neighbourhood_id.in_(
        select(Neighbourhood.id).where(Neighbourhood.municipality_code == municipality_code)
    )
    return {
        "neighbourhoods": db.session.scalar(
            select(func.count(Neighbourhood.id)).where(
                Neighbourhood.municipality_code == municipality_code
            )
        )
        or 0,
        "open_requests": db.session.scalar(
            select(func.count(HelpRequest.id)).where(in_municipality, HelpRequest.status == "open")
        )
        or 0,
        "active_offers": db.session.scalar(
            select(func.count(Offer.id)).where(
                Offer.is_active.is_(True),
                Offer.neighbourhood_id.in_(
                    select(Neighbourhood.id).where(
                        Neighbourhood.municipality_code == municipality_code
                    )
                ),
            )
        )
        or 0,
        "matches": db.session.scalar(
            select(func.count(Match.id))
            .join(HelpRequest, Match.request_id == HelpRequest.id)
            .where(in_municipality, Match.status.in_((*ACTIVE_MATCH_STATUSES, "done")))
        )
        or 0,
    }


def home_figures(
    municipality_code: str, *, threshold: int, exact: bool = False
) -> tuple[list[NeighbourhoodFigures], dict[str, Count | int]]:
    """The home page's figures per neighbourhood and for the whole municipality.

    For visitors, small counts are hidden with complementary suppression per column (the
    municipality total is the sum of the column), so no hidden count can be worked out by
    subtracting the shown ones from the total.
    """
    rows = neighbourhood_figures(municipality_code, threshold=threshold, exact=True)
    totals = municipality_totals(municipality_code)
    if exact:
        return rows, totals
    hidden_rows = {r.code: {} for r in rows}
    shown_totals: dict[str, Count | int] = {"neighbourhoods": totals["neighbourhoods"]}
    for column, total_key in (
        ("open_requests", "open_requests"),
        ("active_offers", "active_offers"),
        ("active_matches", "matches"),
    ):
        values = {r.code: getattr(r, column).value for r in rows}
        values["_total"] = totals[total_key]
        equation = Equation("_total", tuple(r.code for r in rows))
        hidden = suppress_cells(values, [equation], threshold)
        for r in rows:
            hidden_rows[r.code][column] = r.code in hidden
        shown_totals[total_key] = Count(
            threshold if "_total" in hidden else totals[total_key], "_total" in hidden
        )

    def count(row: NeighbourhoodFigures, column: str) -> Count:
        if hidden_rows[row.code][column]:
            return Count(threshold, True)
        return Count(getattr(row, column).value, False)

    return [
        NeighbourhoodFigures(
            code=r.code,
            name=r.name,
            district_code=r.district_code,
            open_requests=count(r, "open_requests"),
            active_offers=count(r, "active_offers"),
            active_matches=count(r, "active_matches"),
        )
        for r in rows
    ], shown_totals
