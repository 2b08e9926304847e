"""Tables, engine and sessions. Imports nothing else of lianxi."""

from models.base import UTCDateTime, utcnow
from models.db import make_engine, read_only, session_scope, snapshot_twin
from models.tables import *  # noqa: F403
from models.tables import SQLModel

metadata = SQLModel.metadata

__all__ = ["UTCDateTime", "make_engine", "metadata", "read_only", "session_scope", "snapshot_twin", "utcnow"]
