"""Migration 0200_deadlines on a database that already has milestones and a later domain:
the backfill (plain SQL) gives the 2020 milestones the 26 pilot domains only."""

from pathlib import Path

from alembic import command
from sqlalchemy import text

from app.db import make_engine
from tests.conftest import alembic_config, database_url

PILOT = [f"{n:02d}" for n in range(1, 27)]


def test_backfill_gives_each_milestone_the_domains_it_was_set_for(database_dir: Path) -> None:
    url = database_url(database_dir, "milestone_domains")
    config = alembic_config(url)
    engine = make_engine(url)
    try:
        command.upgrade(config, "0107_pages")
        with engine.begin() as connection:
            for code in [*PILOT, "27"]:  # 27: added later by an auditor, marked pilot
                connection.execute(
                    text("INSERT INTO domains (code, name, is_pilot) VALUES (:c, :n, :p)"),
                    {"c": code, "n": f"领域{code}", "p": True},
                )
            for code, event, domains in (
                ("published", "published", "pilot"),
                ("completed", "published", "all"),
            ):
                connection.execute(
                    text(
                        "INSERT INTO milestones (code, title, due_on, event, unit_kinds, "
                        "domains, position) VALUES (:c, :c, '2020-11-10', :e, '[\"street\"]', "
                        ":d, 1)"
                    ),
                    {"c": code, "e": event, "d": domains},
                )
        command.upgrade(config, "head")
        with engine.connect() as connection:
            rows = connection.execute(
                text(
                    "SELECT milestone_code, domain_code FROM milestone_domains "
                    "ORDER BY milestone_code, domain_code"
                )
            ).all()
            counts_from: dict[str, object] = dict(
                connection.execute(text("SELECT code, counts_from FROM milestones")).all()
            )
        sets: dict[str, list[str]] = {}
        for milestone, domain in rows:
            sets.setdefault(milestone, []).append(domain)
        assert sets == {"published": PILOT, "completed": [*PILOT, "27"]}
        assert counts_from["published"] is None
        assert str(counts_from["completed"]) == "2021-01-01"
    finally:
        command.downgrade(config, "base")
        engine.dispose()
