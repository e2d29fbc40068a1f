"""The pages in a real browser: Debian's Chromium driven by Playwright, against a real uvicorn.

Sign in, the city page at two as_of dates, a street editor's workspace (download a draft,
upload an edited one, the dry run, apply, the count changes), a district outside the scope
(403), sign out (the cookie no longer works). Screenshots at 1280 and 390 px go to the test's
tmp dir. Skipped only where Chromium or Playwright is missing and CI is not set.
"""

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from tests.factories import report_body
from tests.servers import Server, cli, free_port, serving

pytestmark = pytest.mark.slow

DISTRICT = "350206"  # 湖里区
STREET = "350206001"
OTHER_DISTRICT = "350203"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]
WIDTHS = {"desktop": (1280, 900), "phone": (390, 844)}
PANELS = ("#timeliness", "#requests", "#filing", "#agenda", "#requests-due", "#records-due")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required in CI (.ci/run installs Debian's chromium)")
        pytest.skip("no chromium binary (apt-get install chromium); CI is not set")
    return found


ITEM: dict[str, Any] = {
    "first_level": "规划编制",
    "content": "规划文本及图件",
    "basis": "《中华人民共和国城乡规划法》",
    "time_limit": "信息形成或变更之日起20个工作日内",
    "responsible_body": "湖里区自然资源局",
    "method": "主动",
    "channels": ["政府网站"],
    "audience": "全社会",
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Server, dict[str, str]]]:
    directory = tmp_path_factory.mktemp("dashboard")
    env = {
        "DATABASE_URL": f"sqlite:///{directory / 'site.sqlite3'}",
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }
    cli(env, "migrate")
    cli(env, "seed")
    secrets = {
        name: cli(env, "tokens", "create", *args).splitlines()[-1]
        for name, args in {
            "auditor": ("--role", "auditor"),
            "district": ("--role", "editor", "--unit", DISTRICT),
            "street": ("--role", "editor", "--unit", STREET),
        }.items()
    }
    with serving(env, directory / "server.log") as server:
        sample(server.base, secrets)
        yield server, secrets


def sample(base: str, secrets: dict[str, str]) -> None:
    """湖里区 01 compiled 2020-10-20 and published 2020-11-05 with two items, one with a record
    published late, one blank; the street's 01 has one item; applications open in both (one
    overdue on 2020-11-12, one due within 5 working days); 湖里区's 2019 annual report
    published 2020-01-20."""
    with httpx.Client(base_url=f"{base}/api/v1", timeout=30) as client:
        district = {"Authorization": f"Bearer {secrets['district']}"}
        catalogue = f"/units/{DISTRICT}/catalogues/01"
        item = ITEM | {"name": "控制性详细规划", "levels": ["县级"]}
        created = client.post(f"{catalogue}/items", json=item, headers=district)
        created.raise_for_status()
        item = ITEM | {"name": "控制性详细规划修改", "levels": ["县级"]}
        client.post(f"{catalogue}/items", json=item, headers=district).raise_for_status()
        client.post(
            f"{catalogue}/compile", json={"compiled_on": "2020-10-20"}, headers=district
        ).raise_for_status()
        client.post(
            f"{catalogue}/publish",
            json={"published_on": "2020-11-05", "url": "http://www.huli.gov.cn/zwgk/cxgh/"},
            headers=district,
        ).raise_for_status()
        late = {
            "item_id": created.json()["id"],
            "title": "湖里区某片区控制性详细规划批复",
            "url": "http://www.huli.gov.cn/zwgk/cxgh/1.html",
            "formed_on": "2020-10-01",
            "published_on": "2020-11-10",
        }
        client.post(
            f"/units/{DISTRICT}/records", json={"records": [late]}, headers=district
        ).raise_for_status()
        street = {"Authorization": f"Bearer {secrets['street']}"}
        item = ITEM | {"name": "村庄规划", "levels": ["乡级"]}
        client.post(
            f"/units/{STREET}/catalogues/01/items", json=item, headers=street
        ).raise_for_status()
        for unit, headers in ((DISTRICT, district), (STREET, street)):
            for received_on, reference in (("2020-09-25", "依申-1"), ("2020-10-20", "依申-2")):
                client.post(
                    f"/units/{unit}/requests",
                    json={
                        "received_on": received_on,
                        "channel": "网络",
                        "applicant_type": "natural",
                        "summary": "申请公开某地块征收补偿方案",
                        "reference": reference,
                    },
                    headers=headers,
                ).raise_for_status()
        report = f"/units/{DISTRICT}/annual-reports/2019"
        client.put(report, json=report_body("2019"), headers=district).raise_for_status()
        client.post(
            f"{report}/publish",
            json={"published_on": "2020-01-20", "url": "http://www.huli.gov.cn/ndbg/2019"},
            headers=district,
        ).raise_for_status()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = chromium()
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=FLAGS)
        yield launched
        launched.close()


