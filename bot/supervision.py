"""/duban: the items under 督办 in three colours (oversight/supervision.py), red first. The office
sees every unit's, with one 催办 button per item; a unit's member sees its own."""

from __future__ import annotations

from bot import texts as t
from bot.engine import Turn, action, button, command
from oversight import supervision as S
from oversight.dates import local_day

CARDS_MAX = 20


@command("duban")
def duban(turn: Turn[None]) -> None:
    items = S.supervised_for(session=turn.session, member=turn.member, today=local_day(turn.now))
    turn.say(S.format_items(session=turn.session, items=items[:CARDS_MAX]))
    if len(items) > CARDS_MAX:
        turn.say(t.DUBAN_MORE.format(n=len(items) - CARDS_MAX))
    if turn.member.role in S.URGE_ROLES and items:
        for item in items[:CARDS_MAX]:
            assert item.colour is not None  # supervised_for lists coloured items only
            turn.say(
                f"{S.COLOUR_MARKS[item.colour]} {item.label}",
                [[button(t.DUBAN_BTN_URGE, "sup.urge", kind=item.kind, iid=item.item_id)]],
            )


@action("sup.urge", command="duban")
def urge(turn: Turn[None], *, kind: str, iid: int) -> None:
    item = S.urge(session=turn.session, actor=turn.member, kind=kind, item_id=iid, now=turn.now)
    n = S.urge_count(session=turn.session, kind=kind, item_id=iid)
    unit = S.unit_label(session=turn.session, unit_id=item.unit_id)
    turn.say(t.DUBAN_URGED.format(label=item.label, n=n, unit=unit))
