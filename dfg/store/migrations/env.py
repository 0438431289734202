"""Alembic environment: run by `dfg db upgrade` with a connection from dfg.store.database."""

from alembic import context

from dfg.store.models import Base
from dfg.store.text_index import outside_the_models

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them
    compare_type=True,
    include_name=outside_the_models,  # the text index is made by its migration, described by no model
)
with context.begin_transaction():
    context.run_migrations()
