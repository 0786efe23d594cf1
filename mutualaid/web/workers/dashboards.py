"""Worker pages: who is involved, newly active residents, network, follow-up, audit."""

from . import bp  # noqa: F401
