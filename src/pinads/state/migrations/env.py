"""Alembic's environment for the control DB: always run by `pinads.state.migrations` on a
connection it opened and locked (passed in `config.attributes["connection"]`), inside the
transaction it commits; no alembic.ini and no URL of its own."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import context

from pinads.state.schema import METADATA


def _run(connection: sa.Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=METADATA,
        # SQLite alters a table by copying it: Alembic's batch mode does that for new revisions.
        render_as_batch=connection.dialect.name == "sqlite",
        # DDL is transactional on SQLite and PostgreSQL: all pending revisions commit together.
        transactional_ddl=True,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if not isinstance(connection, sa.Connection):
    raise RuntimeError("the control DB's migrations run through `pinads db upgrade`")
_run(connection)
