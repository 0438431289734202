"""Reports for managers: SQL aggregates, never loops over ORM objects."""
