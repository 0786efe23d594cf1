"""A small street for the resident-flow tests: a requester with full private details, helpers
a few hundred metres away with offers, one request matched by the real engine."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from mutualaid.extensions import db
from mutualaid.models import HelpRequest, Match, Offer, Resident
from mutualaid.services.aid import post_offer, post_request
from mutualaid.services.matching import match_request
from tests import builders

HOME = (52.2640, 6.7935)  # Binnenstad-Centrum, Hengelo
# The requester's private details: none of these may reach another resident before acceptance.
PRIVATE = {
    "street": "Marskant",
    "house_number": "86417",  # five digits: not mistaken for an id or a count on the walked pages
    "postcode": "7551ZX",
    "phone": "0612398765",
    "email": "anna.private@example.org",
}


def neighbour(north_m: float, **overrides) -> Resident:
    """A resident `north_m` metres north of HOME."""
    return builders.resident(home_lat=HOME[0] + north_m / 111_195.0, home_lon=HOME[1], **overrides)


@dataclass
class Street:
    requester: Resident
    helpers: list[Resident]
    offers: list[Offer]
    request: HelpRequest

    def match_of(self, helper: Resident) -> Match:
        return db.session.scalar(
            select(Match).where(Match.request_id == self.request.id, Match.helper_id == helper.id)
        )


def make_street(helpers: int = 2, category: str = "boodschappen", **request_values) -> Street:
    """Requester Anna, `helpers` helpers at 300 m, 600 m, ... and one matched request."""
    anna = neighbour(0, first_name="Anna", last_name="Jansen", channel_mask=0b11, **PRIVATE)
    people, offers = [], []
    for index in range(helpers):
        helper = neighbour(
            300 * (index + 1),
            first_name=f"Helper{index + 1}",
            street="Langestraat",
            house_number=str(10 + index),
            postcode="7551AA",
            phone=f"06555000{index:02d}",
            channel_mask=0b11,
        )
        people.append(helper)
        offers.append(
            post_offer(helper.id, categories=[category], radius_m=3000, slots=(1 << 21) - 1)
        )
    values = {"description": "Boodschappen bij de Jumbo", "slots": 0b111}
    values.update(request_values)
    request = post_request(anna.id, category=category, **values)
    match_request(request.id, force=True)
    db.session.expire_all()
    return Street(anna, people, offers, db.session.get(HelpRequest, request.id))
