"""Run the local Bot API server standalone: python -m localbotapi --host 127.0.0.1 --port 8081."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from pathlib import Path

from .server import BotApiServer

logger = logging.getLogger("localbotapi")


async def _serve(args: argparse.Namespace) -> None:
    server = BotApiServer(host=args.host, port=args.port, files_dir=args.files_dir, seed=args.seed)
    server.privacy_mode = args.privacy_mode
    server.flood_control = args.strict
    async with server:
        logger.info(
            "local Bot API server at %s (bots: %s/bot<TOKEN>/..., control: %s/_sim/)",
            server.url,
            server.url,
            server.url,
        )
        await asyncio.Event().wait()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m localbotapi", description="Local Telegram Bot API server")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument(
        "--files-dir", type=Path, default=None, help="keep uploaded files on disk here instead of in memory"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--privacy-mode", action="store_true", help="in groups, deliver only commands, mentions and replies to the bot"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="enforce Telegram's flood control: 30 messages/s per bot, 1/s per chat, 20/min per group (429 beyond)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
