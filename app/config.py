"""Settings from the environment and `.env`; the only reader of the environment."""

from functools import lru_cache
from pathlib import Path

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


@lru_cache
def get_settings() -> Settings:
    return Settings()
