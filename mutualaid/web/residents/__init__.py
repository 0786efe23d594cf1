"""Pages for residents ("Mijn burenhulp"): ask, offer, choose, follow up, own data.

One blueprint, split by area: `requests` (ask for help), `offers` (offer help, browse open
requests), `matches` (suggestions, invitations, match page, messages, done and thanks),
`ties` (knowing each other, blocking), `location` (address and map), `account` (API tokens,
notifications, my data, delete account).
"""

from . import (  # noqa: F401  (registers the views on bp)
    account,
    location,
    match_page,
    matches,
    offers,
    requests,
    ties,
)
from .blueprint import bp

__all__ = ["bp"]
