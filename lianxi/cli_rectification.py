"""`lianxi rectification …`: the rectification ledger (整改台账) from the command line — list the
items, close one (销号) with its evidence, record a 回头看 — by the same rules as /rectify in chat,
acting as a named member (--as), whose role decides what is allowed. Registered in lianxi/cli.py."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from lianxi import common as cli

if TYPE_CHECKING:  # only for annotations: the command functions import what they use
    from sqlmodel import Session

    from models import Member

app = rectification_app = cli.new_app(name="rectification", help="整改台账：查看整改事项，销号（须附佐证），回头看。")

PLAN = typer.Option("--plan", help="计划代号（如 urad-middle-banner）；默认为最后加载的计划")
AS = typer.Option("--as", help="以哪位成员的身份操作（成员编号，见 lianxi member list）", metavar="成员编号")


def _member(session: Session, member_id: int) -> Member:
    from models import Member

    member = session.get(Member, member_id)
    if member is None or not member.active:
        cli.fail(f"找不到在册的成员（编号 {member_id}）。")
    return member


@rectification_app.command("list")
def rectification_list(
    plan: Annotated[str | None, PLAN] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="只列该单位的事项（单位名称或代号）")] = None,
) -> None:
    """列出整改台账中的事项：事项、责任单位、责任人、时限、标准、状态。"""
    from sqlmodel import col, select

    from models import RectificationItem, row_id
    from oversight.members import require_unit
    from oversight.rectification import card

    with cli.cli_session(read_only=True) as session:
        chosen = cli.require_plan(session, plan)
        q = select(RectificationItem).where(RectificationItem.plan_id == row_id(chosen))
        if unit:
            q = q.where(
                RectificationItem.unit_id == row_id(require_unit(session=session, plan_id=row_id(chosen), text=unit))
            )
        items = session.exec(q.order_by(col(RectificationItem.id))).all()
        texts = [card(session=session, item=i) for i in items]
    if not texts:
        cli.out.print("整改台账中没有事项。", highlight=False, markup=False)
        return
    cli.out.print("\n\n".join(texts), highlight=False, markup=False)


@rectification_app.command("close")
def rectification_close(
    item: Annotated[int, typer.Argument(help="整改事项编号", metavar="事项编号")],
    member: Annotated[int, AS],
    text: Annotated[str, typer.Option("--text", help="整改情况及佐证说明（必填）")],
) -> None:
    """销号：责任单位联络员提交后待办公室核验；办公室销号即生效并安排回头看。"""
    from models import utcnow
    from oversight.review import ITEM_STATE_LABELS, close_item

    with cli.cli_session() as session:
        actor = _member(session, member)
        done = close_item(session=session, item_id=item, actor=actor, evidence_text=text, now=utcnow())
        state = ITEM_STATE_LABELS.get(done.state, done.state)
    cli.out.print(f"{item}号整改事项：{state}。", highlight=False, markup=False)


@rectification_app.command("recheck")
def rectification_recheck(
    item: Annotated[int, typer.Argument(help="整改事项编号", metavar="事项编号")],
    member: Annotated[int, AS],
    failed: Annotated[bool, typer.Option("--failed", help="回头看未通过（须用 --text 说明原因）")] = False,
    text: Annotated[str, typer.Option("--text", help="回头看情况说明")] = "",
) -> None:
    """回头看：通过，或未通过（重新整改，新的时限，扣分加倍）。"""
    from models import utcnow
    from oversight.dates import cn_date
    from oversight.rectification import recheck

    with cli.cli_session() as session:
        actor = _member(session, member)
        done = recheck(session=session, item_id=item, actor=actor, ok=not failed, reason=text, now=utcnow())
        line = (
            f"{item}号整改事项回头看未通过：新的整改时限{cn_date(done.deadline)}，扣分{done.deduction:g}分。"
            if failed
            else f"{item}号整改事项回头看通过。"
        )
    cli.out.print(line, highlight=False, markup=False)