def sign_in(page: Any, base: str, secret: str) -> None:
    page.goto(f"{base}/dashboard")
    page.fill("#token", secret)
    page.click("form[action='/dashboard/login'] button[type=submit]")
    page.wait_for_load_state()


def shoot(page: Any, directory: Path, name: str) -> None:
    for label, (width, height) in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": height})
        path = directory / f"{name}-{label}-{width}.png"
        page.screenshot(path=str(path), full_page=True)
        assert path.stat().st_size > 10_000, path  # a rendered page, not a blank one
        # nothing wider than the window but the tables' own scrolling boxes
        overflow = page.evaluate("document.documentElement.scrollWidth")
        assert overflow <= width, (name, width, overflow)
        for table in PANELS:  # each panel on its own, to look at closely
            found = page.locator(table)
            if found.count():
                found.screenshot(path=str(directory / f"{name}-{label}-{table[1:]}.png"))
        if label == "phone":  # the panels fit a phone: no table scrolls sideways in its box
            wide = page.evaluate(
                "Array.from(document.querySelectorAll('table.fit, table.stack'))"
                ".filter(t => t.scrollWidth > t.parentElement.clientWidth + 1).map(t => t.id)"
            )
            assert wide == [], (name, wide)
    page.set_viewport_size({"width": 1280, "height": 900})


def figure(page: Any, name: str) -> str:
    value: str = page.get_attribute(f"[data-figure='{name}']", "data-value")
    return value


def cell(page: Any, unit: str, domain: str) -> str:
    value: str = page.get_attribute(f"[data-figure='cell:{unit}:{domain}']", "data-value")
    return value


def test_the_auditor_sees_the_city_change_between_two_days(
    site: tuple[Server, dict[str, str]], browser: Any, tmp_path: Path
) -> None:
    server, secrets = site
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    sign_in(page, server.base, secrets["auditor"])
    assert page.url.endswith("/dashboard/city")
    page.fill("#as_of", "2020-11-04")
    page.click("form[method=get] button[type=submit]")
    page.wait_for_load_state()
    assert "as_of=2020-11-04" in page.url
    assert cell(page, DISTRICT, "01") == "compiled"
    assert page.locator("#grid tbody tr").count() == 6  # Xiamen's six districts
    shoot(page, tmp_path, "city-2020-11-04")
    page.fill("#as_of", "2020-11-12")
    page.click("form[method=get] button[type=submit]")
    page.wait_for_load_state()
    assert cell(page, DISTRICT, "01") == "published"
    assert page.locator("svg.bar").count() > 0
    for panel in ("#timeliness", "#requests", "#filing"):
        assert page.is_visible(panel), panel
    assert figure(page, f"timeliness:{DISTRICT}:late") == "1"
    assert figure(page, f"timeliness:{DISTRICT}:blank") == "1"
    assert figure(page, f"requests:{DISTRICT}:open") == "4"
    assert figure(page, f"requests:{DISTRICT}:overdue") == "2"
    assert figure(page, f"filing:{DISTRICT}:on_time") == "1"
    shoot(page, tmp_path, "city-2020-11-12")
    # a panel's figure links to the JSON behind it
    source = page.get_attribute(f"[data-figure='requests:{DISTRICT}:open'] a", "href")
    response = page.request.get(f"{server.base}{source}")
    assert response.status == 200
    assert response.json()["units"]
    # the sorting script runs: the ranking sorts by score on a click
    page.click("#ranking thead th:nth-child(3)")
    assert page.get_attribute("#ranking thead th:nth-child(3)", "aria-sort") == "ascending"
    # the figure's link opens the JSON behind it in the same session
    source = page.get_attribute("#ranking tbody td:nth-child(3) a", "href")
    response = page.request.get(f"{server.base}{source}")
    assert response.status == 200
    assert response.json()["districts"]
    page.goto(f"{server.base}/dashboard/districts/{DISTRICT}?as_of=2020-11-12")
    for panel in ("#timeliness", "#requests", "#filing"):
        assert page.is_visible(panel), panel
    assert figure(page, f"requests:{STREET}:due_within_5") == "1"
    assert figure(page, f"filing:{DISTRICT}:state") == "on_time"
    shoot(page, tmp_path, "district")
    page.goto(f"{server.base}/dashboard/units/{DISTRICT}?as_of=2020-11-12")
    assert page.locator("#records-due tbody tr").count() == 1  # the blank item
    assert page.locator("#requests-due tbody tr").count() == 2
    shoot(page, tmp_path, "unit-district")
    context.close()


