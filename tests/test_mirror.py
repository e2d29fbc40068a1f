"""`python -m app mirror` against a real server: layout, bytes, incremental runs, interruption.

The service is `python -m app serve` in a subprocess on a temporary database (SQLite, or a
scratch PostgreSQL database when TEST_DATABASE_URL names one) set up with the command
line; catalogues are published over HTTP. The mirror runs as the command (a subprocess,
as a website team would run it) except where a test needs its internals. A file
rewritten by the mirror gets a new inode (it is renamed into place), which is how the
tests tell written files from untouched ones: the mirror stamps each file with the
service's Last-Modified, not with the time it wrote it.
"""

import gzip
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from email.utils import parsedate_to_datetime
from pathlib import Path

import brotli
import httpx
import pytest

from app.config import ROOT
from app.mirror import FORMATS, HEADERS, STATE, Mirror
from tests.factories import HULI, SIMING, item_body
from tests.servers import Server, cli, free_port, scratch_database, serving

pytestmark = pytest.mark.slow

PUBLIC = "/api/v1/public"
TEXT_FORMATS = ("json", "html", "fragment", "csv")


class Service:
    def __init__(self, server: Server, editors: dict[str, dict[str, str]]) -> None:
        self.server = server
        self.base = server.base
        self.editors = editors

    def publish(self, unit: str, domain: str, items: int = 1) -> None:
        """Add items to the catalogue, compile and publish it: a new version."""
        base = f"/api/v1/units/{unit}/catalogues/{domain}"
        with httpx.Client(base_url=self.base, headers=self.editors[unit], timeout=60) as client:
            for _ in range(items):
                client.post(f"{base}/items", json=item_body()).raise_for_status()
            client.post(f"{base}/compile", json={"compiled_on": "2020-10-20"}).raise_for_status()
            client.post(
                f"{base}/publish",
                json={"published_on": "2020-11-05", "url": f"http://www.xm.gov.cn/{unit}"},
            ).raise_for_status()

    def get(self, path: str, **params: str | int) -> httpx.Response:
        response = httpx.get(
            self.base + path, params=params, headers={"accept-encoding": "identity"}, timeout=60
        )
        response.raise_for_status()
        return response


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A temporary SQLite file, or (TEST_DATABASE_URL on PostgreSQL) a scratch database."""
    with scratch_database("mirror", tmp_path_factory.mktemp("mirror-db")) as url:
        yield url


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> Iterator[Service]:
    directory = tmp_path_factory.mktemp("mirror-service")
    env = {
        "DATABASE_URL": database_url,
        "HOST": "127.0.0.1",
        "PORT": str(free_port()),
    }
    cli(env, "migrate")
    cli(env, "seed")
    editors = {}
    for unit in (HULI, SIMING):
        secret = cli(env, "tokens", "create", "--role", "editor", "--unit", unit)
        editors[unit] = {"Authorization": f"Bearer {secret.splitlines()[-1]}"}
    with serving(env, directory / "server.log") as server:
        service = Service(server, editors)
        service.publish(HULI, "01", items=3)
        service.publish(HULI, "01")  # version 2
        service.publish(HULI, "02", items=2)
        service.publish(SIMING, "01", items=2)
        yield service


def mirror(
    service: Service, out: Path, *args: str, base_url: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "mirror",
            "--out",
            str(out),
            "--base-url",
            base_url or service.base,
            *args,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def mirrored(service: Service, out: Path, *args: str) -> str:
    done = mirror(service, out, *args)
    assert done.returncode == 0, done.stderr
    return done.stdout


def snapshot(directory: Path) -> dict[str, tuple[int, int]]:
    """Every file: (inode, mtime in ns)."""
    found = {}
    for path in directory.rglob("*"):
        if path.is_file() and path.name != ".mirror-lock":
            stat = path.stat()
            found[str(path.relative_to(directory))] = (stat.st_ino, stat.st_mtime_ns)
    return found


def contents(directory: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(directory)): path.read_bytes()
        for path in directory.rglob("*")
        if path.is_file() and path.name != ".mirror-lock"
    }


def summary(stdout: str) -> tuple[int, int, int]:
    """(catalogue versions, files written, unchanged) from the last line."""
    found = re.search(
        r"^mirror: (\d+) catalogue versions, (\d+) files written, (\d+) unchanged, [\d.]+ s$",
        stdout.strip().splitlines()[-1],
    )
    assert found, stdout
    versions, written, unchanged = found.groups()
    return int(versions), int(written), int(unchanged)


def published(service: Service) -> list[tuple[str, str, int]]:
    """Every publish in the feed: (unit, domain, version)."""
    changes = service.get(f"{PUBLIC}/changes", limit=1000).json()["changes"]
    return [
        (c["unit_code"], c["domain_code"], c["version"])
        for c in changes
        if c["kind"] == "catalogue"
    ]


def catalogue_files(prefix: str) -> set[str]:
    """The files of one catalogue directory (a version, or the latest)."""
    names = {f"{prefix}/{HEADERS}"}
    for fmt in FORMATS:
        names.add(f"{prefix}/index.{fmt}")
        if fmt in TEXT_FORMATS:
            names |= {f"{prefix}/index.{fmt}.gz", f"{prefix}/index.{fmt}.br"}
    return names


def index_files(prefix: str) -> set[str]:
    return {f"{prefix}index.json", f"{prefix}index.json.gz", f"{prefix}index.json.br"} | {
        f"{prefix}{HEADERS}"
    }


def test_every_version_in_every_format_and_encoding_holds_the_served_bytes(
    service: Service, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    stdout = mirrored(service, out)
    versions = published(service)
    assert summary(stdout)[0] == len(versions)

    latest: dict[tuple[str, str], int] = {}
    expected: set[str] = {STATE, *index_files("")}
    for unit, domain, version in versions:
        latest[(unit, domain)] = max(version, latest.get((unit, domain), 0))
        expected |= catalogue_files(f"units/{unit}/catalogues/{domain}/v{version}")
    for unit, domain in latest:
        expected |= catalogue_files(f"units/{unit}/catalogues/{domain}")
        expected |= index_files(f"units/{unit}/")
    assert set(contents(out)) == expected

    for unit, domain, version in versions:
        directory = out / "units" / unit / "catalogues" / domain / f"v{version}"
        sidecar = json.loads((directory / HEADERS).read_bytes())
        for fmt in FORMATS:
            served = service.get(
                f"{PUBLIC}/units/{unit}/catalogues/{domain}", version=version, format=fmt
            )
            file = directory / f"index.{fmt}"
            assert file.read_bytes() == served.content
            headers = sidecar[f"index.{fmt}"]
            assert headers["etag"] == served.headers["etag"]
            assert headers["content-type"] == served.headers["content-type"]
            stamp = parsedate_to_datetime(served.headers["last-modified"]).timestamp()
            assert file.stat().st_mtime == stamp
            if fmt in TEXT_FORMATS:
                gz, br = (
                    (directory / f"index.{fmt}.gz").read_bytes(),
                    (directory / f"index.{fmt}.br").read_bytes(),
                )
                assert gzip.decompress(gz) == served.content
                assert brotli.decompress(br) == served.content
                assert gz[4:8] == b"\0\0\0\0"  # no timestamp: the same bytes on every run
                assert sidecar[f"index.{fmt}.gz"]["content-encoding"] == "gzip"
                assert sidecar[f"index.{fmt}.br"]["content-encoding"] == "br"
                tags = {headers["etag"]} | {
                    sidecar[f"index.{fmt}.{suffix}"]["etag"] for suffix in ("gz", "br")
                }
                assert len(tags) == 3  # a distinct strong ETag per encoding
            else:
                assert not (directory / f"index.{fmt}.gz").exists()
        assert "attachment" in sidecar["index.xlsx"]["content-disposition"]

    for (unit, domain), version in latest.items():
        directory = out / "units" / unit / "catalogues" / domain
        for fmt in FORMATS:
            served = service.get(f"{PUBLIC}/units/{unit}/catalogues/{domain}", format=fmt)
            assert (directory / f"index.{fmt}").read_bytes() == served.content
            assert (directory / f"index.{fmt}").read_bytes() == (
                directory / f"v{version}" / f"index.{fmt}"
            ).read_bytes()
    for unit in {unit for unit, _ in latest}:
        served = service.get(f"{PUBLIC}/units/{unit}/catalogues")
        assert (out / "units" / unit / "index.json").read_bytes() == served.content
        assert brotli.decompress((out / "units" / unit / "index.json.br").read_bytes()) == (
            served.content
        )

    top = json.loads((out / "index.json").read_bytes())
    listed = {
        (unit["unit_code"], c["domain_code"]): c["version"]
        for unit in top["units"]
        for c in unit["catalogues"]
    }
    assert listed == latest
    for unit in top["units"]:
        assert (out / unit["href"]).is_file()
        for catalogue in unit["catalogues"]:
            assert (out / catalogue["href"]).is_file()
            assert (out / catalogue["versions_href"] / "index.html").is_file()


def test_a_publish_rewrites_only_that_catalogue_and_the_indexes_listing_it(
    service: Service, tmp_path: Path
) -> None:
    out = tmp_path / "site"
    service.publish(HULI, "04")
    mirrored(service, out)
    before = snapshot(out)

    service.publish(HULI, "04")  # version 2
    time.sleep(1.1)  # the service's fallback freshness window for the latest version
    stdout = mirrored(service, out)
    after = snapshot(out)

    rewritten = {path for path in after if before.get(path) != after[path]}
    expected = (
        catalogue_files(f"units/{HULI}/catalogues/04/v2")
        | catalogue_files(f"units/{HULI}/catalogues/04")
        | index_files(f"units/{HULI}/")
        | index_files("")
        | {STATE}
    )
    assert rewritten == expected
    assert set(before) <= set(after)
    versions, written, _ = summary(stdout)
    assert (versions, written) == (1, len(expected))

    # Nothing new: nothing written, not even the cursor.
    stdout = mirrored(service, out)
    assert summary(stdout) == (0, 0, 0)
    assert snapshot(out) == after


def test_an_interrupted_run_resumes_where_it_stopped(service: Service, tmp_path: Path) -> None:
    reference = tmp_path / "reference"
    mirrored(service, reference)
    total = len(published(service))
    assert total >= 4

    out = tmp_path / "site"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "app",
            "mirror",
            "--out",
            str(out),
            "--base-url",
            service.base,
            "--page-size",
            "1",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    first = process.stdout.readline()
    process.send_signal(signal.SIGKILL)  # no cleanup: as a power cut
    process.wait(timeout=30)
    process.stdout.close()
    assert process.stderr is not None
    process.stderr.close()
    assert first.startswith("page 1: 1 changes"), first

    # The killed run saved the cursor past its first page; every file in place is whole:
    # a version as it will stay, an index as it was at that moment, a .gz/.br its file's.
    assert json.loads((out / STATE).read_bytes())["since"] is not None
    wanted = contents(reference)
    found = contents(out)
    for name, body in found.items():
        if name.endswith(".mirror-tmp"):
            continue
        if re.search(r"/v\d+/index\.[a-z]+(\.gz|\.br)?$", name):
            assert body == wanted[name], name
        elif name.endswith(".gz"):
            assert gzip.decompress(body) == found[name[:-3]], name
        elif name.endswith(".br"):
            assert brotli.decompress(body) == found[name[:-3]], name
        elif name.endswith(".json"):
            json.loads(body)
        else:  # a catalogue's latest index.html, .csv, .xlsx: one of its versions
            folder, _, file = name.rpartition("/")
            assert any(
                other.startswith(f"{folder}/v") and other.endswith(f"/{file}") and bytes_ == body
                for other, bytes_ in found.items()
            ), name

    stdout = mirrored(service, out, "--page-size", "2")
    versions, _, _ = summary(stdout)
    assert versions < total  # resumed, not started again

    for leftover in out.rglob("*.mirror-tmp"):
        leftover.unlink()  # a temporary file a kill may leave; nginx config hides dotfiles
    assert contents(out) == wanted


def test_a_format_the_service_refuses_is_skipped_with_a_note(
    service: Service, tmp_path: Path
) -> None:
    notes: list[str] = []
    with httpx.Client(base_url=service.base, headers={"accept-encoding": "identity"}) as client:
        stats = Mirror(tmp_path, client, formats=(*FORMATS, "pdf"), say=notes.append).run()
    assert stats.catalogues == len(published(service))
    assert "note: the service does not serve format=pdf; skipped" in notes
    assert not list(tmp_path.rglob("index.pdf*"))
    assert (tmp_path / "units" / HULI / "catalogues" / "01" / "v1" / "index.xlsx").is_file()


def test_errors_are_one_line_with_an_exit_status(service: Service, tmp_path: Path) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"
    cases = [
        (("--base-url", nobody), 1, f"error: cannot reach {nobody}"),
        (("--base-url", "127.0.0.1:8000"), 1, "error: bad base URL"),
        (("--base-url", service.base + "/nowhere"), 1, "is not this service"),
        (("--page-size", "0"), 2, "--page-size"),
    ]
    for args, status, message in cases:
        done = mirror(service, tmp_path / "site", *args)
        assert done.returncode == status, (args, done.stderr)
        assert message in done.stderr, (args, done.stderr)
        if status == 1:
            assert len(done.stderr.strip().splitlines()) == 1, done.stderr

    a_file = tmp_path / "file"
    a_file.write_text("x")
    done = mirror(service, a_file)
    assert (done.returncode, done.stderr.strip()) == (
        2,
        f"error: --out {a_file} is not a directory",
    )

    mirrored(service, tmp_path / "other")
    done = mirror(
        service, tmp_path / "other", base_url=service.base.replace("127.0.0.1", "localhost")
    )
    assert done.returncode == 2
    assert "pass that --base-url or use another --out" in done.stderr


# ---- the nginx configuration in docs/mirror.md ------------------------------------------


def nginx_config(root: Path, port: int, prefix: Path) -> str:
    doc = (ROOT / "docs" / "mirror.md").read_text(encoding="utf-8")
    server = re.search(r"```nginx\n(.*?)```", doc, re.S)
    assert server
    block = (
        server.group(1)
        .replace("listen 80;", f"listen 127.0.0.1:{port};")
        .replace("root /srv/gkml-mirror;", f"root {root};")
    )
    modules = "".join(
        f"load_module {module};\n"
        for module in Path("/usr/lib/nginx/modules").glob("ngx_http_brotli_static_module.so")
    )
    # nginx started by root serves as `nobody`, who cannot enter pytest's private tmp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (
        f"{modules}{user}daemon off;\nworker_processes 1;\npid {prefix}/nginx.pid;\n"
        f"error_log {prefix}/error.log;\nevents {{ worker_connections 64; }}\n"
        f"http {{\naccess_log off;\nclient_body_temp_path {prefix};\n"
        f"proxy_temp_path {prefix};\nfastcgi_temp_path {prefix};\nuwsgi_temp_path {prefix};\n"
        f"scgi_temp_path {prefix};\n{block}}}\n"
    )


def test_the_documented_nginx_config_serves_the_mirror(service: Service, tmp_path: Path) -> None:
    nginx = shutil.which("nginx") or (
        "/usr/sbin/nginx" if os.path.exists("/usr/sbin/nginx") else None
    )
    brotli_static = Path("/usr/lib/nginx/modules/ngx_http_brotli_static_module.so")
    if nginx is None or not brotli_static.exists():
        missing = "apt-get install nginx-light libnginx-mod-http-brotli-static"
        if os.environ.get("CI"):
            pytest.fail(f"nginx with ngx_brotli is required in CI (.ci/run: {missing})")
        pytest.skip(f"no nginx with its brotli static module ({missing}); CI is not set")
    out = tmp_path / "site"
    mirrored(service, out)
    port = free_port()
    config = tmp_path / "nginx.conf"
    config.write_text(nginx_config(out, port, tmp_path), encoding="utf-8")
    check = subprocess.run(
        [nginx, "-t", "-c", str(config), "-p", str(tmp_path)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stderr
    process = subprocess.Popen([nginx, "-c", str(config), "-p", str(tmp_path)])
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(base + "/index.json", timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "nginx did not start"
                time.sleep(0.05)
        latest = f"/units/{HULI}/catalogues/01/index.json"
        served = service.get(f"{PUBLIC}/units/{HULI}/catalogues/01").content
        tags = set()
        with httpx.Client(base_url=base) as client:
            for accept, encoding in (("br, gzip", "br"), ("gzip", "gzip"), ("identity", None)):
                response = client.get(latest, headers={"accept-encoding": accept})
                assert response.status_code == 200
                assert response.content == served  # httpx decodes gzip and br
                assert response.headers["content-type"] == "application/json; charset=utf-8"
                assert response.headers.get("content-encoding") == encoding
                assert response.headers["vary"] == "Accept-Encoding"
                assert response.headers["cache-control"] == "no-cache"
                assert response.headers["access-control-allow-origin"] == "*"
                etag = response.headers["etag"]
                assert not etag.startswith("W/")
                tags.add(etag)
                again = client.get(
                    latest, headers={"accept-encoding": accept, "if-none-match": etag}
                )
                assert again.status_code == 304
            assert len(tags) == 3

            page = client.get(
                f"/units/{HULI}/catalogues/01/v1/index.html", headers={"accept-encoding": "gzip"}
            )
            assert page.headers["content-type"] == "text/html; charset=utf-8"
            assert page.headers["content-encoding"] == "gzip"
            assert page.headers["cache-control"] == "public, max-age=31536000, immutable"
            fragment = client.get(f"/units/{HULI}/catalogues/01/v1/index.fragment")
            assert fragment.headers["content-type"] == "text/html; charset=utf-8"
            assert fragment.content.startswith(b"<section")
            csv = client.get(f"/units/{HULI}/catalogues/01/v1/index.csv")
            assert csv.headers["content-type"] == "text/csv; charset=utf-8"
            xlsx = client.get(f"/units/{HULI}/catalogues/01/index.xlsx")
            assert xlsx.headers["content-type"].startswith(
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            )
            assert "vary" not in xlsx.headers
            directory = client.get(f"/units/{HULI}/catalogues/01/")
            assert directory.headers["content-type"] == "text/html; charset=utf-8"
            unit = client.get(f"/units/{HULI}/")
            assert unit.content == (out / "units" / HULI / "index.json").read_bytes()
            for hidden in (f"/{STATE}", f"/units/{HULI}/{HEADERS}"):
                assert client.get(hidden).status_code == 404
    finally:
        process.terminate()
        process.wait(timeout=10)
