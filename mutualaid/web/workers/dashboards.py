"""Worker pages: who is involved, newly active residents, network, follow-up, audit."""

from .blueprint import bp  # noqa: F401
