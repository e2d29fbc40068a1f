"""Website teams: public answers gzip- and brotli-compressed once per version, negotiated by
Accept-Encoding, an ETag and a 304 per encoding; the embeddable fragment (issue 18)."""

import gzip
import re
from html.parser import HTMLParser
from typing import Any

import brotli
import pytest
from fastapi.testclient import TestClient

from app.api.public import negotiate
from app.render import published as renderings
from app.services import published_cache
from tests.factories import HULI, add_item, publish

PUBLIC = "/api/v1/public"
ONE = f"{PUBLIC}/units/{HULI}/catalogues/01"
UNIT = f"{PUBLIC}/units/{HULI}/catalogues"
COLUMN = f"{ONE}/records"
NEGOTIABLE = [
    ONE,
    f"{ONE}?format=html",
    f"{ONE}?format=csv&version=1",
    f"{ONE}?format=fragment",
    UNIT,
    COLUMN,
    f"{COLUMN}?format=html",
    f"{COLUMN}?format=fragment",
]
DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}


@pytest.fixture
def published(client: TestClient, editor: dict[str, str]) -> None:
    add_item(client, editor, name="办事指南")
    add_item(client, editor, first_level="规划编制", name="<b>控制性详细规划</b>")
    assert publish(client, editor) == 1


