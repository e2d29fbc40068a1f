"""Tokens over HTTP for admins: list, issue (the secret once), revoke with If-Match; logged."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, col, select

from app.models.common import today_in_beijing
from app.models.history import Change
from tests.factories import HULI, token

TOKENS = "/api/v1/tokens"


@pytest.fixture
def admin(session: Session) -> dict[str, str]:
    return token(session, "admin")


def issue(client: TestClient, admin: dict[str, str], **body: Any) -> Any:
    return client.post(TOKENS, json=body, headers=admin)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def test_an_admin_issues_an_editor_token_that_works_and_is_listed_without_its_secret(
    client: TestClient, admin: dict[str, str]
) -> None:
    made = issue(client, admin, role="editor", unit_code=HULI, expires_days=30, label="湖里区网站")
    assert made.status_code == 201, made.text
    body = made.json()
    secret = body["secret"]
    assert secret.startswith("gk_")
    assert body["prefix"] == secret[:10]
    assert (body["role"], body["unit_code"], body["label"]) == ("editor", HULI, "湖里区网站")
    expires = datetime.fromisoformat(body["expires_at"])
    assert timedelta(days=29) < expires - datetime.now(UTC) <= timedelta(days=30)
    assert made.headers["Cache-Control"] == "no-store"
    assert client.get(f"/api/v1/units/{HULI}/catalogues", headers=bearer(secret)).status_code == 200

    listed = client.get(TOKENS, headers=admin)
    assert listed.status_code == 200
    assert secret not in listed.text
    row = next(r for r in listed.json() if r["id"] == body["id"])
    assert set(row) == {
        "id",
        "prefix",
        "role",
        "unit_code",
        "label",
        "created_at",
        "expires_at",
        "revoked_at",
    }
    one = client.get(f"{TOKENS}/{body['id']}", headers=admin)
    assert one.json() == row
    assert one.headers["ETag"] == made.headers["ETag"]


def test_expires_on_is_the_last_day_the_token_works(
    client: TestClient, admin: dict[str, str]
) -> None:
    day = today_in_beijing() + timedelta(days=10)
    made = issue(client, admin, role="auditor", expires_on=day.isoformat())
    assert made.status_code == 201, made.text
    expires = datetime.fromisoformat(made.json()["expires_at"])
    assert expires == datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=UTC)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"role": "editor", "expires_days": 30}, "unit_code"),
        ({"role": "editor", "unit_code": "999999", "expires_days": 30}, "unit_code"),
        ({"role": "auditor", "unit_code": HULI, "expires_days": 30}, "unit_code"),
        ({"role": "admin", "unit_code": HULI, "expires_days": 30}, "unit_code"),
        ({"role": "auditor", "expires_days": 0}, "expires_days"),
        ({"role": "auditor", "expires_days": -1}, "expires_days"),
        ({"role": "auditor", "expires_days": 3661}, "expires_days"),
        ({"role": "auditor", "expires_on": "today"}, "expires_on"),
        ({"role": "auditor", "expires_on": "2099-01-01"}, "expires_on"),
        ({"role": "auditor", "expires_days": 3, "expires_on": "2099-01-01"}, "expires_on"),
        ({"role": "auditor"}, None),  # over HTTP a token always expires
        ({"role": "reader", "expires_days": 3}, "role"),
        ({"role": "auditor", "expires_days": 3, "secret": "gk_mine"}, "secret"),
    ],
)
def test_issue_refuses_what_the_cli_refuses(
    client: TestClient, admin: dict[str, str], session: Session, body: dict[str, Any], field: str
) -> None:
    if body.get("expires_on") == "today":  # Beijing's today when the test runs
        body = body | {"expires_on": today_in_beijing().isoformat()}
    answer = issue(client, admin, **body)
    assert answer.status_code == 422, answer.text
    if field is not None:
        assert field in str(answer.json()["detail"])
    assert session.exec(select(Change).where(Change.entity == "token")).all() == []


def test_only_admins_manage_tokens(client: TestClient, session: Session) -> None:
    for caller in (token(session, "auditor"), token(session, "editor", HULI)):
        assert client.get(TOKENS, headers=caller).status_code == 403
        made = client.post(TOKENS, json={"role": "auditor", "expires_days": 3}, headers=caller)
        assert made.status_code == 403
        assert client.delete(f"{TOKENS}/1", headers=caller).status_code == 403
    assert client.get(TOKENS).status_code == 401


def test_revoke_needs_the_tokens_etag_and_the_token_stops_working(
    client: TestClient, admin: dict[str, str]
) -> None:
    made = issue(client, admin, role="editor", unit_code=HULI, expires_days=30)
    token_id, secret, etag = made.json()["id"], made.json()["secret"], made.headers["ETag"]
    url = f"{TOKENS}/{token_id}"
    assert client.delete(url, headers=admin).status_code == 428
    assert client.delete(url, headers=admin | {"If-Match": '"t1.stale"'}).status_code == 412
    assert client.get(f"/api/v1/units/{HULI}/catalogues", headers=bearer(secret)).status_code == 200

    revoked = client.delete(url, headers=admin | {"If-Match": etag})
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    assert revoked.headers["ETag"] != etag
    assert client.get(f"/api/v1/units/{HULI}/catalogues", headers=bearer(secret)).status_code == 401
    assert client.delete(url, headers=admin | {"If-Match": etag}).status_code == 412
    again = client.delete(url, headers=admin | {"If-Match": revoked.headers["ETag"]})
    assert again.status_code == 409
    assert client.delete(f"{TOKENS}/999999", headers=admin | {"If-Match": etag}).status_code == 404


def test_every_token_action_is_in_the_history_never_the_secret(
    client: TestClient, admin: dict[str, str], session: Session
) -> None:
    made = issue(client, admin, role="auditor", expires_days=7, label="统计")
    token_id, secret = made.json()["id"], made.json()["secret"]
    client.delete(f"{TOKENS}/{token_id}", headers=admin | {"If-Match": made.headers["ETag"]})
    rows = session.exec(
        select(Change).where(Change.entity == "token").order_by(col(Change.id))
    ).all()
    assert [(r.action, r.entity_id, r.actor_role) for r in rows] == [
        ("create", str(token_id), "admin"),
        ("revoke", str(token_id), "admin"),
    ]
    assert all(r.token_id is not None and r.token_id != token_id for r in rows)  # the admin's
    before, after = rows[1].before or {}, rows[1].after or {}
    assert before["revoked_at"] is None
    assert after["revoked_at"] is not None
    logged = repr([(r.before, r.after, r.note) for r in rows])
    assert secret not in logged
    assert secret[10:20] not in logged
