"""`python -m app mirror`: every published catalogue as static files, fetched over HTTP.

The mirror follows the public change feed from a cursor saved in the output directory and
writes each published version in every format (and, for the text formats, gzip and brotli
beside it), the latest version of each catalogue, an index per unit and a top-level
index. It talks to the service only over HTTP (httpx), so a website team can run it on its
own server and serve the directory with nginx or a CDN; docs/mirror.md has the layout and
an nginx configuration.

Safe to interrupt: a file appears whole (a temporary file in the same directory, fsync,
os.replace) and the cursor moves only after every file of a feed page is in place, so a
run that is stopped resumes from the last page it finished. Incremental: a file whose
bytes are already there is not written again, and a run with nothing new in the feed
writes nothing.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import brotli
import httpx

from app.render import published

FORMATS: tuple[str, ...] = ("json", "html", "fragment", "csv", "xlsx")
"""Every format of a published catalogue the mirror asks for (`?format=`), written as
`index.<format>` (the fragment as `index.fragment`, HTML for a CMS to include); a format the
service answers 422 for is skipped with a note."""
COMPRESSED: frozenset[str] = frozenset({"json", "html", "csv", "fragment"})
"""Formats also written as `.gz` and `.br`; XLSX is a ZIP file already."""
ENCODINGS: tuple[tuple[str, str], ...] = (("gz", "gzip"), ("br", "br"))
"""(file suffix, Content-Encoding)."""
STATE = ".mirror-state.json"
LOCK = ".mirror-lock"
HEADERS = ".headers.json"
"""In every directory: for each file, the headers to serve it with (ETag, Content-Type …)."""
PUBLIC = "/api/v1/public"
PAGE_SIZE = 1000
WRITERS = 8
"""Files written and synced at once: a disk commits concurrent fsyncs together."""
BATCH_BYTES = 64 * 1024 * 1024
"""At most this much queued in memory before it is written."""
RETRIES = 5
MEDIA_TYPES: dict[str, str] = {str(fmt): media for fmt, media in published.MEDIA_TYPES.items()}
"""What a file is when the service does not say (the service's own table)."""


class MirrorError(Exception):
    """A reason to stop, said in one line; `code` is the exit status."""

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


VERSION_QUALITY = 11
"""brotli quality of a version's files: the smallest, made once and kept for ever."""
INDEX_QUALITY = 9
"""brotli quality of the indexes, remade on every publish: quality 10 and 11 take seconds
on a large unit's listing for a few per cent."""


def compress(data: bytes, encoding: str, quality: int = VERSION_QUALITY) -> bytes:
    """The same bytes every time: gzip level 9 without a timestamp or name; brotli."""
    if encoding == "gzip":
        return gzip.compress(data, compresslevel=9, mtime=0)
    result: bytes = brotli.compress(data, quality=quality)
    return result


def encoded_etag(etag: str, suffix: str) -> str:
    """A distinct strong ETag per encoding: `"v7.json.ab12"` → `"v7.json.ab12.gz"`."""
    if etag.startswith('"') and etag.endswith('"'):
        return f'{etag[:-1]}.{suffix}"'
    return etag


@dataclass
class File:
    """One file to place in a directory, and the headers a web server should send with it."""

    name: str
    body: bytes
    headers: dict[str, str]


def with_encodings(
    name: str, body: bytes, headers: dict[str, str], fmt: str, quality: int = VERSION_QUALITY
) -> list[File]:
    """The file, and its .gz and .br when the format is text."""
    files = [File(name, body, headers)]
    if fmt in COMPRESSED:
        for suffix, encoding in ENCODINGS:
            encoded = dict(headers)
            encoded["content-encoding"] = encoding
            if "etag" in headers:
                encoded["etag"] = encoded_etag(headers["etag"], suffix)
            files.append(File(f"{name}.{suffix}", compress(body, encoding, quality), encoded))
    return files


@dataclass
class Stats:
    catalogues: int = 0
    written: int = 0
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)


def _temporary(path: Path) -> Path:
    return path.with_name(f".{path.name}.mirror-tmp")


