"""The city page against the completeness audit JSON it shows, in the same run.

City scale (the 50-unit dataset of bench/audit_data.py, ~60,000 items, SQLite). Both are
requested in-process (TestClient) as a signed-in browser and an auditor's client would:
the page with its session cookie, the JSON with the bearer token; the same as_of and the
same units (limit=1000, every unit of the city). Goal: the page ≤ 2× the JSON.
"""

from __future__ import annotations

import os
import re

from app.db import make_engine
from app.main import app
from bench.audit import AS_OF, CITY_URL, DATA, _median_ms
from bench.audit_data import CITY, generate
from bench.harness import bearer, in_process

RUNS = int(os.environ.get("BENCH_RUNS", "7"))
GOAL = 2.0


def main() -> str:
    DATA.mkdir(exist_ok=True)
    generate(CITY_URL, CITY, quiet=True)
    engine = make_engine(CITY_URL)

    headers = bearer(engine, "auditor", label="bench pages")
    secret = headers["Authorization"].removeprefix("Bearer ")  # the page signs in with it
    try:
        with in_process(engine) as api, in_process(engine) as browser:
            form = browser.get("/dashboard").text
            csrf = re.search(r'name="csrf" value="([^"]+)"', form)
            assert csrf is not None
            signed = browser.post(
                "/dashboard/login",
                data={"token": secret, "csrf": csrf.group(1)},
                follow_redirects=False,
            )
            assert signed.status_code == 303, signed.text
            params = {"as_of": AS_OF.isoformat()}
            sizes: dict[str, int] = {}

            def page() -> None:
                response = browser.get("/dashboard/city", params=params)
                assert response.status_code == 200, response.text
                sizes["page"] = len(response.content)

            def json() -> None:
                response = api.get(
                    "/api/v1/audit/completeness",
                    params={**params, "limit": "1000"},
                    headers=headers,
                )
                assert response.status_code == 200, response.text
                sizes["json"] = len(response.content)
                sizes["units"] = response.json()["total_units"]

            json_ms = _median_ms(json, RUNS)
            page_ms = _median_ms(page, RUNS)
    finally:
        app.dependency_overrides.clear()
        engine.dispose()
    ratio = page_ms / json_ms
    verdict = "meets" if ratio <= GOAL else "MISSES"
    return "\n".join(
        [
            "## Pages: the city page against the JSON it shows",
            "",
            f"City dataset ({sizes['units']} units), as_of {AS_OF}, median of {RUNS} runs "
            "after a warm-up, in-process (TestClient). The page includes the timeliness, "
            "request-register and annual-report panels (their audits run for the page: the "
            "dataset's published catalogues have items but no records, no applications and "
            "no annual reports).",
            "",
            "| request | ms | bytes |",
            "| --- | ---: | ---: |",
            f"| `GET /api/v1/audit/completeness?limit=1000` (auditor's token) | {json_ms:.1f} "
            f"| {sizes['json']:,} |",
            f"| `GET /dashboard/city` (signed-in session) | {page_ms:.1f} | {sizes['page']:,} |",
            "",
            f"Ratio page / JSON: **{ratio:.2f}** (goal ≤ {GOAL:g}: {verdict}).",
        ]
    )
