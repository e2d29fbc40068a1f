"""`python -m app check` and `recompute`: stored derived values against their definitions.

The values are corrupted with plain SQL, as a rule changed by an upgrade would leave them.
"""

import os
import subprocess
import sys

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text
from sqlmodel import Session

from app.config import ROOT
from app.main import app
from app.services import derived
from tests.factories import HULI, add_item, add_request, publish, token
from tests.test_records import push, record


def cli(engine: Engine, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_check_names_every_corrupted_value_and_recompute_mends_them_once(live: Engine) -> None:
    with Session(live) as session:
        editor = token(session, "editor", HULI)
        session.commit()
    with TestClient(app) as client:
        item = add_item(client, editor, time_limit="及时")
        add_item(client, editor, first_level="规划编制", name="控制性详细规划")
        publish(client, editor)
        saved = push(client, editor, [record(item["id"], published_on="2020-12-30")])
        assert saved.status_code == 200, saved.text
        record_id = saved.json()["records"][0]["id"]
        request_id = add_request(client, editor)["id"]
        answered = add_request(client, editor, received_on="2020-12-28")
        event = client.post(
            f"/api/v1/requests/{answered['id']}/events",
            json={"kind": "answered", "on": "2021-01-05", "outcome": "partial"},
            headers={**editor, "If-Match": answered["etag"]},
        )
        assert event.status_code == 200, event.text
        answered_id = answered["id"]
    assert cli(live, "check").returncode == 0  # a database the app wrote is in line

    with live.begin() as connection:
        catalogue_id, version_id = connection.execute(
            text(
                "SELECT c.id, v.id FROM catalogues c JOIN catalogue_versions v"
                " ON v.catalogue_id = c.id WHERE c.unit_code = :u AND c.domain_code = '01'"
            ),
            {"u": HULI},
        ).one()
        guide_id, mask = connection.execute(
            text("SELECT id, level_mask FROM guide_items WHERE domain_code = '01' ORDER BY id")
        ).first()  # type: ignore[misc]
        statements = (
            f"UPDATE items SET flags = 0, lacking = 5, name_key = 'x' WHERE id = {item['id']}",
            f"UPDATE catalogue_versions SET first_level_count = 9 WHERE id = {version_id}",
            f"UPDATE catalogues SET item_count = 99 WHERE id = {catalogue_id}",
            f"UPDATE catalogue_lists SET absent_items = '[]' WHERE catalogue_id = {catalogue_id}",
            f"UPDATE records SET due_on = '2000-01-03', late_days = 42 WHERE id = {record_id}",
            f"UPDATE disclosure_requests SET due_on = '2000-01-03', received_year = 1999,"
            f" report_row = 'granted' WHERE id = {request_id}",
            f"UPDATE disclosure_requests SET closed_year = 2019, report_row = 'other'"
            f" WHERE id = {answered_id}",
            f"UPDATE guide_items SET level_mask = 0 WHERE id = {guide_id}",
            f"UPDATE record_counts SET late = 7 WHERE item_id = {item['id']}",
        )
        for statement in statements:
            connection.execute(text(statement))
    try:
        found = cli(live, "check")
        assert found.returncode == 1
        lines = found.stdout.splitlines()
        named = {" ".join(line.split(":")[0].split()) for line in lines}
        assert {
            f"items {item['id']} flags",
            f"items {item['id']} lacking",
            f"items {item['id']} name_key",
            f"catalogue_versions {version_id} first_level_count",
            f"catalogues {catalogue_id} item_count",
            f"catalogue_lists {catalogue_id} absent_items",
            f"records {record_id} due_on",
            f"records {record_id} late_days",
            f"disclosure_requests {request_id} due_on",
            f"disclosure_requests {request_id} received_year",
            f"disclosure_requests {request_id} report_row",
            f"disclosure_requests {answered_id} closed_year",
            f"disclosure_requests {answered_id} report_row",
            f"guide_items {guide_id} level_mask",
            f"record_counts {catalogue_id}/{item['id']} late",
        } <= named
        assert "stored 99, defined 2" in found.stdout
        assert f"disclosure_requests {answered_id} closed_year: stored 2019, defined 2021" in (
            found.stdout
        )

        mended = cli(live, "recompute")
        assert mended.returncode == 0, mended.stderr
        assert "catalogue " in mended.stderr  # progress, one line per catalogue changed
        # (fewer than check named: the guide is mended first, and the counts then follow it)
        assert int(mended.stdout.split()[0]) >= 14
        assert cli(live, "check").returncode == 0
        with live.connect() as connection:
            stored = connection.execute(
                text(
                    "SELECT received_year, closed_year, report_row FROM disclosure_requests"
                    f" WHERE id IN ({request_id}, {answered_id}) ORDER BY id"
                )
            ).all()
        assert [tuple(row) for row in stored] == [(2020, None, None), (2020, 2021, "partial")]
        again = cli(live, "recompute")
        assert again.returncode == 0
        assert again.stdout.strip() == "0 values changed"
    finally:
        with live.begin() as connection:  # guide items are shared reference rows
            connection.execute(
                text("UPDATE guide_items SET level_mask = :m WHERE id = :i"),
                {"m": mask, "i": guide_id},
            )


def test_recompute_resumes_after_a_catalogue_and_reports_progress(live: Engine) -> None:
    with Session(live) as session:
        editor = token(session, "editor", HULI)
        session.commit()
    with TestClient(app) as client:
        item = add_item(client, editor)
    with live.begin() as connection:
        connection.execute(text(f"UPDATE items SET lacking = 6 WHERE id = {item['id']}"))
        catalogue_id = connection.execute(
            text(f"SELECT catalogue_id FROM items WHERE id = {item['id']}")
        ).scalar_one()
    lines: list[str] = []
    with Session(live) as session:
        # the count and the audit's list follow the stored column, so they too differ now
        assert [d.column for d in derived.check(session)] == [
            "lacking",
            "lacking_count",
            "lacking_items",
        ]
    # Resuming after this catalogue skips it; from before it, it is mended.
    assert derived.recompute(lambda: Session(live), after=catalogue_id) == 0
    assert derived.recompute(lambda: Session(live), after=0, progress=lines.append) == 1
    assert f"(id {catalogue_id}): 1 values changed" in "\n".join(lines)
    with Session(live) as session:
        assert list(derived.check(session)) == []
