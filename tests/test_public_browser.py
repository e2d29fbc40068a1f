"""What a person sees: the published page in headless Chromium, served by a real uvicorn.

The server runs in a subprocess on a free port, against a temporary SQLite database set up
with the command line (`python -m app migrate`, `seed`, `tokens create`) and a catalogue
published over HTTP. Skipped only where Chromium is missing and CI is not set.
"""

import os
import shutil
import struct
import subprocess
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from tests.servers import cli, free_port, serving

pytestmark = pytest.mark.slow

UNIT = "350206"
EVIL = "<script>alert('x')</script>"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("no chromium binary (apt-get install chromium); CI is not set")
    return found


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("browser")
    env = {
        "DATABASE_URL": f"sqlite:///{directory / 'site.sqlite3'}",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }
    cli(env, "migrate")
    cli(env, "seed")
    secret = cli(env, "tokens", "create", "--role", "editor", "--unit", UNIT).splitlines()[-1]
    with serving(env, directory / "server.log") as server:
        publish_sample(server.base, {"Authorization": f"Bearer {secret}"})
        yield f"{server.base}/api/v1/public/units/{UNIT}/catalogues/01?format=html"


def publish_sample(base: str, headers: dict[str, str]) -> None:
    catalogue = f"{base}/api/v1/units/{UNIT}/catalogues/01"
    items: list[dict[str, object]] = [
        {"first_level": "规划编制", "name": "控制性详细规划", "channels": ["政府网站"]},
        {"first_level": "规划编制", "name": EVIL, "channels": ["政府网站", "政务服务中心"]},
        {"first_level": "规划实施", "name": "建设工程规划许可", "method": "依申请"},
    ]
    common: dict[str, object] = {
        "content": "规划文本及图件",
        "basis": "《中华人民共和国城乡规划法》",
        "time_limit": "信息形成或变更之日起20个工作日内",
        "responsible_body": "湖里区自然资源局",
        "method": "主动",
        "channels": ["政府网站"],
        "audience": "全社会",
        "levels": ["县级"],
    }
    with httpx.Client(headers=headers, timeout=30) as client:
        for item in items:
            client.post(f"{catalogue}/items", json=common | item).raise_for_status()
        client.post(f"{catalogue}/compile", json={"compiled_on": "2020-10-20"}).raise_for_status()
        client.post(
            f"{catalogue}/publish",
            json={"published_on": "2020-11-05", "url": "http://www.huli.gov.cn/zwgk/cxgh/"},
        ).raise_for_status()


def run_chromium(tmp_path: Path, *args: str) -> str:
    done = subprocess.run(
        [
            chromium(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            f"--user-data-dir={tmp_path / 'profile'}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )
    return done.stdout


class VisibleText(HTMLParser):
    """The text a reader sees (not <head>), and the elements the DOM holds."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        if tag in ("head", "style", "script"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("head", "style", "script"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self._hidden and data.strip():
            self.text.append(data.strip())


def test_the_page_shows_the_standard_table(page_url: str, tmp_path: Path) -> None:
    dom = run_chromium(tmp_path, "--dump-dom", page_url)
    seen = VisibleText()
    seen.feed(dom)
    text = "\n".join(seen.text)
    assert "<title>湖里区城乡规划领域基层政务公开标准目录</title>" in dom
    assert "湖里区城乡规划领域基层政务公开标准目录" in seen.text
    for header in (
        "序号",
        "公开事项",
        "一级事项",
        "二级事项",
        "公开内容（要素）",
        "公开依据",
        "公开时限",
        "公开主体",
        "公开渠道和载体",
        "公开对象",
        "全社会",
        "特定群体",
        "公开方式",
        "主动",
        "依申请",
        "公开层级",
        "县级",
        "乡级",
    ):
        assert header in seen.text, header
    assert "控制性详细规划" in seen.text
    assert "■政府网站" in seen.text
    assert "□政府公报" in seen.text
    assert "√" in seen.text
    assert "第1版" in text
    assert "2020-11-05" in text
    # the value that looks like markup is shown as text, and no script made it into the DOM
    assert EVIL in seen.text
    assert "script" not in seen.tags
    assert 'rowspan="2"' in dom  # 规划编制 spans its two rows


def test_a_phone_width_screenshot(page_url: str, tmp_path: Path) -> None:
    shot = tmp_path / "phone.png"
    run_chromium(tmp_path, "--window-size=390,844", f"--screenshot={shot}", page_url)
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (390, 844)
    assert len(data) > 10_000  # a rendered page, not a blank one


HOST_PAGE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>网站栏目</title><link rel="stylesheet" href="{css}"></head>
<body><main>{fragment}</main></body></html>
"""
MEASURE = """() => {
  const cell = document.querySelector(".gkml-catalogue td.name");
  const head = document.querySelector(".gkml-catalogue thead");
  return [
    document.documentElement.scrollWidth, window.innerWidth, getComputedStyle(cell).display,
    getComputedStyle(head).display, getComputedStyle(cell, "::before").content,
  ];
}"""


def test_the_fragment_in_a_host_page_at_phone_width(page_url: str, tmp_path: Path) -> None:
    """A CMS includes the fragment server-side and links the sample stylesheet: at 390 px
    the table becomes cards (no header row, each value under its column's name) and nothing
    is wider than the screen; at 1280 px it is the table."""
    executable = chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    base = page_url.split("/api/")[0]
    fragment = httpx.get(page_url.replace("format=html", "format=fragment")).text
    host = HOST_PAGE.format(css=f"{base}/dashboard/static/fragment.css", fragment=fragment)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.set_content(host, wait_until="load")
            scroll_width, inner_width, cell, head, label = page.evaluate(MEASURE)
            assert inner_width == 390
            assert scroll_width <= 390
            assert (cell, head) == ("block", "none")
            assert "二级事项" in label
            assert EVIL in page.inner_text(".gkml-catalogue")
            page.screenshot(path=str(tmp_path / "fragment-390.png"), full_page=True)
            page.set_viewport_size({"width": 1280, "height": 900})
            _, _, cell, head, _ = page.evaluate(MEASURE)
            assert (cell, head) == ("table-cell", "table-header-group")
        finally:
            browser.close()
