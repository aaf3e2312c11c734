"""The app database's Alembic migrations: `env.py`, the revision template and
`versions/`, one file per revision. `store.schema` runs them."""
