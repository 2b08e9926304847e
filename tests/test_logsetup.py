"""Logs never carry the bot token, in a message, an exception's text or a traceback; an
expected network error from Telegram (a 502, a drop, a rejected token) is one line."""

from __future__ import annotations

import io
import logging

from telegram.error import InvalidToken, NetworkError, TimedOut

from config.logsetup import RedactingFormatter, RedactTokens

TOKEN = "7364519283:AAHfakeTokenForTheLoggingTest_abcdef"


def _logger() -> tuple[logging.Logger, io.StringIO]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    redact = RedactTokens([TOKEN])
    handler.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s", redact))
    handler.addFilter(redact)
    log = logging.getLogger("test.logsetup")
    log.handlers[:] = [handler]
    log.propagate = False
    log.setLevel(logging.DEBUG)
    return log, out


def _raise(exc: BaseException) -> None:
    try:
        raise exc
    except BaseException:
        logging.getLogger("test.logsetup").exception("polling failed")


def test_expected_network_errors_are_one_line_and_the_token_never_shows():
    _, out = _logger()
    for exc in (NetworkError("Bad Gateway"), TimedOut(), InvalidToken(f"The token `{TOKEN}` was rejected")):
        _raise(exc)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3, lines
    assert all(line.startswith("ERROR test.logsetup: polling failed (") for line in lines), lines
    assert "Bad Gateway" in lines[0] and "InvalidToken" in lines[2]
    assert "Traceback" not in out.getvalue() and TOKEN not in out.getvalue() and "<redacted>" in lines[2]


def test_an_unexpected_error_keeps_its_traceback_with_the_token_redacted():
    log, out = _logger()
    _raise(ValueError(f"bad url https://api.telegram.org/bot{TOKEN}/getMe"))
    log.info("calling %s", f"https://api.telegram.org/bot{TOKEN}/getMe")
    text = out.getvalue()
    assert "Traceback" in text and "ValueError" in text
    assert TOKEN not in text and TOKEN.split(":")[1] not in text and text.count("<redacted>") == 2
