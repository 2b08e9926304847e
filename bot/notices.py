"""Notices in chat: the convener reviews a draft (drops findings, edits the wording,
approves or abandons it); a named unit's contact files an explanation (/explain)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot import texts as t
from bot.engine import Flow, Rows, Step, Turn, Upload, action, button, command, grid
from models import Notice, Role, row_id
from oversight import notices as N
from oversight.dates import cn_date
from oversight.errors import InvalidStateError
from oversight.notices import NoticeState, notice_findings

AnyTurn = Turn[None] | Turn["EditState"] | Turn["DropState"]


def _may_edit(turn: AnyTurn, notice: Notice) -> bool:
    return notice.state == NoticeState.DRAFT and turn.member.role in N.EDIT_ROLES


def _review_buttons(turn: AnyTurn, notice: Notice, nid: int) -> Rows:
    """Under the overview: one button per finding (its unit and rule) opening its page, the body,
    and what the convener or office may do with a draft: edit, preview, approve, abandon."""
    pages = [
        button(
            (t.NOTICE_BTN_PAGE_DROPPED if f.dropped else t.NOTICE_BTN_PAGE).format(
                label=N.finding_button_label(session=turn.session, finding=f)
            ),
            "notice.page",
            nid=nid,
            finding=f.id,
        )
        for f in notice_findings(session=turn.session, notice_id=nid)
    ]
    rows: Rows = grid(pages, 2)
    rows.append([button(t.NOTICE_BTN_READ_BODY, "notice.body", nid=nid)])
    if not _may_edit(turn, notice):
        return rows
    rows.append(
        [
            button(t.NOTICE_BTN_TITLE, "notice.edit", nid=nid, what="title"),
            button(t.NOTICE_BTN_BODY, "notice.edit", nid=nid, what="body"),
            button(t.NOTICE_BTN_PREVIEW, "notice.preview", nid=nid),
        ]
    )
    if turn.member.role == Role.CONVENER:
        rows.append(
            [
                button(t.NOTICE_BTN_APPROVE, "notice.approve", nid=nid),
                button(t.NOTICE_BTN_ABANDON, "notice.abandon", nid=nid),
            ]
        )
    return rows


def _show(turn: AnyTurn, nid: int) -> None:
    """The draft's overview as the convener or office reads it, with the buttons they may use."""
    notice = N.notice_for_review(session=turn.session, member=turn.member, notice_id=nid)
    turn.say(N.draft_overview(session=turn.session, notice_id=nid), _review_buttons(turn, notice, nid))


def _show_page(turn: AnyTurn, nid: int, finding: int) -> None:
    """One finding's page: its evidence, drop or restore, the previous and next finding, back."""
    notice = N.notice_for_review(session=turn.session, member=turn.member, notice_id=nid)
    text, before, after = N.finding_page(session=turn.session, notice_id=nid, finding_id=finding)
    rows: Rows = []
    if _may_edit(turn, notice):
        f = next(x for x in notice_findings(session=turn.session, notice_id=nid) if x.id == finding)
        name, label = ("notice.restore", t.NOTICE_BTN_RESTORE) if f.dropped else ("notice.drop", t.NOTICE_BTN_DROP)
        rows.append(
            [
                button(
                    label.format(label=N.finding_button_label(session=turn.session, finding=f)),
                    name,
                    finding=finding,
                    nid=nid,
                )
            ]
        )
    nav = []
    if before is not None:
        nav.append(button(t.NOTICE_BTN_PREV, "notice.page", nid=nid, finding=before))
    if after is not None:
        nav.append(button(t.NOTICE_BTN_NEXT, "notice.page", nid=nid, finding=after))
    if nav:
        rows.append(nav)
    rows.append([button(t.NOTICE_BTN_OVERVIEW, "notice.open", nid=nid)])
    turn.say(text, rows)


@command("notices", bare=True)
def notices(turn: Turn[None]) -> None:
    items = N.recent_notices(session=turn.session, plan_id=turn.member.plan_id)
    if not items:
        turn.say(t.NOTICE_LIST_EMPTY)
        return
    # Named as people know them (document number, or title, period and state), never by record id.
    lines = [t.NOTICE_LIST_HEAD] + [f"{i}. {N.notice_heading(n)}" for i, n in enumerate(items, 1)]
    rows = [[button(t.NOTICE_BTN_OPEN.format(name=N.notice_name(n)), "notice.open", nid=row_id(n))] for n in items]
    turn.say("\n".join(lines), rows)


@action("notice.open")
def notice_open(turn: Turn[None], *, nid: int) -> None:
    _show(turn, nid)


@action("notice.page")
def notice_page(turn: Turn[None], *, nid: int, finding: int) -> None:
    _show_page(turn, nid, finding)


@action("notice.body")
def notice_body(turn: Turn[None], *, nid: int) -> None:
    N.notice_for_review(session=turn.session, member=turn.member, notice_id=nid)
    turn.say(
        N.draft_body_text(session=turn.session, notice_id=nid),
        [[button(t.NOTICE_BTN_OVERVIEW, "notice.open", nid=nid)]],
    )


@dataclass
class DropState:
    """The finding the convener or office is about to drop, waiting for the reason."""

    nid: int = 0
    finding: int = 0


@action("notice.drop")
def notice_drop(turn: Turn[None], *, finding: int, nid: int) -> None:
    N.check_may_edit(session=turn.session, member=turn.member, notice_id=nid)
    turn.start(NOTICE_DROP, DropState(nid=nid, finding=finding), "reason")
    turn.say(t.NOTICE_DROP_ASK)


