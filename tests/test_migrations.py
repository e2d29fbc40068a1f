"""The schema comes only from migrations: models and migrations agree, and they round-trip."""

from datetime import date
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
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


def test_existing_versions_take_the_names_of_their_unit_and_domain(database_dir: Path) -> None:
    """0200_loose_version_names fills the frozen names of the versions published before it."""
    url = database_url(database_dir, "version_names")
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        command.upgrade(config, "0107_pages")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO domains (code, name, is_pilot) VALUES ('01', '城乡规划', true);")
            )
            connection.execute(
                text("INSERT INTO units (code, name, kind) VALUES ('350206', '湖里区', 'district')")
            )
            connection.execute(
                text(
                    "INSERT INTO catalogues (id, unit_code, domain_code, applicable, status,"
                    " version, revision, created_at, updated_at) VALUES (1, '350206', '01', true,"
                    " 'published', 1, 1, '2020-11-05 00:00:00', '2020-11-05 00:00:00')"
                )
            )
            connection.execute(
                text(
                    "INSERT INTO catalogue_versions (id, catalogue_id, unit_code, domain_code,"
                    " number, published_on, published_url, published_at, item_count,"
                    " first_level_count, feed_seq, items) VALUES (1, 1, '350206', '01', 1,"
                    " '2020-11-05', 'http://www.xm.gov.cn/a', '2020-11-05 00:00:00', 0, 0, 1,"
                    " '[]')"
                )
            )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            names = connection.execute(
                text("SELECT unit_name, domain_name FROM catalogue_versions WHERE id = 1")
            ).one()
        assert tuple(names) == ("湖里区", "城乡规划")
    finally:
        command.downgrade(config, "base")
        engine.dispose()


def test_no_migration_imports_rule_or_service_code() -> None:
    """A migration must keep meaning what it meant: rules it needs are copied into it."""
    import ast

    from app.config import ROOT

    wrong: list[str] = []
    for path in sorted((ROOT / "migrations" / "versions").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            wrong += [
                f"{path.name}: {name}"
                for name in names
                if name.startswith(("app.rules", "app.services"))
                or name in ("app.rules", "app.services")
            ]
    assert wrong == []


def test_migration_0004_fills_items_with_its_own_copy_of_the_rules(database_dir: Path) -> None:
    """0004's frozen rules, run by alembic on rows that exist, agree with today's rules
    on these texts (a later rule change would show in `python -m app check`, not here)."""
    from app.rules import quality

    url = database_url(database_dir, "frozen_rules")
    config = alembic_config(url)
    engine = make_engine(url)
    texts = ("及时", "自信息形成之日起20个工作日内", "看情况")
    try:
        command.upgrade(config, "0005")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO domains (code, name, is_pilot) VALUES ('01', '城乡规划', true)")
            )
            connection.execute(
                text("INSERT INTO units (code, name, kind) VALUES ('350206', '湖里区', 'district')")
            )
            connection.execute(
                text(
                    "INSERT INTO catalogues (id, unit_code, domain_code, applicable, status,"
                    " version, revision, created_at, updated_at) VALUES (1, '350206', '01', true,"
                    " 'draft', 0, 1, '2020-11-05 00:00:00', '2020-11-05 00:00:00')"
                )
            )
            for n, limit in enumerate(texts, 1):
                connection.execute(
                    text(
                        "INSERT INTO items (id, catalogue_id, first_level, name, basis, time_limit,"
                        " responsible_body, channels, levels, position, lacking, revision,"
                        " created_at, updated_at) VALUES (:id, 1, '规划', :name, '依规定',"
                        " :limit, '本单位', '[]', '[]', :id, 3, 1, '2020-11-05 00:00:00',"
                        " '2020-11-05 00:00:00')"
                    ),
                    {"id": n, "name": f"事项 {n}", "limit": limit},
                )
            connection.execute(
                text(
                    "INSERT INTO guide_items (id, domain_code, first_level, name, channels, levels,"
                    " position) VALUES (1, '01', '规划', '控制性 详细规划', '[]', '[\"乡级\"]', 1)"
                )
            )
        command.upgrade(config, "0004")
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT name, flags, name_key FROM items ORDER BY id"))
            stored = [tuple(row) for row in rows]
            guide = tuple(
                connection.execute(text("SELECT name_key, level_mask FROM guide_items")).one()
            )
        assert stored == [
            (
                f"事项 {n}",
                quality.item_flags(
                    {
                        "basis": "依规定",
                        "time_limit": limit,
                        "responsible_body": "本单位",
                        "channels": [],
                    }
                ),
                quality.name_key(f"事项 {n}"),
            )
            for n, limit in enumerate(texts, 1)
        ]
        assert guide == ("控制性详细规划", quality.TOWNSHIP)
    finally:
        command.downgrade(config, "base")
        engine.dispose()


