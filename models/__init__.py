"""Tables, engine and sessions. Imports nothing else of lianxi."""

from sqlmodel import SQLModel

from models.base import UTCDateTime, row_id, utcnow
from models.db import make_engine, raw_rows, read_only, session_scope, shared_snapshot, snapshot_twin
from models.tables import *  # noqa: F403  (every table and kind, re-exported: `from models import X` for any table X)

metadata = SQLModel.metadata

__all__ = [
    "UTCDateTime",
    "make_engine",
    "metadata",
    "raw_rows",
    "read_only",
    "row_id",
    "session_scope",
    "shared_snapshot",
    "snapshot_twin",
    "utcnow",
]
