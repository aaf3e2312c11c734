"""Durable journeys. Import nothing with side effects here: the workflow
sandbox re-imports workflow modules."""
