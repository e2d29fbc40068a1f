"""The schema comes only from migrations: models and migrations agree, and they round-trip."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine
from sqlmodel import SQLModel

from tests.conftest import alembic_config


def test_models_match_migrations(engine: Engine) -> None:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []


def test_downgrade_to_base_and_upgrade_again(engine: Engine) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
        command.upgrade(config, "head")
    # The data the downgrade dropped is the seed: load it again for the tests after this one.
    from sqlmodel import Session

    from seed import load

    with Session(engine) as session:
        load(session)
        session.commit()


def test_every_integer_id_is_never_reused_on_sqlite(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return  # PostgreSQL sequences never hand a number out twice
    integer_keyed = [
        table.name
        for table in SQLModel.metadata.sorted_tables
        if [(c.name, c.type.python_type) for c in table.primary_key.columns] == [("id", int)]
    ]
    assert "items" in integer_keyed
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT name, sql FROM sqlite_master").fetchall()
        ddl: dict[str, str] = {name: sql or "" for name, sql in rows}
    assert [name for name in integer_keyed if "AUTOINCREMENT" not in ddl[name]] == []