def _write_synced(path: Path, body: bytes, mtime: float | None) -> None:
    temporary = _temporary(path)
    with temporary.open("wb") as handle:
        handle.write(body)
        handle.flush()
        os.fsync(handle.fileno())
    if mtime is not None:
        os.utime(temporary, (mtime, mtime))


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Mirror:
    """One output directory kept in step with one service."""

    def __init__(
        self,
        out: Path,
        client: httpx.Client,
        *,
        formats: tuple[str, ...] = FORMATS,
        page_size: int = PAGE_SIZE,
        say: Callable[[str], None],
    ) -> None:
        self.out = out
        self.client = client
        self.formats = formats
        self.page_size = page_size
        self.say = say
        self.stats = Stats()
        self.skipped_formats: set[str] = set()
        self.base_url = str(client.base_url).rstrip("/")
        self.state: dict[str, Any] = {"base_url": self.base_url, "since": None, "latest": {}}
        self.pending: list[tuple[Path, bytes, float | None]] = []
        self.pending_bytes = 0
        self.pool = ThreadPoolExecutor(max_workers=WRITERS, thread_name_prefix="mirror")

    # ---- files ------------------------------------------------------------------------

    def put(self, path: Path, body: bytes, mtime: float | None = None) -> bool:
        """Queue path to be written unless it already holds these bytes; True if queued."""
        try:
            if path.stat().st_size == len(body) and path.read_bytes() == body:
                self.stats.unchanged += 1
                return False
        except FileNotFoundError:
            pass
        self.pending.append((path, body, mtime))
        self.pending_bytes += len(body)
        self.stats.written += 1
        if self.pending_bytes > BATCH_BYTES:
            self.flush()
        return True

    def flush(self) -> None:
        """Put every queued file in place: each written to a temporary file beside it and
        synced (in parallel, so the disk commits them together), then renamed over the
        old one; then their directories synced."""
        if not self.pending:
            return
        directories = sorted({path.parent for path, _, _ in self.pending})
        for directory in directories:
            directory.mkdir(parents=True, exist_ok=True)
        list(self.pool.map(lambda entry: _write_synced(*entry), self.pending))
        list(self.pool.map(lambda entry: os.replace(_temporary(entry[0]), entry[0]), self.pending))
        list(self.pool.map(_sync_directory, directories))
        self.pending.clear()
        self.pending_bytes = 0

    def place(self, directory: Path, files: list[File]) -> None:
        """Queue the files and the directory's header sidecar (merged with what it lists)."""
        sidecar_path = directory / HEADERS
        try:
            sidecar: dict[str, dict[str, str]] = json.loads(sidecar_path.read_bytes())
        except (FileNotFoundError, ValueError):
            sidecar = {}
        for file in files:
            modified = file.headers.get("last-modified")
            mtime = parsedate_to_datetime(modified).timestamp() if modified else None
            self.put(directory / file.name, file.body, mtime)
            sidecar[file.name] = file.headers
        text = json.dumps(sidecar, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        self.put(sidecar_path, text.encode())

    # ---- HTTP ---------------------------------------------------------------------------

    def get(self, path: str, params: dict[str, str | int] | None = None) -> httpx.Response:
        """GET, retried while the service says it is busy (503, honouring Retry-After)."""
        for attempt in range(RETRIES):
            try:
                response = self.client.get(path, params=params)
            except httpx.InvalidURL as exc:
                raise MirrorError(f"error: bad base URL {self.base_url}: {exc}") from exc
            except httpx.UnsupportedProtocol as exc:
                raise MirrorError(
                    f"error: bad base URL {self.base_url}: use http:// or https://"
                ) from exc
            except httpx.TransportError as exc:
                raise MirrorError(f"error: cannot reach {self.base_url}: {exc}") from exc
            if response.status_code != 503 or attempt == RETRIES - 1:
                return response
            retry = response.headers.get("retry-after", "1")
            time.sleep(min(float(retry) if retry.isdecimal() else 1.0, 10.0))
        raise AssertionError("unreachable")

    def fail(self, response: httpx.Response) -> MirrorError:
        return MirrorError(
            f"error: {response.request.method} {response.request.url} answered "
            f"{response.status_code}: {response.text[:200]}"
        )

    def feed_page(self, since: str | None) -> dict[str, Any]:
        params: dict[str, str | int] = {"limit": self.page_size}
        if since is not None:
            params["since"] = since
        response = self.get(f"{PUBLIC}/changes", params)
        if response.status_code not in (200, 404):
            raise self.fail(response)
        try:
            page: dict[str, Any] = response.json() if response.status_code == 200 else {}
        except ValueError:
            page = {}
        if not (isinstance(page.get("changes"), list) and "next" in page and "has_more" in page):
            raise MirrorError(
                f"error: {self.base_url} is not this service (no change feed at {PUBLIC}/changes)"
            )
        return page

    # ---- what to write -------------------------------------------------------------------

    def version_files(self, unit: str, domain: str, version: int) -> list[File] | None:
        """Every format of one published version (asked for at once: the service renders
        a new version's formats in parallel); None when the service no longer has it."""
        formats = [fmt for fmt in self.formats if fmt not in self.skipped_formats]
        answers = list(
            self.pool.map(lambda fmt: self.format_files(unit, domain, version, fmt), formats)
        )
        if any(answer is None for answer in answers):
            self.note(f"note: {unit}/{domain} version {version} is gone (404); skipped")
            return None
        return [file for answer in answers if answer is not None for file in answer]

    def format_files(self, unit: str, domain: str, version: int, fmt: str) -> list[File] | None:
        """One format's files (none when the service does not serve it); None on a 404."""
        response = self.get(
            f"{PUBLIC}/units/{unit}/catalogues/{domain}", {"version": version, "format": fmt}
        )
        if response.status_code == 422 and fmt != "json":
            self.skipped_formats.add(fmt)
            self.note(f"note: the service does not serve format={fmt}; skipped")
            return []
        if response.status_code == 404:
            return None
        if response.status_code != 200:
            raise self.fail(response)
        headers = {"content-type": response.headers.get("content-type", MEDIA_TYPES[fmt])}
        for name in ("etag", "last-modified", "content-disposition"):
            if name in response.headers:
                headers[name] = response.headers[name]
        return with_encodings(f"index.{fmt}", response.content, headers, fmt)

    def unit_files(self, unit: str) -> list[File] | None:
        response = self.get(f"{PUBLIC}/units/{unit}/catalogues")
        if response.status_code == 404:
            self.note(f"note: unit {unit} is gone (404); its index is left as it was")
            return None
        if response.status_code != 200:
            raise self.fail(response)
        headers = {"content-type": response.headers.get("content-type", MEDIA_TYPES["json"])}
        for name in ("etag", "last-modified"):
            if name in response.headers:
                headers[name] = response.headers[name]
        return with_encodings("index.json", response.content, headers, "json", INDEX_QUALITY)

    def top_files(self) -> list[File]:
        """DIR/index.json: every unit and catalogue in the mirror, with its latest version."""
        units: dict[str, list[dict[str, Any]]] = {}
        for key, version in sorted(self.state["latest"].items()):
            unit, _, domain = key.partition("/")
            units.setdefault(unit, []).append(
                {
                    "domain_code": domain,
                    "version": version,
                    "href": f"units/{unit}/catalogues/{domain}/index.json",
                    "versions_href": f"units/{unit}/catalogues/{domain}/v{version}/",
                }
            )
        listing = {
            "units": [
                {"unit_code": unit, "href": f"units/{unit}/index.json", "catalogues": catalogues}
                for unit, catalogues in units.items()
            ]
        }
        body = json.dumps(listing, ensure_ascii=False, separators=(",", ":")).encode()
        etag = f'"m{hashlib.sha256(body).hexdigest()[:16]}"'
        headers = {"content-type": MEDIA_TYPES["json"], "etag": etag}
        return with_encodings("index.json", body, headers, "json", INDEX_QUALITY)

    def note(self, line: str) -> None:
        if line not in self.stats.notes:
            self.stats.notes.append(line)
            self.say(line)

    # ---- the run -------------------------------------------------------------------------

    def load_state(self) -> None:
        path = self.out / STATE
        try:
            saved = json.loads(path.read_bytes())
        except FileNotFoundError:
            return
        except ValueError as exc:
            raise MirrorError(f"error: {path} is not a mirror state file: {exc}") from exc
        if saved.get("base_url") != self.base_url:
            raise MirrorError(
                f"error: {self.out} mirrors {saved.get('base_url')}, not {self.base_url}; "
                "pass that --base-url or use another --out",
                code=2,
            )
        self.state = saved

    def save_state(self) -> None:
        text = json.dumps(self.state, ensure_ascii=False, indent=1, sort_keys=True) + "\n"
        self.put(self.out / STATE, text.encode())

    def apply(self, changes: list[dict[str, Any]]) -> None:
        """One feed page's publishes: each version, then each catalogue's latest, each
        unit's index and the top-level index (the cursor is saved by the caller)."""
        newest: dict[tuple[str, str], tuple[int, list[File]]] = {}
        for change in changes:
            if change.get("kind", "catalogue") != "catalogue":
                continue  # a disclosure record: not part of the mirror
            unit, domain, version = change["unit_code"], change["domain_code"], change["version"]
            files = self.version_files(unit, domain, version)
            if files is None:
                continue
            directory = self.out / "units" / unit / "catalogues" / domain
            self.place(directory / f"v{version}", files)
            self.stats.catalogues += 1
            if version >= newest.get((unit, domain), (0, []))[0]:
                newest[(unit, domain)] = (version, files)
        for (unit, domain), (version, files) in sorted(newest.items()):
            key = f"{unit}/{domain}"
            if version >= self.state["latest"].get(key, 0):
                self.place(self.out / "units" / unit / "catalogues" / domain, files)
                self.state["latest"][key] = version
        for unit in sorted({unit for unit, _ in newest}):
            unit_files = self.unit_files(unit)
            if unit_files is not None:
                self.place(self.out / "units" / unit, unit_files)
        if newest:
            self.place(self.out, self.top_files())

    def run(self) -> Stats:
        try:
            return self._run()
        finally:
            self.pool.shutdown()

    def _run(self) -> Stats:
        self.out.mkdir(parents=True, exist_ok=True)
        self.load_state()
        page_number = 0
        while True:
            since: str | None = self.state["since"]
            page = self.feed_page(since)
            page_number += 1
            before = self.stats.written
            self.apply(page["changes"])
            self.flush()  # every file of the page in place before the cursor moves
            if page["next"] != since or self.stats.written != before:
                self.state["since"] = page["next"]
                self.save_state()
                self.flush()
            if page["changes"]:
                self.say(
                    f"page {page_number}: {len(page['changes'])} changes, "
                    f"{self.stats.catalogues} catalogue versions so far, "
                    f"{self.stats.written} files written, {self.stats.unchanged} unchanged"
                )
            if not page["has_more"]:
                return self.stats


def client(base_url: str) -> httpx.Client:
    """Asks for the identity bytes (the mirror compresses them itself). Over plain HTTP no
    TLS context is made: loading the CA bundle costs more than a small run."""
    return httpx.Client(
        base_url=base_url,
        headers={"accept-encoding": "identity", "user-agent": "gkml-mirror"},
        timeout=120,
        verify=base_url.startswith("https://"),
    )


@contextlib.contextmanager
def locked(out: Path) -> Iterator[None]:
    """One run per directory at a time."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / LOCK).open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise MirrorError(f"error: another mirror run is using {out}") from exc
        yield


def run(out: str, base_url: str, *, page_size: int = PAGE_SIZE) -> int:
    """The command: mirror base_url into out; prints progress and a summary; exit code."""
    started = time.perf_counter()
    if not base_url.startswith(("http://", "https://")):
        complain(f"error: bad base URL {base_url!r}: use http:// or https://")
        return 1
    target = Path(out)
    if target.exists() and not target.is_dir():
        complain(f"error: --out {out} is not a directory")
        return 2
    try:
        with (
            client(base_url) as http,
            locked(target),
        ):
            mirror = Mirror(target, http, page_size=page_size, say=print_flush)
            stats = mirror.run()
    except MirrorError as exc:
        complain(str(exc))
        return exc.code
    except httpx.InvalidURL as exc:
        complain(f"error: bad base URL {base_url!r}: {exc}")
        return 1
    except OSError as exc:
        complain(f"error: {out}: {exc.strerror or exc}")
        return 1
    print_flush(
        f"mirror: {stats.catalogues} catalogue versions, {stats.written} files written, "
        f"{stats.unchanged} unchanged, {time.perf_counter() - started:.2f} s"
    )
    return 0


def print_flush(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def complain(line: str) -> None:
    sys.stderr.write(line + "\n")
