"""Worker pages: match review and what-if, assisted intake and hand-over, vouch and VOG."""

from .blueprint import bp  # noqa: F401
