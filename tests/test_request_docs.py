"""Every worked example of docs/requests.md ("Worked examples on the 2020 calendar"), replayed
through the API: the JSON block after each example is the application, its events, the day
it is looked at and what the service must answer. Change the doc and this follows it."""

import json
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session

from app.config import ROOT
from tests.factories import HULI, add_request, token

DOC = ROOT / "docs" / "requests.md"


def worked_examples() -> list[dict[str, Any]]:
    text = DOC.read_text(encoding="utf-8")
    section = text.split("## Worked examples on the 2020 calendar", 1)[1]
    blocks = re.findall(r"^```json\n(.*?)^```", section, re.M | re.S)
    return [json.loads(block) for block in blocks]


def test_the_doc_has_its_worked_examples() -> None:
    examples = worked_examples()
    assert len(examples) >= 10
    # before 国庆/中秋, before 春节, a 补正, a third-party pause with an extension, a year missing
    received = {example["received_on"][:7] for example in examples}
    assert {"2020-09", "2020-01", "2020-04", "2020-06", "2026-11"} <= received
    kinds = {event["kind"] for example in examples for event in example["events"]}
    assert {"correction_requested", "consultation_started", "extended"} <= kinds


@pytest.mark.parametrize("example", worked_examples(), ids=lambda e: e["received_on"])
def test_each_worked_example_is_what_the_service_answers(
    client: TestClient, session: Session, example: dict[str, Any]
) -> None:
    editor = token(session, "editor", HULI)
    created = add_request(client, editor, received_on=example["received_on"])
    tag = created["etag"]
    for event in example["events"]:
        answer = client.post(
            f"/api/v1/requests/{created['id']}/events",
            json=event,
            headers={**editor, "If-Match": tag},
        )
        assert answer.status_code == 200, answer.text
        tag = answer.headers["ETag"]
    read = client.get(
        f"/api/v1/requests/{created['id']}", params={"as_of": example["as_of"]}, headers=editor
    )
    assert read.status_code == 200, read.text
    got = read.json()
    for field, value in example["expect"].items():
        if field == "note_contains":
            assert value in (got["note"] or ""), got["note"]
        else:
            assert got[field] == value, (field, got)


def test_the_readme_and_the_api_doc_link_it() -> None:
    assert "(docs/requests.md)" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert "(requests.md)" in (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
