"""Pages for community workers (only their assigned neighbourhoods; every view audited).

One blueprint, split by area: `dashboards` (who is involved, newly active, network,
follow-up, audit) and `actions` (match review and what-if, intake and hand-over, vouch, VOG).
"""

from . import actions, dashboards  # noqa: F401  (registers the views on bp)
from .blueprint import bp

__all__ = ["bp"]
