"""SQLAlchemy models, one module per area. Import from here."""

from .accounts import SecretToken
from .aid import Category, HelpRequest, Offer, OfferCategory
from .audit import AuditEvent
from .followup import ContactNote, FollowUpAction, ProblemReport
from .geo import GeocodeResult, Neighbourhood
from .matching import SCORE_PARTS, Match, MatchingRun, RankerVersion, TrustTie
from .messaging import Message
from .monitoring import MonitoringFact, MonitoringPeriod, MonitoringRollupState
from .notifications import Notification
from .people import (
    ConsentRecord,
    Resident,
    ResidentBlock,
    User,
    VogRecord,
    Vouch,
    WorkerAssignment,
)

__all__ = [
    "SCORE_PARTS",
    "AuditEvent",
    "Category",
    "ConsentRecord",
    "ContactNote",
    "FollowUpAction",
    "GeocodeResult",
    "HelpRequest",
    "Match",
    "MatchingRun",
    "Message",
    "MonitoringFact",
    "MonitoringPeriod",
    "MonitoringRollupState",
    "Neighbourhood",
    "Notification",
    "Offer",
    "OfferCategory",
    "ProblemReport",
    "RankerVersion",
    "Resident",
    "ResidentBlock",
    "SecretToken",
    "TrustTie",
    "User",
    "VogRecord",
    "Vouch",
    "WorkerAssignment",
]
