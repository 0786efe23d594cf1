"""Municipal monitoring: aggregates per neighbourhood, district and municipality, suppressed."""