def test_migration_0301_fills_the_table_three_columns_of_existing_requests(
    database_dir: Path,
) -> None:
    """0301's frozen copy of the definition, run on rows that exist, agrees with today's
    (services.requests.report_columns); the events survive SQLite's table rebuild."""
    url = database_url(database_dir, "report_columns")
    config = alembic_config(url)
    engine = make_engine(url)
    requests = (
        # id, state, outcome, received_on, closed_on, expected
        (1, "open", None, "2020-12-30", None, (2020, None, None)),
        (2, "answered", "partial", "2020-12-30", "2021-01-06", (2020, 2021, "partial")),
        (3, "answered", "other", "2021-02-01", "2021-02-03", (2021, 2021, "other_misc")),
        (4, "withdrawn", None, "2021-02-01", "2021-02-02", (2021, 2021, "other_misc")),
        (5, "answered", "other_no_correction", "2021-03-01", "2021-03-30",
         (2021, 2021, "other_no_correction")),
        (6, "awaiting_correction", None, "2021-03-01", None, (2021, None, None)),
    )  # fmt: skip
    try:
        command.upgrade(config, "0200_audit_lists")
        with engine.begin() as connection:
            connection.execute(
                text("INSERT INTO units (code, name, kind) VALUES ('350206', '湖里区', 'district')")
            )
            for request_id, state, outcome, received_on, closed_on, _ in requests:
                connection.execute(
                    text(
                        "INSERT INTO disclosure_requests (id, received_on, applicant_type,"
                        " summary, unit_code, channel, state, clock_start, extended_days,"
                        " outcome, closed_on, revision, created_at, updated_at) VALUES (:id, :r,"
                        " 'natural', '摘要', '350206', '网络', :s, :r, 0, :o, :c, 1,"
                        " '2021-01-01 00:00:00', '2021-01-01 00:00:00')"
                    ),
                    {"id": request_id, "r": received_on, "s": state, "o": outcome, "c": closed_on},
                )
            connection.execute(
                text(
                    'INSERT INTO disclosure_request_events (id, kind, "on", outcome, request_id,'
                    " created_at) VALUES (1, 'answered', '2021-01-06', 'partial', 2,"
                    " '2021-01-06 00:00:00')"
                )
            )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            stored = connection.execute(
                text(
                    "SELECT received_year, closed_year, report_row FROM disclosure_requests"
                    " ORDER BY id"
                )
            ).all()
            events = connection.execute(
                text("SELECT count(*) FROM disclosure_request_events")
            ).scalar_one()
        assert [tuple(row) for row in stored] == [expected for *_, expected in requests]
        assert events == 1
        from app.rules.request_clock import Clock
        from app.services.requests import report_columns

        for _, state, outcome, received_on, closed_on, expected in requests:
            clock = Clock(
                state=state,
                outcome=outcome,
                closed_on=None if closed_on is None else date.fromisoformat(closed_on),
            )
            today = report_columns(date.fromisoformat(received_on), clock)
            assert tuple(today.values()) == expected
    finally:
        command.downgrade(config, "base")
        engine.dispose()
