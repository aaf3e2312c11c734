"""How Alembic reaches the app database.

`store.schema` runs the migrations on a connection of its own (in one
transaction, under a lock) and passes it in `config.attributes`. Without one,
this is a developer's `alembic` command from the checkout (alembic.ini), on the
database of IPS_DATABASE_URL.
"""

from logging.config import fileConfig
from typing import Any, Literal

from alembic import context
from alembic.autogenerate.api import AutogenContext
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import Connection

from store.models import Base, UTCDateTime
from store.schema import include_object

DEVELOPER_DATABASE_VARIABLE = "IPS_DATABASE_URL"


def _render_item(type_: str, item: Any, _context: AutogenContext) -> str | Literal[False]:
    # A revision keeps what the column is in the database, not the model's
    # Python class, which may change or go.
    if type_ == "type" and isinstance(item, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_item=_render_item,
        # SQLite alters little in place: a later migration's ALTER copies the table.
        render_as_batch=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def _developer_run() -> None:
    config = context.config
    if config.config_file_name is not None:
        fileConfig(config.config_file_name)
    if context.is_offline_mode():
        raise SystemExit("offline (--sql) migrations are not supported here")
    from config import load_settings

    keys = load_settings().database_url
    url = keys.get_secret_value() if keys else None
    if not url:
        raise SystemExit(
            f"set {DEVELOPER_DATABASE_VARIABLE} to a database at the newest revision "
            "(`ips db upgrade` brings it there)"
        )
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            _run(connection)
            connection.commit()
    finally:
        engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    _developer_run()
