"""Logging for every process: plain lines to stderr, the bot token never printed."""

from __future__ import annotations

import logging
import re

TOKEN_PATTERN = re.compile(r"\d{5,}:[A-Za-z0-9_-]{20,}")

_configured = False  # the root logger is this process's; it is configured once


class RedactTokens(logging.Filter):
    """Replace anything shaped like a bot token (and the configured one) with <redacted>."""

    def __init__(self, secrets: list[str] | None = None) -> None:
        super().__init__()
        self.secrets = [s for s in (secrets or []) if s]

    def _clean(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, "<redacted>")
        return TOKEN_PATTERN.sub("<redacted>", text)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string is the caller's bug; keep the line
            return True
        exc = record.exc_info[1] if record.exc_info else None
        if exc is not None and _unparsable_answer(record, exc):
            # PTB logs an HTML error page (a proxy's 502) with a JSON traceback, then raises the
            # NetworkError that is logged on its own line: that line says it all.
            return False
        if exc is not None and _expected(exc):
            # An expected network error (a 5xx, a dropped connection, a timeout, a rejected
            # token) is one line, not a traceback that buries real errors.
            message = f"{message} ({type(exc).__name__}: {exc})"
            record.exc_info, record.exc_text = None, None
        cleaned = self._clean(message)
        if cleaned != message or not record.exc_info:
            record.msg, record.args = cleaned, ()
        return True


# Telegram's errors worth one line (by name: this bottom layer does not import telegram).
_EXPECTED = {"NetworkError", "TimedOut", "BadGateway", "InvalidToken", "RetryAfter", "Conflict"}


def _expected(exc: BaseException) -> bool:
    return type(exc).__module__.startswith("telegram.error") and type(exc).__name__ in _EXPECTED


def _unparsable_answer(record: logging.LogRecord, exc: BaseException) -> bool:
    return record.name.startswith("telegram.request") and isinstance(exc, ValueError)


class RedactingFormatter(logging.Formatter):
    """The formatter's whole output redacted, tracebacks and exception texts included (a
    library's exception may carry the token in its text)."""

    def __init__(self, fmt: str, redact: RedactTokens) -> None:
        super().__init__(fmt)
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact._clean(super().format(record))


def setup_logging(level: str = "INFO", secrets: list[str] | None = None) -> None:
    """Configure the root logger once, with token redaction on its handler."""
    global _configured
    if _configured:
        return
    root = logging.getLogger()
    handler = logging.StreamHandler()
    redact = RedactTokens(secrets)
    handler.setFormatter(RedactingFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s", redact))
    handler.addFilter(redact)
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL, and a Bot API URL contains the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    # At DEBUG, PTB's bot logs every call's parameters and answer and its Application every
    # update: what people type (an invite code in /start, a report's text) and what the bot
    # tells them (a fresh /invite code). Those stay out of the log at every level.
    for name in ("telegram.Bot", "telegram.ext.ExtBot", "telegram.ext.Application"):
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
    _configured = True
