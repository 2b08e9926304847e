"""`python -m lianxi …`: the same as the `lianxi` command."""

from lianxi.cli import app

app(prog_name="lianxi")
