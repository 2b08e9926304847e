"""`lianxi demo`: a sample quarter replayed through the real bot (the command lives in demo/cli.py)."""

from __future__ import annotations

from demo.cli import demo_command
from lianxi.chinese_help import ChineseTyper, long_running

app = ChineseTyper()
app.command("demo")(long_running(demo_command))