def test_a_street_clerk_downloads_edits_uploads_and_applies_a_draft(
    site: tuple[Server, dict[str, str]], browser: Any, tmp_path: Path
) -> None:
    server, secrets = site
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    sign_in(page, server.base, secrets["street"])
    assert page.url.endswith(f"/dashboard/units/{STREET}")
    assert page.get_attribute(f"[data-figure='items:{STREET}:01']", "data-value") == "1"
    page.goto(f"{server.base}/dashboard/units/{STREET}?as_of=2020-11-12")
    assert page.is_visible("#agenda")
    assert page.locator("#requests-due tbody tr").count() == 2  # one overdue, one due soon
    assert figure(page, f"requests:{STREET}:overdue") == "1"
    shoot(page, tmp_path, "unit")
    page.goto(f"{server.base}/dashboard/units/{STREET}")

    with page.expect_download() as download_info:
        page.click(f"a[href='/dashboard/units/{STREET}/catalogues/01.xlsx']")
    draft = tmp_path / "draft.xlsx"
    download_info.value.save_as(str(draft))
    workbook = load_workbook(draft)
    sheet = workbook.active
    assert sheet is not None
    last = [c.value for c in sheet[sheet.max_row]]
    assert "村庄规划" in last
    for name in ("乡村建设规划许可", "农村宅基地审批"):
        sheet.append([name if value == "村庄规划" else value for value in last])
    edited = tmp_path / "edited.xlsx"
    out = io.BytesIO()
    workbook.save(out)
    edited.write_bytes(out.getvalue())

    page.select_option("#domain", "01")
    page.set_input_files("#file", str(edited))
    page.click("#upload button[type=submit]")
    page.wait_for_load_state()
    assert page.get_attribute("[data-figure='import:items']", "data-value") == "3"
    assert page.get_attribute("[data-figure='import:errors']", "data-value") == "0"
    assert page.locator("#preview tbody tr").count() == 3
    shoot(page, tmp_path, "import-dry-run")
    page.click("#apply")
    page.wait_for_load_state()
    assert page.is_visible("#imported")
    assert page.get_attribute(f"[data-figure='items:{STREET}:01']", "data-value") == "3"

    response = page.goto(f"{server.base}/dashboard/districts/{OTHER_DISTRICT}")
    assert response is not None
    assert response.status == 403
    assert page.is_visible("#error-logout")
    shoot(page, tmp_path, "forbidden")
    page.click("#back")  # the way back to the clerk's own page
    page.wait_for_load_state()
    assert page.url.endswith(f"/dashboard/units/{STREET}")

    page.goto(f"{server.base}/dashboard/units/{STREET}")
    cookie = next(c for c in context.cookies() if c["name"] == "gkml_session")
    assert cookie["httpOnly"]
    assert cookie["sameSite"] == "Strict"
    page.click("#logout")
    page.wait_for_load_state()
    assert page.is_visible("#token")
    with httpx.Client(base_url=server.base, timeout=30) as client:
        client.cookies.set("gkml_session", cookie["value"])
        again = client.get(f"/dashboard/units/{STREET}", follow_redirects=False)
        assert again.status_code == 303
        assert client.get(f"/api/v1/units/{STREET}/catalogues").status_code == 401
    context.close()
