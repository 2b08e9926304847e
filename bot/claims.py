"""The buttons on a status claim (oversight/claims.py): the office or the unit the duty map names
confirms it (the right's status moves, the batch counts it) or returns it with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts as t
from bot.engine import Flow, Step, Turn, action
from oversight import claims as C


@action("claim.confirm")
def confirm(turn: Turn[None], *, cid: int) -> None:
    claim = C.decide(session=turn.session, claim_id=cid, actor=turn.member, ok=True, now=turn.now)
    turn.say(t.CLAIM_CONFIRMED.format(claim=C.claim_label(session=turn.session, claim=claim)))


@dataclass
class RejectState:
    cid: int = 0


@action("claim.reject")
def reject(turn: Turn[None], *, cid: int) -> None:
    C.check_may_decide(session=turn.session, member=turn.member, claim_id=cid)
    turn.start(CLAIM_REJECT_FLOW, RejectState(cid=cid), "reason")
    turn.say(t.CLAIM_ASK_REASON)


def reject_reason(turn: Turn[RejectState], text: str) -> None:
    claim = C.decide(
        session=turn.session, claim_id=turn.state.cid, actor=turn.member, ok=False, reason=text, now=turn.now
    )
    turn.end()
    turn.say(t.CLAIM_RETURNED.format(claim=C.claim_label(session=turn.session, claim=claim)))


CLAIM_REJECT_FLOW = Flow("claim_reject", RejectState, steps={"reason": Step(text=reject_reason)})
