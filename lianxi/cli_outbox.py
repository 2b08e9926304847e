"""`lianxi outbox stats`: what the outbox sent, holds and gave up on, and how many sent
messages may have reached their chat twice, by cause. Registered in lianxi/cli.py."""

from __future__ import annotations

from lianxi import common as cli

app = outbox_app = cli.new_app(name="outbox", help="消息发送队列：已发送、待发送、发送失败及可能重复的条数。")


@outbox_app.command("stats")
def outbox_stats() -> None:
    """统计消息发送队列：已发送、待发送、发送失败（已放弃）的条数，以及可能重复送达的条数（按原因）。"""
    from models.inbox import DUPLICATE_CAUSES
    from oversight.outbox import outbox_stats as stats_of

    with cli.cli_session(read_only=True) as session:
        stats = stats_of(session=session)
    out = cli.console()
    out.print(f"已发送：{stats.sent}条", highlight=False)
    out.print(f"待发送：{stats.pending}条", highlight=False)
    out.print(f"发送失败（已放弃）：{stats.failed}条", highlight=False)
    total = sum(stats.possible_duplicates.values())
    out.print(f"可能重复送达：{total}条（Telegram 不提供去重，以下情况无法排除重复）", highlight=False)
    for cause, label in DUPLICATE_CAUSES.items():
        out.print(f"  {label}：{stats.possible_duplicates[cause]}条", highlight=False)
