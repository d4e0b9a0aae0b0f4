"""The Alembic migrations and the models describe the same schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect

from storage.db import create_db_engine, pending_migrations, upgrade
from storage.models import Base


def _expected_schema() -> MetaData:
    """Our models, and slack_sdk's own definitions of the installation and OAuth-state tables (so an
    upgrade of slack_sdk that changes them fails here rather than at an install)."""
    from slack_sdk.oauth.installation_store.sqlalchemy import SQLAlchemyInstallationStore
    from slack_sdk.oauth.state_store.sqlalchemy import SQLAlchemyOAuthStateStore

    expected = MetaData()
    for table in Base.metadata.tables.values():
        table.to_metadata(expected)
    SQLAlchemyInstallationStore.build_installations_table(expected, "slack_installations")
    SQLAlchemyInstallationStore.build_bots_table(expected, "slack_bots")
    SQLAlchemyOAuthStateStore.build_oauth_states_table(expected, "slack_oauth_states")
    return expected


def test_models_match_the_migrated_schema(engine: Engine) -> None:
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), _expected_schema())
    assert differences == []
    assert pending_migrations(engine) == []


def test_downgrade_to_nothing_and_back(tmp_path: object) -> None:
    from alembic import command

    from storage.db import alembic_config

    engine = create_db_engine(f"sqlite:///{tmp_path}/roundtrip.db")
    upgrade(engine)
    command.downgrade(alembic_config(engine), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert {"kudos", "outbox", "promise", "checkin"} <= set(inspect(engine).get_table_names())
    engine.dispose()
