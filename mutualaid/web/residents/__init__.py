"""Pages for residents ("Mijn burenhulp"): ask, offer, choose, follow up, own data.

One blueprint, split by area: `requests` (ask for help), `offers` (offer help, browse open
requests), `matches` (suggestions, invitations, match page, messages, done and thanks),
`ties` (knowing each other, blocking), `location` (address and map), `account` (API tokens,
notifications, my data, delete account).
"""

from flask import Blueprint

bp = Blueprint("residents", __name__, url_prefix="/mijn")

from . import account, location, matches, offers, requests, ties  # noqa: E402,F401
