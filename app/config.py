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
    sql_echo: bool = False
    # Published renderings are kept in memory per process, at most this many megabytes.
    published_cache_mb: int = 256
    # How long a process trusts its answer to "which version is the latest"; a publish in
    # the same process is visible at once, one in another worker after at most this long.
    published_lookup_ttl: float = 1.0
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