def take_drop_reason(turn: Turn[DropState], text: str) -> None:
    N.drop_finding(session=turn.session, finding_id=turn.state.finding, actor=turn.member, reason=text, now=turn.now)
    turn.end()
    turn.say(t.NOTICE_DROPPED)
    _show_page(turn, turn.state.nid, turn.state.finding)


NOTICE_DROP = Flow("notice_drop", DropState, steps={"reason": Step(text=take_drop_reason)})


@action("notice.preview")
def notice_preview(turn: Turn[None], *, nid: int) -> None:
    N.request_preview(session=turn.session, notice_id=nid, actor=turn.member, now=turn.now)
    turn.say(t.NOTICE_PREVIEW_ASKED)


@action("notice.restore")
def notice_restore(turn: Turn[None], *, finding: int, nid: int) -> None:
    N.restore_finding(session=turn.session, finding_id=finding, actor=turn.member, now=turn.now)
    _show_page(turn, nid, finding)
    turn.toast(t.NOTICE_RESTORED_TOAST)


@dataclass
class EditState:
    """The draft whose title or body the member is about to send."""

    nid: int = 0
    what: str = "title"


@action("notice.edit")
def notice_edit(turn: Turn[None], *, nid: int, what: str) -> None:
    N.check_may_edit(session=turn.session, member=turn.member, notice_id=nid)
    what = "body" if what == "body" else "title"
    turn.start(NOTICE_EDIT, EditState(nid=nid, what=what), "text")
    turn.say(t.NOTICE_EDIT_PROMPT[what])


def take_edit(turn: Turn[EditState], text: str) -> None:
    title = turn.state.what == "title"
    N.edit_notice_text(
        session=turn.session,
        notice_id=turn.state.nid,
        actor=turn.member,
        title=text if title else None,
        body=None if title else text,
        now=turn.now,
    )
    turn.end()
    turn.say(t.NOTICE_EDITED.format(what=t.NOTICE_TITLE if title else t.NOTICE_BODY))
    _show(turn, turn.state.nid)


NOTICE_EDIT = Flow("notice_edit", EditState, steps={"text": Step(text=take_edit)})


@action("notice.approve")
def notice_approve(turn: Turn[None], *, nid: int) -> None:
    """审定印发 asks first: what will go out, to whom, and what was dropped."""
    N.check_may_approve(session=turn.session, member=turn.member, notice_id=nid, now=turn.now)
    turn.say(
        t.NOTICE_CONFIRM.format(summary=N.approval_summary(session=turn.session, notice_id=nid)),
        [
            [
                button(t.NOTICE_BTN_CONFIRM, "notice.approve_confirm", nid=nid),
                button(t.NOTICE_BTN_NOT_NOW, "notice.open", nid=nid),
            ]
        ],
    )


@action("notice.approve_confirm")
def notice_approve_confirm(turn: Turn[None], *, nid: int) -> None:
    notice = N.approve_notice(session=turn.session, notice_id=nid, actor=turn.member, now=turn.now)
    turn.say(t.NOTICE_APPROVED.format(title=notice.title, doc_no=notice.doc_no))
    turn.toast(t.NOTICE_APPROVED_TOAST)


@action("notice.abandon")
def notice_abandon(turn: Turn[None], *, nid: int) -> None:
    N.drop_notice(session=turn.session, notice_id=nid, actor=turn.member, now=turn.now)
    turn.say(t.NOTICE_ABANDONED)


# --- /explain ----------------------------------------------------------------------


@dataclass
class ExplainState:
    """An explanation being written: the notice and the files sent so far."""

    nid: int = 0
    attachments: list[int] = field(default_factory=list)


@command("explain", bare=True)
def explain(turn: Turn[None]) -> None:
    items = N.explainable_notices(session=turn.session, member=turn.member, now=turn.now)
    if not items:
        turn.say(t.EXPLAIN_NONE)
        return
    turn.say(t.EXPLAIN_PICK, [[button(f"{n.doc_no}《{n.title}》", "notice.explain", nid=n.id)] for n in items])


@action("notice.explain")
def notice_explain(turn: Turn[None], *, nid: int) -> None:
    items = N.explainable_notices(session=turn.session, member=turn.member, now=turn.now)
    notice = next((n for n in items if n.id == nid), None)
    if notice is None:
        raise InvalidStateError(t.EXPLAIN_NONE)
    deadline = N.explanation_deadline(session=turn.session, notice=notice)
    turn.start(EXPLAIN, ExplainState(nid=nid), "text")
    day = cn_date(deadline) if deadline else ""
    turn.say(t.EXPLAIN_PROMPT.format(title=notice.title, doc_no=notice.doc_no, deadline=day))


def explain_file(turn: Turn[ExplainState], upload: Upload) -> None:
    kept = turn.keep(upload)
    turn.state.attachments.append(row_id(kept))
    turn.say(t.EXPLAIN_FILE.format(name=kept.filename))


def explain_text(turn: Turn[ExplainState], text: str) -> None:
    N.file_explanation(
        session=turn.session,
        notice_id=turn.state.nid,
        actor=turn.member,
        text=text,
        attachment_ids=turn.state.attachments,
        now=turn.now,
    )
    turn.end()
    turn.say(t.EXPLAINED)


EXPLAIN = Flow("explain", ExplainState, command="explain", steps={"text": Step(text=explain_text, file=explain_file)})
