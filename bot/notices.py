"""Notices in chat: the convener reviews a draft (drops findings, edits the wording,
approves or abandons it); a named unit's contact files an explanation (/explain)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.engine import Flow, Rows, Step, Turn, Upload, action, button, command
from models import Notice, Role
from oversight import notices as N
from oversight.dates import cn_date
from oversight.errors import InvalidStateError
from oversight.notices import NoticeState, notice_findings

LIST_HEAD = "【通报】"
LIST_EMPTY = "目前没有通报草稿或已印发的通报。季度结束后工作进程会自动起草。"
EDIT_PROMPT = {"title": "请发送新的通报标题（不超过 100 字）：", "body": "请发送新的通报正文（可多段）："}
EDITED = "已修改通报{what}。"
APPROVED = "已审定通报《{title}》，文号 {doc_no}。工作进程将生成正式文件，发到联席会议群和被通报单位。"
ABANDONED = "已放弃本期通报草稿。"
EXPLAIN_NONE = "贵单位目前没有可以报送情况说明的通报（须在通报印发后规定的工作日内报送）。"
EXPLAIN_PICK = "请选择要报送情况说明的通报："
EXPLAIN_PROMPT = (
    "请发送对《{title}》（{doc_no}）的情况说明（文字，可先上传佐证材料：PDF、Excel、图片），截止 {deadline}："
)
EXPLAIN_FILE = "已收到材料“{name}”。可继续上传，或发送文字说明完成报送。"
EXPLAINED = "情况说明已报送，将附入通报记录，并在下一期简报中列出。"


def _review_buttons(turn: Turn[None] | Turn[EditState], notice: Notice, nid: int) -> Rows:
    """What the convener or office may do with a draft: drop or restore findings, edit, approve."""
    if notice.state != NoticeState.DRAFT or turn.member.role not in N.EDIT_ROLES:
        return []
    rows: Rows = []
    for f in notice_findings(session=turn.session, notice_id=nid):
        name, label = ("notice.restore", f"恢复事项{f.id}") if f.dropped else ("notice.drop", f"删除事项{f.id}")
        rows.append([button(label, name, finding=f.id, nid=nid)])
    rows.append(
        [
            button("改标题", "notice.edit", nid=nid, what="title"),
            button("改正文", "notice.edit", nid=nid, what="body"),
        ]
    )
    if turn.member.role == Role.CONVENER:
        rows.append(
            [
                button("✅ 审定印发", "notice.approve", nid=nid),
                button("放弃本期通报", "notice.abandon", nid=nid),
            ]
        )
    return rows


def _show(turn: Turn[None] | Turn[EditState], nid: int) -> None:
    """The notice as the convener or office reads it, with the buttons they may use."""
    notice = N.notice_for_review(session=turn.session, member=turn.member, notice_id=nid)
    turn.say(N.draft_text(session=turn.session, notice_id=nid), _review_buttons(turn, notice, nid))


@command("notices")
def notices(turn: Turn[None]) -> None:
    items = N.recent_notices(session=turn.session, plan_id=turn.member.plan_id)
    if not items:
        turn.say(LIST_EMPTY)
        return
    lines = [LIST_HEAD] + [
        f"#{n.id} {n.period} {n.doc_no or ''}《{n.title}》{N.STATE_LABELS.get(n.state, n.state)}" for n in items
    ]
    turn.say("\n".join(lines), [[button(f"查看 #{n.id}", "notice.open", nid=n.id)] for n in items])


@action("notice.open")
def notice_open(turn: Turn[None], *, nid: int) -> None:
    _show(turn, nid)


@action("notice.drop")
def notice_drop(turn: Turn[None], *, finding: int, nid: int) -> None:
    N.drop_finding(session=turn.session, finding_id=finding, actor=turn.member, now=turn.now)
    _show(turn, nid)
    turn.toast("已删除该事项")


@action("notice.restore")
def notice_restore(turn: Turn[None], *, finding: int, nid: int) -> None:
    N.restore_finding(session=turn.session, finding_id=finding, actor=turn.member, now=turn.now)
    _show(turn, nid)
    turn.toast("已恢复该事项")


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
    turn.say(EDIT_PROMPT[what])


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
    turn.say(EDITED.format(what="标题" if title else "正文"))
    _show(turn, turn.state.nid)


NOTICE_EDIT = Flow("notice_edit", EditState, steps={"text": Step(text=take_edit)})


@action("notice.approve")
def notice_approve(turn: Turn[None], *, nid: int) -> None:
    notice = N.approve_notice(session=turn.session, notice_id=nid, actor=turn.member, now=turn.now)
    turn.say(APPROVED.format(title=notice.title, doc_no=notice.doc_no))
    turn.toast("已审定")


@action("notice.abandon")
def notice_abandon(turn: Turn[None], *, nid: int) -> None:
    N.drop_notice(session=turn.session, notice_id=nid, actor=turn.member, now=turn.now)
    turn.say(ABANDONED)


# --- /explain ----------------------------------------------------------------------


@dataclass
class ExplainState:
    """An explanation being written: the notice and the files sent so far."""

    nid: int = 0
    attachments: list[int] = field(default_factory=list)


@command("explain")
def explain(turn: Turn[None]) -> None:
    items = N.explainable_notices(session=turn.session, member=turn.member, now=turn.now)
    if not items:
        turn.say(EXPLAIN_NONE)
        return
    turn.say(EXPLAIN_PICK, [[button(f"{n.doc_no}《{n.title}》"[:60], "notice.explain", nid=n.id)] for n in items])


@action("notice.explain")
def notice_explain(turn: Turn[None], *, nid: int) -> None:
    items = N.explainable_notices(session=turn.session, member=turn.member, now=turn.now)
    notice = next((n for n in items if n.id == nid), None)
    if notice is None or notice.id is None:
        raise InvalidStateError(EXPLAIN_NONE)
    deadline = N.explanation_deadline(session=turn.session, notice=notice)
    turn.start(EXPLAIN, ExplainState(nid=nid), "text")
    day = cn_date(deadline) if deadline else ""
    turn.say(EXPLAIN_PROMPT.format(title=notice.title, doc_no=notice.doc_no, deadline=day))


def explain_file(turn: Turn[ExplainState], upload: Upload) -> None:
    kept = turn.keep(upload)
    assert kept.id is not None
    turn.state.attachments.append(kept.id)
    turn.say(EXPLAIN_FILE.format(name=kept.filename))


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
    turn.say(EXPLAINED)


EXPLAIN = Flow("explain", ExplainState, command="explain", steps={"text": Step(text=explain_text, file=explain_file)})
