"""Use cases. One module per area; the only layer that commits."""