def pull(client: TestClient, url: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the bytes exactly as they crossed the wire (not decoded)."""
    with client.stream("GET", url, headers=headers) as response:
        raw = b"".join(response.iter_raw())
        return response.status_code, dict(response.headers), raw


@pytest.mark.parametrize("url", NEGOTIABLE)
def test_each_encoding_decodes_to_exactly_the_identity_bytes(
    client: TestClient, published: None, url: str
) -> None:
    for _ in range(2):  # the first through the route, the second from memory (PublicEdge)
        status, plain_headers, plain = pull(client, url, **{"Accept-Encoding": "identity"})
        assert status == 200
        assert "content-encoding" not in plain_headers
        assert plain_headers["vary"] == "Accept-Encoding"
        etags = {plain_headers["etag"]}
        for encoding, decode in DECODE.items():
            status, headers, raw = pull(client, url, **{"Accept-Encoding": encoding})
            assert status == 200
            assert headers["content-encoding"] == encoding
            assert headers["vary"] == "Accept-Encoding"
            assert headers["content-type"] == plain_headers["content-type"]
            assert int(headers["content-length"]) == len(raw) < len(plain)
            assert decode(raw) == plain
            assert headers["etag"] == plain_headers["etag"][:-1] + f'-{encoding}"'
            etags.add(headers["etag"])
        assert len(etags) == 3


@pytest.mark.parametrize("url", NEGOTIABLE)
def test_a_304_for_each_encoding_and_only_for_its_own_etag(
    client: TestClient, published: None, url: str
) -> None:
    tags = {
        encoding: pull(client, url, **{"Accept-Encoding": encoding})[1]["etag"]
        for encoding in ("identity", "gzip", "br")
    }
    for clear in (True, False):  # through the route, then from memory
        for encoding, etag in tags.items():
            if clear:
                published_cache.clear_caches()
            status, headers, body = pull(
                client, url, **{"Accept-Encoding": encoding, "If-None-Match": etag}
            )
            assert (status, body) == (304, b"")
            assert headers["etag"] == etag
            assert headers["vary"] == "Accept-Encoding"
            for other, other_tag in tags.items():
                if other != encoding:
                    answered = pull(
                        client, url, **{"Accept-Encoding": other, "If-None-Match": etag}
                    )
                    assert answered[0] == 200
                    assert answered[1]["etag"] == other_tag


@pytest.mark.parametrize(
    ("accept", "chosen"),
    [
        (None, "identity"),
        ("", "identity"),
        ("gzip", "gzip"),
        ("br", "br"),
        ("gzip, deflate, br", "br"),
        ("gzip;q=1.0, br;q=0.5", "gzip"),
        ("br;q=0, gzip", "gzip"),
        ("br;q=0, gzip;q=0", "identity"),
        ("*", "br"),
        ("*;q=0.5, br;q=0", "gzip"),
        ("identity;q=0, *;q=0", "identity"),
        ("identity, gzip;q=0.5", "identity"),
        ("identity;q=0, gzip", "gzip"),
        ("x-gzip", "gzip"),
        ("GZIP", "gzip"),
        ("gzip;q=2", "identity"),
        ("gzip;q=nan", "identity"),
        ("deflate", "identity"),
        (",;,=;q=,", "identity"),
    ],
)
def test_accept_encoding_is_negotiated_with_q_values(accept: str | None, chosen: str) -> None:
    assert negotiate(accept) == chosen


def test_refusals_are_honoured_over_http(client: TestClient, published: None) -> None:
    for accept, expected in (
        ("br;q=0, gzip", "gzip"),
        ("gzip;q=0, br;q=0", None),
        ("*;q=0", None),
        ("gzip;q=0.2, br;q=0.1", "gzip"),
    ):
        for _ in range(2):  # route, then memory
            status, headers, _ = pull(client, ONE, **{"Accept-Encoding": accept})
            assert status == 200
            assert headers.get("content-encoding") == expected
            assert headers["vary"] == "Accept-Encoding"


def test_xlsx_is_left_alone(client: TestClient, published: None) -> None:
    for _ in range(2):
        status, headers, raw = pull(client, f"{ONE}?format=xlsx", **{"Accept-Encoding": "br"})
        assert status == 200
        assert "content-encoding" not in headers
        assert "vary" not in headers
        assert raw[:2] == b"PK"
        etag = headers["etag"]
        assert not etag.endswith('-br"')
        assert pull(client, f"{ONE}?format=xlsx", **{"If-None-Match": etag})[0] == 304


def test_a_new_publish_gives_new_etags_for_every_encoding(
    client: TestClient, editor: dict[str, str], published: None
) -> None:
    before = {e: pull(client, ONE, **{"Accept-Encoding": e}) for e in ("identity", "gzip", "br")}
    add_item(client, editor, name="新事项")
    assert publish(client, editor, published_on="2020-11-20") == 2
    for encoding, (_, old_headers, old_raw) in before.items():
        status, headers, raw = pull(
            client, ONE, **{"Accept-Encoding": encoding, "If-None-Match": old_headers["etag"]}
        )
        assert status == 200
        assert headers["etag"] != old_headers["etag"]
        assert raw != old_raw
        body = raw if encoding == "identity" else DECODE[encoding](raw)
        assert "新事项".encode() in body


def test_compressed_bytes_are_made_once_per_version(
    client: TestClient, published: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    real = renderings.compress

    def counting(body: bytes) -> Any:
        calls.append(len(body))
        return real(body)

    monkeypatch.setattr(renderings, "compress", counting)
    for _ in range(3):
        for encoding in ("identity", "gzip", "br"):
            assert pull(client, f"{ONE}?format=html", **{"Accept-Encoding": encoding})[0] == 200
    assert len(calls) == 1


class Shape(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.classes: set[str] = set()
        self.styled: list[str] = []
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            if name == "class" and value:
                self.classes.update(value.split())
            if name == "style":
                self.styled.append(tag)
            if name.startswith("on"):
                self.handlers.append(f"{tag} {name}")


def test_the_fragment_is_the_table_without_page_script_or_style(
    client: TestClient, published: None
) -> None:
    response = client.get(ONE, params={"format": "fragment"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    text = response.text
    assert text.startswith('<section class="gkml-catalogue"')
    assert text.rstrip().endswith("</section>")
    shape = Shape()
    shape.feed(text)
    for absent in ("html", "head", "body", "script", "style", "link", "meta", "title"):
        assert absent not in shape.tags, absent
    assert not shape.styled
    assert not shape.handlers
    assert {"gkml-catalogue", "gkml-title", "meta", "wrap", "number", "first", "name"} <= (
        shape.classes
    )
    assert {"text", "channels", "tick", "off"} <= shape.classes
    assert "&lt;b&gt;控制性详细规划&lt;/b&gt;" in text
    assert 'id="gkml-350206-01"' in text
    # the page holds the same table
    page = client.get(ONE, params={"format": "html"}).text
    table = re.search(r"<thead>.*</tbody>", text, re.S)
    assert table is not None
    assert table.group(0) in page


def test_the_records_fragment_has_no_page_around_it(client: TestClient, published: None) -> None:
    text = client.get(COLUMN, params={"format": "fragment"}).text
    shape = Shape()
    shape.feed(text)
    assert shape.tags[0] == "section"
    assert "records-column" in shape.classes
    for absent in ("html", "head", "body", "script", "style"):
        assert absent not in shape.tags
    assert not shape.styled
    assert not shape.handlers


def test_the_sample_stylesheet_is_served(client: TestClient) -> None:
    response = client.get("/dashboard/static/fragment.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    css = response.text
    assert ".gkml-catalogue td[data-label]::before" in css
    assert "max-width: 700px" in css
    assert ".records-column" in css


def test_an_unknown_format_still_names_fragment(client: TestClient, published: None) -> None:
    response = client.get(ONE, params={"format": "pdf"})
    assert response.status_code == 422
    assert "fragment" in response.json()["detail"][0]["msg"]
