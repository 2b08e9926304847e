"""One Settings object for every edge, read from the environment or `.env`."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo

from pydantic import field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER_TOKENS = {"", "changeme", "your-token-here", "123456:ABC"}


class Settings(BaseSettings):
    """Configuration; UPPER_CASE names match the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    DATABASE_URL: str = f"sqlite:///{ROOT / 'var' / 'lianxi.db'}"
    TELEGRAM_BOT_TOKEN: str = ""
    TELEGRAM_API_BASE_URL: str = "https://api.telegram.org/bot"
    TELEGRAM_FILE_BASE_URL: str = "https://api.telegram.org/file/bot"
    TELEGRAM_WEBHOOK_URL: str = ""
    TELEGRAM_WEBHOOK_LISTEN: str = "127.0.0.1"
    TELEGRAM_WEBHOOK_PORT: int = 8443
    TELEGRAM_WEBHOOK_SECRET: str = ""
    TIMEZONE: str = "Asia/Shanghai"
    DATA_DIR: Path = ROOT / "var" / "data"
    SANDBOX_HOST: str = "127.0.0.1"
    SANDBOX_PORT: int = 8080
    LOG_LEVEL: str = "INFO"
    # How long a CLI command waits, in all, for a database another process keeps busy (or that
    # does not answer) before it gives up with a message (exit 2), retrying meanwhile.
    CLI_BUSY_WAIT_SECONDS: float = 60.0
    # The worker's CPU priority below the bot's (Unix nice increment; 0: the same): its briefs
    # and notices render for seconds, and on a small shared host people's answers come first.
    WORKER_NICE: int = 10
    # Bounds on an uploaded or imported file, checked before it is parsed (oversight/inputlimits.py);
    # sized for the region ledger with room.
    LEDGER_MAX_ROWS: int = 20_000
    XLSX_MAX_UNCOMPRESSED_MB: float = 50.0
    XLSX_MAX_ENTRIES: int = 1_000
    XLSX_MAX_RATIO: float = 200.0
    CELL_MAX_CHARS: int = 32_767  # Excel's own limit on a cell
    IMAGE_MAX_PIXELS: int = 80_000_000

    @field_validator("DATA_DIR")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value if value.is_absolute() else (ROOT / value)

    @property
    def tz(self) -> ZoneInfo:
        """The zone every date is shown and scheduled in."""
        return ZoneInfo(self.TIMEZONE)

    @property
    def has_real_token(self) -> bool:
        """True when a bot token that is not a placeholder is configured."""
        return self.TELEGRAM_BOT_TOKEN.strip() not in PLACEHOLDER_TOKENS


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache)."""
    return Settings()
