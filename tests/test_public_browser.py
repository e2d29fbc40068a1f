"""What a person sees: the published page in headless Chromium, served by a real uvicorn.

The server runs in a subprocess on a free port, against a temporary SQLite database set up
with the command line (`python -m app migrate`, `seed`, `tokens create`) and a catalogue
published over HTTP. Skipped only where Chromium is missing and CI is not set.
"""

import os
import shutil
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import httpx
import pytest

from app.config import ROOT

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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def cli(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return done.stdout


@pytest.fixture(scope="module")
def page_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    directory = tmp_path_factory.mktemp("browser")
    port = free_port()
    env = os.environ | {
        "DATABASE_URL": f"sqlite:///{directory / 'site.sqlite3'}",
        "HOST": "127.0.0.1",
        "PORT": str(port),
    }
    cli(env, "migrate")
    cli(env, "seed")
    secret = cli(env, "tokens", "create", "--role", "editor", "--unit", UNIT).splitlines()[-1]
    server = subprocess.Popen(
        [sys.executable, "-m", "app", "serve"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{base}/health").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server did not start")
            time.sleep(0.1)
        publish_sample(base, {"Authorization": f"Bearer {secret}"})
        yield f"{base}/api/v1/public/units/{UNIT}/catalogues/01?format=html"
    finally:
        server.terminate()
        server.wait(timeout=10)


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
