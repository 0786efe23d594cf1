"""What the residents are told when a community worker invites, accepts or withdraws a match:
in-app (and email/SMS when configured), never with an address, phone or email of the other."""

from __future__ import annotations

from ..extensions import db
from ..models import Category, Match
from .notifications import notify


def _category_name(match: Match) -> str:
    return db.session.get(Category, match.request.category_id).name_nl.lower()


def notify_invited(match: Match) -> None:
    """Tell both sides, in-app; no address, phone or email of the other side."""
    what, key = _category_name(match), f"worker:{match.id}:{match.status_changed_at.isoformat()}"
    helper_name = match.helper.first_name
    if match.status == "accepted":
        to_requester = (
            f"{helper_name} gaat u helpen",
            f"Een opbouwwerker heeft geregeld dat {helper_name} u helpt met {what}.",
        )
        to_helper = (
            "U helpt een buurtgenoot",
            f"De opbouwwerker heeft uw ja doorgegeven. U helpt een buurtgenoot met {what}.",
        )
    else:
        to_requester = (
            "Een opbouwwerker vraagt een helper voor u",
            f"Een opbouwwerker heeft {helper_name} gevraagd om u te helpen met {what}. "
            f"U hoort het als {helper_name} ja zegt.",
        )
        to_helper = (
            "Kunt u helpen? Een opbouwwerker vraagt het u",
            f"Een buurtgenoot vraagt hulp met {what}. Een opbouwwerker denkt dat u goed kunt "
            "helpen. Kijk in mutualaid of u ja zegt. U ziet het adres pas als u allebei ja zegt.",
        )
    ids = {"request_id": match.request_id, "match_id": match.id}
    notify(match.request.requester_id, "worker_match", f"{key}:r", *to_requester, **ids)
    notify(match.helper_id, "worker_match", f"{key}:h", *to_helper, **ids)


def notify_withdrawn(match: Match) -> None:
    """Tell both sides a worker stopped the match (the reason stays in the log, not here)."""
    what, key = _category_name(match), f"worker:{match.id}:{match.status_changed_at.isoformat()}"
    subject = "Een koppeling is gestopt"
    body = (
        f"Een opbouwwerker heeft de koppeling voor {what} gestopt. "
        "Heeft u vragen? Neem contact op met uw opbouwwerker."
    )
    ids = {"request_id": match.request_id, "match_id": match.id}
    notify(match.request.requester_id, "worker_match", f"{key}:r", subject, body, **ids)
    notify(match.helper_id, "worker_match", f"{key}:h", subject, body, **ids)
