"""The schema comes only from migrations: models and migrations agree, and they round-trip."""

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from app.db import make_engine
from tests.conftest import alembic_config, database_url


def _differences(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))


def test_models_match_migrations(engine: Engine) -> None:
    assert _differences(engine) == []


def test_downgrade_to_base_drops_every_table_and_upgrade_builds_the_models_again(
    database_dir: Path,
) -> None:
    # A private database: the round trip never touches the one the other tests use.
    url = database_url(database_dir, "migrations")
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        command.upgrade(config, "head")
        assert set(SQLModel.metadata.tables) <= set(inspect(engine).get_table_names())
        command.downgrade(config, "base")
        left = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert left == set()
        command.upgrade(config, "head")
        assert _differences(engine) == []
    finally:
        command.downgrade(config, "base")
        engine.dispose()
