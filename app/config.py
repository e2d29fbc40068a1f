"""Settings from the environment and `.env`; the only reader of the environment."""

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{ROOT / 'gkml.sqlite3'}"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    # Uploads and JSON bodies beyond these answer 413 before they are parsed.
    max_body_bytes: int = 2_000_000
    max_upload_bytes: int = 10_000_000
    max_import_rows: int = 20_000
    # Limits checked while an import file is read (app/spreadsheet/limits.py): a file
    # that would pass one is refused with 413 naming it, after bounded work.
    max_sheet_rows: int = 50_000
    max_sheet_columns: int = 200
    max_sheet_cells: int = 1_000_000
    max_merged_ranges: int = 10_000
    max_uncompressed_bytes: int = 100_000_000
    max_shared_strings_bytes: int = 20_000_000
    max_xml_elements: int = 1_000_000
    sql_echo: bool = False
    # The database (docs/operations.md): how long a request waits for SQLite's write lock
    # or for a pooled connection before it answers 503 with Retry-After, and the pool.
    db_busy_timeout: float = 5.0
    db_pool_size: int = 10
    db_max_overflow: int = 10
    db_pool_timeout: float = 5.0
    retry_after_seconds: int = 2
    # Expensive requests (audit, statistics, exports, import) run at most this many at a
    # time per worker; up to expensive_queue more wait at most expensive_queue_wait
    # seconds for a turn, and any beyond answer 503 with Retry-After (app/admission.py).
    expensive_concurrency: int = 1
    expensive_queue: int = 8
    expensive_queue_wait: float = 15.0
    # Published renderings are kept in memory per process, at most this many megabytes.
    published_cache_mb: int = 256
    # How long a process trusts its answer to "which version is the latest" when it hears
    # nothing: a publish reaches every worker when it commits (app/services/freshness.py);
    # this is the fallback, e.g. while a worker's listener reconnects.
    published_lookup_ttl: float = 1.0
    # What a process remembers about "which version is the latest" (and "no such unit"),
    # at most this many megabytes, least recently used out first.
    published_lookup_mb: int = 16
    # Signed-in pages (/dashboard): a session ends after this long unused, and at the latest
    # this long after sign-in.
    dashboard_idle_minutes: int = 30
    dashboard_lifetime_hours: int = 12
    # Fault injection for tests/test_crash.py only (app/faults.py): off unless set.
    test_pause_after_flush: Literal["import", "publish"] | None = Field(
        default=None, validation_alias="GKML_TEST_PAUSE_AFTER_FLUSH"
    )


@lru_cache
def get_settings() -> Settings:
    return Settings()
