"""The project's own local Telegram Bot API server, for end-to-end tests, sandbox and benchmarks."""

from .server import BotApiServer, SimUser
from .state import Faults, RequestRecord, SimChat, SimError

__all__ = ["BotApiServer", "Faults", "RequestRecord", "SimChat", "SimError", "SimUser"]
