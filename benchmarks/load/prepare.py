"""Accounts and API tokens for the load run (run by run_load.py with the load database's env).

Residents with an open request or an active offer get an account and a Bearer token; every
worker and municipality account of the demo gets a token too. Writes the tokens as JSON."""

from __future__ import annotations

import json
import sys

from sqlalchemy import select

from mutualaid import create_app
from mutualaid.extensions import db
from mutualaid.models import HelpRequest, Offer, Resident, User
from mutualaid.services.accounts import create_user
from mutualaid.services.api_tokens import create_api_token


def prepare(out_path: str, residents: int = 300) -> dict:
    """Create the accounts and tokens; return {"residents": [...], "workers", "municipality"}."""
    askers = select(HelpRequest.requester_id).where(HelpRequest.status == "open")
    helpers = select(Offer.helper_id).where(Offer.is_active.is_(True))
    people = db.session.scalars(
        select(Resident.id)
        .where(Resident.id.in_(askers.union(helpers).scalar_subquery()))
        .order_by(Resident.id)
        .limit(residents)
    ).all()
    have_user = set(
        db.session.scalars(select(User.resident_id).where(User.resident_id.in_(people)))
    )
    asking = set(db.session.scalars(askers))
    open_requests: dict[int, list[int]] = {}
    for request_id, requester_id in db.session.execute(
        select(HelpRequest.id, HelpRequest.requester_id).where(
            HelpRequest.status == "open", HelpRequest.requester_id.in_(people)
        )
    ):
        open_requests.setdefault(requester_id, []).append(request_id)
    tokens: dict = {
        "residents": [],
        "askers": [],
        "suggestions": [],  # [path, token]: a resident's own request's suggestions (wrk)
        "workers": [],
        "municipality": [],
    }
    for resident_id in people:
        if resident_id not in have_user:
            create_user(
                f"load{resident_id}@example.invalid",
                "load-test-password-2026",
                "resident",
                f"Load {resident_id}",
                resident_id=resident_id,
            )
        user_id = db.session.scalar(select(User.id).where(User.resident_id == resident_id))
        secret = create_api_token(user_id, "load")[1]
        tokens["residents"].append(secret)
        if resident_id in asking:
            tokens["askers"].append(secret)
        for request_id in open_requests.get(resident_id, []):
            tokens["suggestions"].append([f"/api/v1/requests/{request_id}/suggestions", secret])
    for role, key in (("worker", "workers"), ("municipality", "municipality")):
        for user in db.session.scalars(select(User).where(User.role == role)):
            codes = [n.code for n in getattr(user, "neighbourhoods", [])]
            tokens[key].append({"token": create_api_token(user.id, "load")[1], "codes": codes})
    with open(out_path, "w") as handle:
        json.dump(tokens, handle)
    return tokens


if __name__ == "__main__":
    app = create_app()
    with app.app_context():
        found = prepare(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 300)
    print({key: len(value) for key, value in found.items()})
