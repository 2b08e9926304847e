"""Writing files so that a crash never leaves a half-written one where a reader looks."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o644  # mkstemp makes 0600; the reports and stored files are meant to be read


@contextmanager
def atomic_target(out: Path) -> Iterator[Path]:
    """A temporary path beside `out`; renamed onto `out` when the block succeeds, removed if not."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_atomic(out: Path, data: bytes) -> None:
    """Write `data` to `out` atomically (temp file, fsync, rename)."""
    with atomic_target(out) as tmp:
        tmp.write_bytes(data)
