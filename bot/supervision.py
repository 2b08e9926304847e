"""/duban: the items under 督办 in three colours (oversight.supervision.duban_summary), red first.
The office sees every unit's, with one 催办 button per item; a unit's member sees its own."""

from __future__ import annotations

from bot import texts as t
from bot.engine import Turn, action, button, command
from oversight import supervision as S
from oversight.dates import local_day


@command("duban", bare=True)
def duban(turn: Turn[None]) -> None:
    view = S.duban_summary(session=turn.session, member=turn.member, today=local_day(turn.now))
    turn.say(view.summary.message())
    for card in view.cards:
        turn.say(card.chat.message(), [[button(t.DUBAN_BTN_URGE, "sup.urge", kind=card.kind, iid=card.item_id)]])


@action("sup.urge", command="duban")
def urge(turn: Turn[None], *, kind: str, iid: int) -> None:
    item = S.urge(session=turn.session, actor=turn.member, kind=kind, item_id=iid, now=turn.now)
    turn.say(S.urged_facts(session=turn.session, item=item).message())
