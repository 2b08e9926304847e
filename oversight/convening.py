"""Convening a joint meeting: the office (or the convener) schedules it with a date and time, the
agenda is drafted from the record — disputed problems awaiting a ruling, overdue items, batches
behind plan, the units the latest notice named — as facts with their record ids, the office edits
it and circulates it to the member units, each unit says who attends (seed 003: 按时派人参加工作例会),
the office marks it held, records its agreed matters (oversight/meetings.add_decision) and asks the
worker for the 会议纪要 (job "minutes", period meeting-<id>; jobs/minutes.py renders and sends it).

States: scheduled -> circulated -> held -> minuted. Each change writes its audit row and queues
its messages in the caller's transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlmodel import Session, col, select

from models import (
    AuditLog,
    Brief,
    Decision,
    Meeting,
    MeetingAttendance,
    Member,
    OutboxMessage,
    Plan,
    Problem,
    ProblemState,
    Role,
    Unit,
    row_id,
)
from oversight import labels, runs
from oversight.accountability import thresholds_of
from oversight.audit import actor_of, audit
from oversight.dates import cn_date, cn_datetime, local_day, local_zone
from oversight.errors import InvalidInputError, InvalidStateError, NotFoundError, PermissionDeniedError
from oversight.facts import Chat
from oversight.lookups import todo_overdue_all
from oversight.measures import tasks_behind
from oversight.meetings import ADHOC_TITLE, CALLING_ROLES
from oversight.members import members_of_unit, members_with_role, unit_name
from oversight.notices import NoticeState, named_unit_ids, recent_notices
from oversight.outbox import enqueue_text, notify_members, queued_under
from oversight.plans import office_name
from oversight.sentences import cite, person_at_unit
from oversight.sentences import names as joined

SCHEDULE_ROLES = (Role.OFFICE, Role.CONVENER, Role.ADMIN)
MINUTES_JOB = "minutes"
AGENDA_MAX = 25  # items on one agenda (one chat message)
ITEM_MAX = 100  # characters of one agenda item
TOPIC_MAX = 60
NAME_MAX = 40
AHEAD_MAX = timedelta(days=366)
KIND_LABELS = {"quarterly": "季度例会", "adhoc": "临时加开"}
STATE_LABELS = {
    "scheduled": "议程待下发",
    "circulated": "已下发通知",
    "held": "已召开",
    "minuted": "纪要已印发",
    "cancelled": "已取消",
}
ATTEND = "attend"
EXCUSED = "excused"

NOTICE = "【会议通知】定于{when}召开{title}。\n议程：\n{agenda}\n请于会前确认贵单位（{unit}）参会人员。"
OFFICE_ATTENDANCE = "【参会确认】{title}：{who}{what}。"
UNIT_LINE_ATTEND = "参会"
UNIT_LINE_EXCUSED = "请假"

# The buttons a contact of a member unit gets under the meeting notice ({text, token} rows).
NoticeButtons = Callable[[Meeting, Member], list[list[dict[str, str]]]]


def _clean(text: str | None, *, what: str, maximum: int, minimum: int = 1) -> str:
    body = " ".join((text or "").split())
    if len(body) < minimum or len(body) > maximum:
        raise InvalidInputError(f"{what}须为{minimum}–{maximum}个字，当前{len(body)}个字。")
    return body


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _pct(x: float) -> str:
    return f"{x * 100:.0f}%"


def _require(actor: Member, roles: tuple[str, ...], what: str) -> None:
    if not actor.active or actor.role not in roles:
        raise PermissionDeniedError(f"只有联席会议办公室、召集人和管理员可以{what}。")


def _load(session: Session, meeting_id: int, actor: Member, *, lock: bool = False) -> Meeting:
    meeting = session.get(Meeting, meeting_id, with_for_update=lock, populate_existing=lock)
    if meeting is None or meeting.plan_id != actor.plan_id:
        raise NotFoundError("找不到该会议。")
    return meeting


def meeting_label(meeting: Meeting) -> str:
    """2026年12月15日 09:30 2026年第四季度联席会议 (a meeting recorded without its time: the day)."""
    when = cn_datetime(meeting.starts_at) if meeting.starts_at else cn_date(meeting.held_on)
    return f"{when} {meeting.title}"


def member_units(*, session: Session, plan_id: int) -> list[Unit]:
    """The joint meeting's member units, who send someone to a meeting (all but the government and the office)."""
    return list(
        session.exec(
            select(Unit)
            .where(Unit.plan_id == plan_id, col(Unit.kind).not_in(("government", "office")))
            .order_by(col(Unit.id))
        ).all()
    )


# --- Scheduling and the agenda -------------------------------------------------------------


def quarter_title(day: date) -> str:
    return f"{day.year}年第{'一二三四'[(day.month - 1) // 3]}季度联席会议"


def check_may_schedule(*, actor: Member, kind: str) -> None:
    """The office and the convener schedule a quarterly meeting; only the convener calls an ad-hoc one."""
    _require(actor, SCHEDULE_ROLES, "安排联席会议")
    if kind not in KIND_LABELS:
        raise InvalidInputError("请选择季度例会或临时加开。")
    if kind == "adhoc" and actor.role not in CALLING_ROLES:
        raise PermissionDeniedError("临时加开联席会议须由召集人决定；办公室可以安排季度例会。")


def schedule_meeting(
    *, session: Session, actor: Member, kind: str, starts_at: datetime, topic: str = "", now: datetime
) -> Meeting:
    """Schedule a quarterly meeting (office, convener) or an ad-hoc one (临时加开: the convener), with
    its agenda drafted from the record; nothing is sent until the office circulates it. An ad-hoc
    meeting also asks the worker for its brief, as 临时加开 always has."""
    check_may_schedule(actor=actor, kind=kind)
    if starts_at <= now:
        raise InvalidInputError(f"会议时间须晚于现在（{cn_datetime(now)}），请重新发送。")
    if starts_at - now > AHEAD_MAX:
        raise InvalidInputError("会议时间最多可安排在一年以内，请重新发送。")
    day = local_day(starts_at)
    subject = _clean(topic, what="会议议题", maximum=TOPIC_MAX) if topic.strip() else ""
    meeting = Meeting(
        plan_id=actor.plan_id,
        kind=kind,
        period=f"{day.year}Q{(day.month - 1) // 3 + 1}" if kind == "quarterly" else day.isoformat(),
        held_on=day,
        title=quarter_title(day)
        if kind == "quarterly"
        else (f"临时加开联席会议（{subject}）" if subject else ADHOC_TITLE),
        called_by_member_id=actor.id,
        state="scheduled",
        starts_at=starts_at,
        agenda=draft_agenda(session=session, actor=actor, now=now),
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    who = actor_of(actor.id)
    audit(
        session=session,
        actor=who,
        action="meeting.scheduled",
        object_type="meeting",
        object_id=meeting.id,
        detail={"kind": kind, "starts_at": starts_at.isoformat(), "agenda": len(meeting.agenda)},
        at=now,
    )
    if kind == "adhoc":
        from oversight.briefs import ask_for_day
        from oversight.schedules import ensure_default_schedules

        ensure_default_schedules(session=session, now=now)
        ask_for_day(session=session, plan_id=actor.plan_id, day=day, actor=who, reason="该日另有会议", now=now)
    return meeting


def draft_agenda(*, session: Session, actor: Member, now: datetime) -> list[dict[str, str]]:
    """The agenda as the record stands at `now`, each item a fact with the record it rests on
    (ref: problem:<id>, decision:<id>, baseline:<unit>, task:<id>, notice:<id>)."""
    plan_id = actor.plan_id
    today = local_day(now)
    items: list[dict[str, str]] = []
    disputed = session.exec(
        select(Problem)
        .where(Problem.plan_id == plan_id, Problem.state == ProblemState.DISPUTED)
        .order_by(col(Problem.id))
    ).all()
    for p in disputed:
        assert p.id is not None  # a row read from the database has its id
        items.append(
            {
                "text": f"待裁定：{cite('problem', [p.id])}（{unit_name(session, p.owner_unit_id)}）{_short(p.text, 40)}",
                "ref": f"problem:{p.id}",
            }
        )
    for item in todo_overdue_all(session=session, actor=actor, today=today):
        if item["kind"] == "problem" and item["state"] == ProblemState.DISPUTED:
            continue  # already listed as awaiting a ruling
        what = {"problem": cite("problem", [item["id"]]), "decision": cite("decision", [item["id"]])}.get(
            item["kind"], "底数核实台账"
        )
        late = f"已逾期{item['overdue_days']}个工作日" if item["overdue_days"] else "已逾期"
        items.append(
            {
                "text": f"逾期未办结：{what}（{item['unit']}，期限{cn_date(item['due_on'])}，{late}）{_short(item['text'], 30)}",
                "ref": f"{item['kind']}:{item['id']}",
            }
        )
    plan = session.get(Plan, plan_id)
    points = thresholds_of(plan)["behind_points"] if plan else 20
    for row in tasks_behind(session=session, plan_id=plan_id, as_of=now, behind_points=points):
        items.append(
            {
                "text": f"进度滞后：“{row['name']}”按计划应完成{_pct(row['expected_share'])}，"
                f"实际完成{_pct(row['done_share'])}，落后{row['behind_points']:g}个百分点",
                "ref": f"task:{row['task_id']}",
            }
        )
    published = [n for n in recent_notices(session=session, plan_id=plan_id) if n.state == NoticeState.PUBLISHED]
    if published:
        notice = published[0]
        names = [unit_name(session, u) for u in named_unit_ids(session=session, notice_id=notice.id or 0)]
        if names:
            items.append(
                {
                    "text": f"通报整改：{notice.doc_no or notice.title}点名{len(names)}个单位（{'、'.join(names)}）",
                    "ref": f"notice:{notice.id}",
                }
            )
    return [{"text": _short(i["text"], ITEM_MAX), "ref": i["ref"]} for i in items[:AGENDA_MAX]]


def agenda_text(meeting: Meeting) -> str:
    """The numbered agenda, one item a line."""
    if not meeting.agenda:
        return "（暂无议题）"
    return "\n".join(f"{i}. {item['text']}" for i, item in enumerate(meeting.agenda, 1))


def _editable(meeting: Meeting) -> None:
    if meeting.state != "scheduled":
        raise InvalidStateError(f"会议通知已下发（{STATE_LABELS.get(meeting.state, meeting.state)}），议程不能再修改。")


def check_editable(*, session: Session, actor: Member, meeting_id: int) -> Meeting:
    """A meeting whose agenda the actor may still change (not yet circulated)."""
    _require(actor, SCHEDULE_ROLES, "修改会议议程")
    meeting = _load(session, meeting_id, actor)
    _editable(meeting)
    return meeting


def add_agenda_item(*, session: Session, meeting_id: int, actor: Member, text: str, now: datetime) -> Meeting:
    """The office adds an item of its own wording to a not yet circulated agenda."""
    _require(actor, SCHEDULE_ROLES, "修改会议议程")
    meeting = _load(session, meeting_id, actor, lock=True)
    _editable(meeting)
    body = _clean(text, what="议题", maximum=ITEM_MAX, minimum=2)
    if len(meeting.agenda) >= AGENDA_MAX:
        raise InvalidInputError(f"议程最多{AGENDA_MAX}项，请先删除不需要的议题。")
    meeting.agenda = [*meeting.agenda, {"text": body, "ref": ""}]
    session.add(meeting)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="meeting.agenda_added",
        object_type="meeting",
        object_id=meeting.id,
        detail={"text": body},
        at=now,
    )
    return meeting


def drop_agenda_item(*, session: Session, meeting_id: int, actor: Member, number: str, now: datetime) -> Meeting:
    """The office removes item `number` (as shown, from 1) of a not yet circulated agenda."""
    _require(actor, SCHEDULE_ROLES, "修改会议议程")
    meeting = _load(session, meeting_id, actor, lock=True)
    _editable(meeting)
    n = number.strip()
    if not n.isdigit() or not 1 <= int(n) <= len(meeting.agenda):
        raise InvalidInputError(
            f"请发送要删除的议题序号（1–{len(meeting.agenda)}）。" if meeting.agenda else "议程已无议题。"
        )
    gone = meeting.agenda[int(n) - 1]
    meeting.agenda = [item for i, item in enumerate(meeting.agenda, 1) if i != int(n)]
    session.add(meeting)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="meeting.agenda_dropped",
        object_type="meeting",
        object_id=meeting.id,
        detail=dict(gone),
        at=now,
    )
    return meeting


def notice_text(*, session: Session, meeting: Meeting, unit: Unit) -> str:
    assert meeting.starts_at is not None
    return NOTICE.format(
        when=cn_datetime(meeting.starts_at), title=meeting.title, agenda=agenda_text(meeting), unit=unit.name
    )


# The office's prompt before circulating and its reply after (oversight.facts.Chat), one fact a
# line: how many member units and contacts the notice reaches (the units and members cited), the
# agenda's items (the meeting and the records they rest on), the units no notice reaches named
# with why, and the items left out because their fact no longer holds.
CIRCULATION_TEXTS: dict[str, str] = {
    "ask": "将向{units}个成员单位的{people}名联络员下发会议通知和议程（共{items}项），下发后议程不能再修改。",
    "ask_nobody": "各成员单位目前都没有联络员加入，下发后没有人会收到会议通知；议程（共{items}项）下发后不能再修改。",
    "ask_no_units": "本计划没有成员单位，下发后没有人会收到会议通知；议程（共{items}项）下发后不能再修改。",
    "ask_without": "{names}目前没有联络员加入，收不到会议通知。",
    "ask_confirm": "确认下发？",
    "sent": "已向{units}个成员单位的{people}名联络员下发会议通知，共{n}条。",
    "sent_nobody": "会议通知未发给任何人：各成员单位目前都没有联络员加入。会议已记为已下发，联络员加入后将自动收到通知。",
    "sent_no_units": "会议通知未发给任何人：本计划没有成员单位。",
    "without": "{names}目前没有联络员加入，未收到通知；其联络员加入后将自动收到。",
    "left_out_one": "议题“{text}”所依据的情况已有变化（如已裁定、已办结），未列入议程。",
    "left_out": "{n}项议题所依据的情况已有变化（如已裁定、已办结），未列入议程：{texts}。",
    "follow": "各单位确认参会人员后会逐一告知您。",
}


def _reached(session: Session, plan_id: int) -> tuple[list[Unit], dict[int, list[Member]]]:
    """The member units and, per unit, its active contacts in chat (those a notice goes to)."""
    units = member_units(session=session, plan_id=plan_id)
    contacts = {
        row_id(u): [m for m in members_of_unit(session=session, unit_id=row_id(u)) if m.telegram_user_id is not None]
        for u in units
    }
    return units, contacts


def _agenda_ids(items: list[dict[str, str]]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = {}
    for item in items:
        noun, _, rid = str(item.get("ref") or "").partition(":")
        if noun in AGENDA_NOUNS and rid.isdigit() and int(rid):
            out.setdefault(AGENDA_NOUNS[noun], []).append(int(rid))
    return out


def circulation_prompt(*, session: Session, actor: Member, meeting_id: int) -> Chat:
    """What the office is asked before the notice goes out: whom it reaches (units, contacts), the
    agenda's items, the member units no one of which is in chat named; refused on an empty agenda."""
    meeting = check_editable(session=session, actor=actor, meeting_id=meeting_id)
    if not meeting.agenda:
        raise InvalidInputError("议程为空，请先添加议题再下发。")
    units, contacts = _reached(session, meeting.plan_id)
    people = [m for u in units for m in contacts[row_id(u)]]
    without = [u for u in units if not contacts[row_id(u)]]
    items = {"meeting": [row_id(meeting)], **_agenda_ids(meeting.agenda)}
    say = Chat(CIRCULATION_TEXTS)
    if not units:
        say.fact("ask_no_units", items, items=len(meeting.agenda), units=0)
    elif not people:
        say.fact("ask_nobody", {**items, "unit": [row_id(u) for u in units]}, items=len(meeting.agenda), people=0)
    else:
        reached = [u for u in units if contacts[row_id(u)]]
        ids = {**items, "unit": [row_id(u) for u in reached], "member": [row_id(m) for m in people]}
        say.fact("ask", ids, units=len(reached), people=len(people), items=len(meeting.agenda))
        if without:
            say.fact("ask_without", {"unit": [row_id(u) for u in without]}, names=joined(u.name for u in without))
    say.fact("ask_confirm")
    return say


def circulation_facts(*, session: Session, meeting_id: int) -> Chat:
    """The office's reply once the notice went out, from the record: the notices queued at the
    circulation (outbox rows of the meeting's notice key written at that moment, not a later
    joiner's), the member units and contacts they went to, the units none reached (no contact in
    chat) and the items the circulation left out (its audit row)."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.circulated_at is None:
        raise NotFoundError("找不到该会议的通知下发记录。")
    at = meeting.circulated_at
    sent = [
        msg for msg in queued_under(session=session, prefix=f"meeting:{meeting_id}:notice:") if msg.created_at <= at
    ]
    units = member_units(session=session, plan_id=meeting.plan_id)
    # Who each message went to: the plan's contact in that chat (the latest row, should they have
    # rejoined; one who has left since still received it).
    by_chat: dict[int, Member] = {}
    for m in session.exec(
        select(Member)
        .where(Member.plan_id == meeting.plan_id, Member.role == Role.CONTACT)
        .where(col(Member.telegram_user_id).in_({msg.chat_id for msg in sent}))
        .order_by(col(Member.id))
    ).all():
        by_chat[int(m.telegram_user_id or 0)] = m
    people = [by_chat[msg.chat_id] for msg in sent if msg.chat_id in by_chat]
    got = {m.unit_id for m in people}
    reached = [u for u in units if row_id(u) in got]
    without = [u for u in units if row_id(u) not in got]
    row = session.exec(
        select(AuditLog)
        .where(
            AuditLog.object_type == "meeting",
            AuditLog.object_id == str(meeting_id),
            AuditLog.action == "meeting.circulated",
        )
        .order_by(col(AuditLog.id).desc())
    ).first()
    left_out = list((row.detail or {}).get("left_out") or []) if row else []
    say = Chat(CIRCULATION_TEXTS)
    if not units:
        say.fact("sent_no_units", {"meeting": [meeting_id]}, n=0)
    elif not sent:
        say.fact("sent_nobody", {"meeting": [meeting_id], "unit": [row_id(u) for u in units]}, n=0)
    else:
        ids = {
            "meeting": [meeting_id],
            "unit": [row_id(u) for u in reached],
            "member": [row_id(m) for m in people],
            "message": [row_id(msg) for msg in sent],
        }
        say.fact("sent", ids, units=len(reached), people=len(people), n=len(sent))
        if without:
            say.fact("without", {"unit": [row_id(u) for u in without]}, names=joined(u.name for u in without))
    if len(left_out) == 1:
        say.fact("left_out_one", _agenda_ids(left_out), n=1, text=left_out[0]["text"])
    elif left_out:
        texts = "、".join(f"“{i['text']}”" for i in left_out)
        say.fact("left_out", _agenda_ids(left_out), n=len(left_out), texts=texts)
    if sent:
        say.fact("follow")
    return say


def circulate(
    *, session: Session, meeting_id: int, actor: Member, now: datetime, buttons: NoticeButtons | None = None
) -> Chat:
    """Send the meeting notice with its agenda to every member unit's contacts (with `buttons` to
    answer who attends); returns the office's reply (circulation_facts). The drafted items are
    checked against the record once more: one whose fact no longer holds (a problem ruled or
    solved, a matter done since) is left out, the others carry the figures of the moment; the
    office's own items stay."""
    _require(actor, SCHEDULE_ROLES, "下发会议通知")
    meeting = _load(session, meeting_id, actor, lock=True)
    _editable(meeting)
    fresh = {i["ref"]: i for i in draft_agenda(session=session, actor=actor, now=now) if i["ref"]}
    gone = [i for i in meeting.agenda if i["ref"] and i["ref"] not in fresh]
    meeting.agenda = [fresh.get(i["ref"], i) if i["ref"] else i for i in meeting.agenda if i not in gone]
    if not meeting.agenda:
        raise InvalidInputError("议程为空，请先添加议题再下发。")
    assert meeting.starts_at is not None
    if meeting.starts_at <= now:
        raise InvalidStateError(f"会议时间（{cn_datetime(meeting.starts_at)}）已过，不能再下发通知。")
    meeting.state = "circulated"
    meeting.circulated_at = now
    session.add(meeting)
    sent = 0
    for unit in member_units(session=session, plan_id=meeting.plan_id):
        text = notice_text(session=session, meeting=meeting, unit=unit)
        for contact in members_of_unit(session=session, unit_id=row_id(unit)):
            if contact.telegram_user_id is None:
                continue
            msg = enqueue_text(
                session=session,
                chat_id=contact.telegram_user_id,
                text=text,
                buttons=buttons(meeting, contact) if buttons else None,
                dedupe_key=f"meeting:{meeting.id}:notice:{contact.telegram_user_id}",
                now=now,
            )
            sent += msg is not None
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="meeting.circulated",
        object_type="meeting",
        object_id=meeting.id,
        detail={"agenda": list(meeting.agenda), "left_out": gone, "messages": sent},
        at=now,
    )
    session.flush()
    return circulation_facts(session=session, meeting_id=row_id(meeting))


def _withdraw_brief(
    session: Session, meeting: Meeting, *, day: date, actor: Member, reason: str, now: datetime
) -> tuple[Brief | None, int]:
    """An ad-hoc meeting's brief for `day` (its old day) is taken back: the run whether or not a
    worker has started it (one at work finds it withdrawn and records nothing), the brief if it was
    built and not yet distributed (withdrawn: not approved, signed or sent, oversight.briefs), and
    whatever of it still waits in the outbox (the office's draft, the conveners' copy to sign, its
    distribution). Returns this plan's brief for the day if it was built and is withdrawn now or
    was distributed already, for the caller to tell the office, and how many messages were taken back."""
    from oversight.briefs import BriefState, brief_of_day, notify_brief_withdrawn, withdraw_for_meeting
    from oversight.outbox import withdraw_pending

    period = day.isoformat()
    who = actor_of(actor.id)
    # The day's brief run serves every plan's ad-hoc meeting of that day: it stays while another
    # one not called off still needs it (and this plan's brief stays if it is this plan's).
    others = session.exec(
        select(Meeting.plan_id).where(
            Meeting.kind == "adhoc",
            Meeting.held_on == day,
            Meeting.state != "cancelled",
            Meeting.id != meeting.id,
        )
    ).all()
    run = None
    if not others:
        run = runs.withdraw_run(session=session, job="brief", period=period, actor=who, reason=reason, now=now)
    dropped = 0
    brief = withdrawn = None
    if meeting.plan_id not in others:
        withdrawn = withdraw_for_meeting(
            session=session, plan_id=meeting.plan_id, day=day, actor=who, reason=reason, now=now
        )
        found = withdrawn or brief_of_day(session=session, plan_id=meeting.plan_id, day=day)
        briefs = [row_id(found)] if found is not None else []
        if found is not None and (found is withdrawn or found.state == BriefState.DISTRIBUTED):
            brief = found
        prefixes = [
            f"brief:{meeting.plan_id}:{period}",
            *(
                f"{kind}:{b}:"
                for b in briefs
                for kind in ("briefdraft", "briefsign", "briefsigned", "briefreturned", "briefremind")
            ),
        ]
        dropped = withdraw_pending(session=session, prefixes=prefixes, reason=reason)
        if meeting.state == "cancelled" and (withdrawn is not None or (briefs and dropped)):
            # built before the cancel: whatever of it the office had or was to have is not sent
            notify_brief_withdrawn(session=session, plan_id=meeting.plan_id, day=day, now=now)
    audit(
        session=session,
        actor=who,
        action="meeting.brief_withdrawn",
        object_type="meeting",
        object_id=meeting.id,
        detail={
            "period": period,
            "run_id": run.id if run else None,
            "brief_id": withdrawn.id if withdrawn else None,
            "messages": dropped,
            "reason": reason,
        },
        at=now,
    )
    return brief, dropped


RESCHEDULED = "【会议改期】{title}由{old}改为{new}召开。已报的参会人员不变；如有变动，请点“确认参会”或“请假”更改。"


def check_movable(meeting: Meeting) -> None:
    if meeting.state not in ("scheduled", "circulated"):
        raise InvalidStateError(f"该会议{STATE_LABELS.get(meeting.state, meeting.state)}，不能再改期。")


def reschedule(
    *,
    session: Session,
    meeting_id: int,
    actor: Member,
    starts_at: datetime,
    now: datetime,
    buttons: NoticeButtons | None = None,
) -> Meeting:
    """Move a meeting not yet held to another time; once its notice went out, every member unit's
    contacts are told (with the answer buttons again; answers already given stand)."""
    _require(actor, SCHEDULE_ROLES, "调整会议时间")
    meeting = _load(session, meeting_id, actor, lock=True)
    check_movable(meeting)
    if starts_at <= now:
        raise InvalidInputError(f"会议时间须晚于现在（{cn_datetime(now)}），请重新发送。")
    if starts_at - now > AHEAD_MAX:
        raise InvalidInputError("会议时间最多可安排在一年以内，请重新发送。")
    old = meeting.starts_at
    assert old is not None
    if starts_at == old:
        raise InvalidInputError(f"会议时间已是{cn_datetime(old)}，未作改动。")
    day = local_day(starts_at)
    old_day = meeting.held_on
    meeting.starts_at, meeting.held_on = starts_at, day
    if meeting.kind == "quarterly":
        meeting.period, meeting.title = f"{day.year}Q{(day.month - 1) // 3 + 1}", quarter_title(day)
    session.add(meeting)
    if meeting.kind == "adhoc" and old_day != day:
        # The brief asked for the old day is for a meeting no longer held then: take it back (the
        # office told in one line if it had been built) and ask for the new day's.
        from oversight.briefs import ask_for_day, notify_brief_moved

        meeting.period = day.isoformat()
        brief, stopped = _withdraw_brief(session, meeting, day=old_day, actor=actor, reason="会议改期", now=now)
        serves = ask_for_day(
            session=session,
            plan_id=meeting.plan_id,
            day=day,
            actor=actor_of(actor.id),
            reason="会议改期至该日",
            now=now,
        )
        if brief is not None:
            notify_brief_moved(
                session=session,
                brief=brief,
                title=meeting.title,
                old=old,
                new=starts_at,
                stopped=stopped,
                serves=serves,
                now=now,
            )
    moves = session.exec(
        select(AuditLog.id).where(
            AuditLog.object_type == "meeting",
            AuditLog.object_id == str(meeting.id),
            AuditLog.action == "meeting.rescheduled",
        )
    ).all()
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="meeting.rescheduled",
        object_type="meeting",
        object_id=meeting.id,
        detail={"from": old.isoformat(), "to": starts_at.isoformat()},
        at=now,
    )
    if meeting.state == "circulated":
        text = RESCHEDULED.format(title=meeting.title, old=cn_datetime(old), new=cn_datetime(starts_at))
        for unit in member_units(session=session, plan_id=meeting.plan_id):
            for contact in members_of_unit(session=session, unit_id=row_id(unit)):
                if contact.telegram_user_id is None:
                    continue
                enqueue_text(
                    session=session,
                    chat_id=contact.telegram_user_id,
                    text=text,
                    buttons=buttons(meeting, contact) if buttons else None,
                    dedupe_key=f"meeting:{meeting.id}:moved:{len(moves) + 1}:{contact.telegram_user_id}",
                    now=now,
                )
    return meeting


CANCELLED = "【会议取消】原定于{when}召开的{title}取消。原因：{reason}"


def cancel_meeting(*, session: Session, meeting_id: int, actor: Member, reason: str, now: datetime) -> Meeting:
    """Call off a meeting not yet held, with a reason; once its notice went out, every member
    unit's contacts are told. Its answers stay on record; it takes no agreed matters."""
    _require(actor, SCHEDULE_ROLES, "取消联席会议")
    meeting = _load(session, meeting_id, actor, lock=True)
    if meeting.state not in ("scheduled", "circulated"):
        raise InvalidStateError(f"该会议{STATE_LABELS.get(meeting.state, meeting.state)}，不能取消。")
    why = _clean(reason, what="取消原因", maximum=200, minimum=4)
    told = meeting.state == "circulated"
    meeting.state = "cancelled"
    session.add(meeting)
    if meeting.kind == "adhoc":  # no meeting, no brief for it
        _withdraw_brief(session, meeting, day=meeting.held_on, actor=actor, reason="会议取消", now=now)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="meeting.cancelled",
        object_type="meeting",
        object_id=meeting.id,
        detail={"reason": why},
        at=now,
    )
    if told:
        assert meeting.starts_at is not None
        text = CANCELLED.format(when=cn_datetime(meeting.starts_at), title=meeting.title, reason=why)
        for unit in member_units(session=session, plan_id=meeting.plan_id):
            notify_members(
                session=session,
                members=members_of_unit(session=session, unit_id=row_id(unit)),
                text=text,
                dedupe_prefix=f"meeting:{meeting.id}:cancelled",
            )
    return meeting


def catch_up_notices(*, session: Session, member: Member, now: datetime) -> int:
    """A contact who joins after a meeting's notice went out gets it: for each circulated meeting
    still to come (its notice still relevant) that calls the member's unit, the notice as it reads
    now, with the answer buttons, once (the circulation's own dedupe key). Returns how many."""
    chat = member.telegram_user_id
    if member.role != Role.CONTACT or chat is None or not member.active:
        return 0
    if member.unit_id not in {row_id(u) for u in member_units(session=session, plan_id=member.plan_id)}:
        return 0
    unit = session.get(Unit, member.unit_id)
    assert unit is not None
    from oversight.chatstate import button_row

    meetings = session.exec(
        select(Meeting)
        .where(Meeting.plan_id == member.plan_id, Meeting.state == "circulated", col(Meeting.starts_at) > now)
        .order_by(col(Meeting.starts_at), col(Meeting.id))
    ).all()
    sent = 0
    for meeting in meetings:
        key = f"meeting:{meeting.id}:notice:{chat}"
        if session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first():
            continue  # this person has it already: no buttons minted again
        buttons = button_row(
            session=session,
            user_id=chat,
            args={"mid": meeting.id},
            names=((labels.MEETING_ATTEND, "meeting.attend"), (labels.MEETING_EXCUSE, "meeting.excuse")),
        )
        text = notice_text(session=session, meeting=meeting, unit=unit)
        sent += (
            enqueue_text(session=session, chat_id=chat, text=text, buttons=buttons, dedupe_key=key, now=now) is not None
        )
    return sent


# --- Attendance ----------------------------------------------------------------------------


def check_may_answer(*, session: Session, member: Member, meeting_id: int, now: datetime) -> Meeting:
    """A contact of a member unit may say who attends a circulated meeting until it starts."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None or meeting.plan_id != member.plan_id:
        raise NotFoundError("找不到该会议。")
    unit = session.get(Unit, member.unit_id)
    if not member.active or member.role != Role.CONTACT or unit is None or unit.kind in ("government", "office"):
        raise PermissionDeniedError("只有成员单位联络员可以确认本单位参会人员。")
    if meeting.state == "cancelled":
        raise InvalidStateError("该会议已取消，无需确认参会人员。")
    if meeting.state != "circulated" or meeting.starts_at is None or meeting.starts_at <= now:
        raise InvalidStateError("该会议已召开或已开始，不能再确认参会人员。")
    return meeting


def answer_attendance(
    *, session: Session, meeting_id: int, actor: Member, attendee: str = "", excused: bool = False, now: datetime
) -> MeetingAttendance:
    """A member unit says who it sends (出席) or that it is excused (请假); a later answer before the
    meeting replaces the earlier one. The office is told."""
    meeting = check_may_answer(session=session, member=actor, meeting_id=meeting_id, now=now)
    name = "" if excused else _clean(attendee, what="参会人员姓名（可含职务）", maximum=NAME_MAX, minimum=2)
    row = session.exec(
        select(MeetingAttendance).where(
            MeetingAttendance.meeting_id == meeting_id, MeetingAttendance.unit_id == actor.unit_id
        )
    ).first()
    if row is None:
        row = MeetingAttendance(meeting_id=meeting_id, unit_id=actor.unit_id)
    row.member_id, row.attendee, row.state, row.at = actor.id, name, EXCUSED if excused else ATTEND, now
    session.add(row)
    session.flush()
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="meeting.attendance",
        object_type="meeting",
        object_id=meeting_id,
        detail={"unit_id": actor.unit_id, "state": row.state, "attendee": name},
        at=now,
    )
    # 旗林草局的张林参会 (the person it names, at the unit: person_at_unit) or 旗林草局请假.
    who = person_at_unit(unit_name(session, actor.unit_id), name)
    notify_members(
        session=session,
        members=members_with_role(session=session, plan_id=meeting.plan_id, roles=(Role.OFFICE,)),
        text=OFFICE_ATTENDANCE.format(
            title=meeting.title, who=who, what=UNIT_LINE_EXCUSED if excused else UNIT_LINE_ATTEND
        ),
        dedupe_prefix=f"meeting:{meeting_id}:attendance:{row.id}:{int(now.timestamp())}",
    )
    return row


def attendance_of(*, session: Session, meeting_id: int) -> list[dict[str, Any]]:
    """Per member unit, in plan order: its answer to the meeting — state attend | excused | none
    (did not answer), the person it named, who answered and when."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        return []
    rows = {
        a.unit_id: a
        for a in session.exec(select(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id)).all()
    }
    out = []
    for unit in member_units(session=session, plan_id=meeting.plan_id):
        a = rows.get(row_id(unit))
        out.append(
            {
                "unit_id": unit.id,
                "unit": unit.name,
                "state": a.state if a else "none",
                "attendee": a.attendee if a else "",
                "member_id": a.member_id if a else None,
                "at": a.at if a else None,
            }
        )
    return out


def circulated_meetings(
    *, session: Session, plan_id: int, first: date, last: date, held_only: bool = False
) -> list[Meeting]:
    """The meetings whose notice went out, due from `first` to `last`; with `held_only` only those
    recorded as held (held or minuted: not one cancelled or still to come)."""
    query = (
        select(Meeting)
        .where(Meeting.plan_id == plan_id, col(Meeting.circulated_at).is_not(None))
        .where(col(Meeting.held_on) >= first, col(Meeting.held_on) <= last)
    )
    if held_only:
        query = query.where(col(Meeting.state).in_(("held", "minuted")))
    return list(session.exec(query.order_by(col(Meeting.held_on), col(Meeting.id))).all())


def told_units(*, session: Session, meeting: Meeting) -> set[int]:
    """The units a circulated meeting's notice reached: those with a contact in chat when it went out
    or who joined before the meeting began (catch_up_notices sends it to them). A unit nobody of which
    was in the system could not be told, so it is not named for leaving the notice unanswered."""
    if meeting.circulated_at is None:
        return set()
    begins = meeting.starts_at or datetime.combine(meeting.held_on, time(0), tzinfo=local_zone())
    rows = session.exec(
        select(Member.unit_id, Member.joined_at, Member.revoked_at).where(
            Member.plan_id == meeting.plan_id,
            Member.role == Role.CONTACT,
            col(Member.telegram_user_id).is_not(None),
        )
    ).all()
    return {
        int(unit_id)
        for unit_id, joined, revoked in rows
        if unit_id is not None and joined < begins and (revoked is None or revoked > meeting.circulated_at)
    }


def attendance_by_unit(*, session: Session, plan_id: int, first: date, last: date) -> dict[int, dict[str, Any]]:
    """For the review (seed 003: 按时派人参加工作例会): per member unit, the circulated meetings held
    from `first` to `last` it was called to (its notice reached it, told_units, or it answered), and how many it sent someone to, was excused from or
    did not answer. Only meetings recorded as held count: a cancelled one, or one still to come
    (or not yet recorded as held), called nobody to anything that could be missed."""
    meetings = circulated_meetings(session=session, plan_id=plan_id, first=first, last=last, held_only=True)
    out: dict[int, dict[str, Any]] = {
        row_id(u): {"called": 0, "attend": 0, "excused": 0, "none": 0, "missed": []}
        for u in member_units(session=session, plan_id=plan_id)
    }
    for meeting in meetings:
        told = told_units(session=session, meeting=meeting)
        for row in attendance_of(session=session, meeting_id=row_id(meeting)):
            if row["state"] == "none" and row["unit_id"] not in told:
                continue  # nobody of the unit was in the system to be told: it was not called
            unit = out.setdefault(row["unit_id"], {"called": 0, "attend": 0, "excused": 0, "none": 0, "missed": []})
            unit["called"] += 1
            unit[row["state"]] += 1
            if row["state"] == "none":
                unit["missed"].append(meeting.id)
    return out


# The reminder the worker's daily job sends a member unit that has not answered a circulated
# meeting's notice, once, on the last working day before the meeting's day.
ATTEND_REMINDER = (
    "【参会提醒】{title}定于{when}召开，{unit}尚未答复是否派人参会。"
    "请点下方“{attend}”报参会人员，不能参加请点“{excuse}”。"
)


def _last_workday_before(day: date, today: date) -> bool:
    """Whether `today` is a working day before `day` with no working day between them."""
    from oversight.workdays import is_workday

    if today >= day or not is_workday(today):
        return False
    d = today + timedelta(days=1)
    while d < day:
        if is_workday(d):
            return False
        d += timedelta(days=1)
    return True


def remind_unanswered(*, session: Session, now: datetime, today: date) -> int:
    """Queue the reminder to the contacts of each member unit that has not answered the notice of a
    circulated meeting held after `today` when `today` is the last working day before it (not on
    the day the notice went out); once per contact and meeting time. Returns the messages queued."""
    from oversight.chatstate import button_row

    queued = 0
    meetings = session.exec(
        select(Meeting)
        .where(Meeting.state == "circulated", col(Meeting.starts_at).is_not(None), col(Meeting.starts_at) > now)
        .order_by(col(Meeting.starts_at), col(Meeting.id))
    ).all()
    for meeting in meetings:
        assert meeting.starts_at is not None and meeting.circulated_at is not None
        if not _last_workday_before(local_day(meeting.starts_at), today) or local_day(meeting.circulated_at) >= today:
            continue
        for row in attendance_of(session=session, meeting_id=row_id(meeting)):
            if row["state"] != "none":
                continue
            text = ATTEND_REMINDER.format(
                title=meeting.title,
                when=cn_datetime(meeting.starts_at),
                unit=row["unit"],
                attend=labels.MEETING_ATTEND,
                excuse=labels.MEETING_EXCUSE,
            )
            for contact in members_of_unit(session=session, unit_id=row["unit_id"]):
                chat = contact.telegram_user_id
                if chat is None or not contact.active:
                    continue
                key = f"meeting:{meeting.id}:remind:{meeting.starts_at.isoformat()}:{chat}"
                if session.exec(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)).first():
                    continue  # reminded already: no buttons minted again
                buttons = button_row(
                    session=session,
                    user_id=chat,
                    args={"mid": meeting.id},
                    names=((labels.MEETING_ATTEND, "meeting.attend"), (labels.MEETING_EXCUSE, "meeting.excuse")),
                )
                if enqueue_text(session=session, chat_id=chat, text=text, buttons=buttons, dedupe_key=key, now=now):
                    queued += 1
    return queued


# The office's card of a circulated or held meeting (oversight.facts.Chat), one fact a line: the
# attendance lines cite the units they count, the decisions line the agreed matters recorded.
MEETING_TEXTS: dict[str, str] = {
    "head": "{label}（{meeting_kind}，{state}）",
    "head_circulated": "{label}（{meeting_kind}，{state}，{circulated}下发）",
    "agenda_head": "议程：",
    "agenda": "{i}. {text}",
    "no_agenda": "（暂无议题）",
    "attendance_head": "参会确认：",  # circulated: the answers so far
    "attendance_held": "参会情况：",
    "attend": "出席{n}个单位：{names}",
    "excused": "请假{n}个单位：{names}",
    "none": "未确认{n}个单位：{names}",
    "no_units": "暂无成员单位。",
    "decisions": "议定事项{n}项：",
    "no_decisions": "尚未记录议定事项。",
    "decision": "{i}. {cited} {text}（{lead}，{due}）{major}",
    "record_hint": "请用 /decision 记录本次会议的议定事项，记录完毕后印发会议纪要。",
}
ATTENDANCE_STATES = (ATTEND, EXCUSED, "none")
# An agenda item's record (its ref, "notice:5"), as a chat fact cites it; a region item cites nothing.
AGENDA_NOUNS = {"problem": "problem", "decision": "decision", "task": "task", "notice": "notice"}


def _attendance_facts(say: Chat, session: Session, meeting_id: int) -> None:
    rows = attendance_of(session=session, meeting_id=meeting_id)
    if not rows:
        say.fact("no_units", n=0)
    for state in ATTENDANCE_STATES:
        these = [r for r in rows if r["state"] == state]
        if these:
            names = "、".join(person_at_unit(r["unit"], r["attendee"]) for r in these)
            say.fact(state, {"unit": [int(r["unit_id"]) for r in these]}, n=len(these), names=names)


def _agenda_facts(say: Chat, meeting: Meeting) -> None:
    say.fact("agenda_head")
    if not meeting.agenda:
        say.fact("no_agenda", n=0)
    for i, item in enumerate(meeting.agenda, 1):
        noun, _, rid = str(item.get("ref") or "").partition(":")
        ids = {AGENDA_NOUNS[noun]: [int(rid)]} if noun in AGENDA_NOUNS and rid.isdigit() and int(rid) else None
        say.fact("agenda", ids, i=i, text=item["text"])


def meeting_card(*, session: Session, meeting: Meeting) -> Chat:
    """The office's card of a circulated meeting (its agenda and the answers so far) or of a held
    one (who attended, the agreed matters recorded, the hint to record them): counts only of what
    some unit or matter is, the unit with no answer named as 未确认."""
    say = Chat(MEETING_TEXTS)
    head = {
        "label": meeting_label(meeting),
        "meeting_kind": KIND_LABELS.get(meeting.kind, meeting.kind),
        "state": STATE_LABELS.get(meeting.state, meeting.state),
    }
    mid = row_id(meeting)
    if meeting.state == "circulated" and meeting.circulated_at is not None:
        say.fact("head_circulated", None, circulated=cn_datetime(meeting.circulated_at), **head)
        _agenda_facts(say, meeting)
        say.fact("attendance_head")
        _attendance_facts(say, session, mid)
        return say
    say.fact("head", None, **head)
    say.fact("attendance_held")
    _attendance_facts(say, session, mid)
    decisions = decisions_of(session=session, meeting_id=mid)
    if decisions:
        say.fact("decisions", {"decision": [row_id(d) for d in decisions]}, n=len(decisions))
    else:
        say.fact("no_decisions", n=0)
    for i, d in enumerate(decisions, 1):
        lead = unit_name(session, d.owner_unit_id)
        say.fact(
            "decision",
            {"decision": [row_id(d)], **({"unit": [d.owner_unit_id]} if d.owner_unit_id else {})},
            i=i,
            cited=cite("decision", [row_id(d)]),
            text=d.text[:40],
            lead=f"{lead}牵头" if lead else "未指定牵头单位",
            due=cn_date(d.due_on) if d.due_on else "未设定办理期限",
            major="【重大】" if d.major else "",
        )
    say.fact("record_hint")
    return say


# --- Held, and its minutes -----------------------------------------------------------------


def upcoming(*, session: Session, plan_id: int, limit: int = 5) -> list[Meeting]:
    """Meetings not yet minuted that were scheduled in chat, soonest first."""
    return list(
        session.exec(
            select(Meeting)
            .where(Meeting.plan_id == plan_id, col(Meeting.state).in_(("scheduled", "circulated", "held")))
            .where(col(Meeting.starts_at).is_not(None))
            .order_by(col(Meeting.starts_at), col(Meeting.id))
            .limit(limit)
        ).all()
    )


def get_meeting(*, session: Session, actor: Member, meeting_id: int) -> Meeting:
    """A meeting of the actor's plan, for the office's card."""
    _require(actor, SCHEDULE_ROLES, "管理联席会议")
    return _load(session, meeting_id, actor)


def mark_held(*, session: Session, meeting_id: int, actor: Member, now: datetime) -> Meeting:
    """The office records that a circulated meeting took place (not before its time)."""
    _require(actor, SCHEDULE_ROLES, "记录会议召开")
    meeting = _load(session, meeting_id, actor, lock=True)
    if meeting.state != "circulated":
        raise InvalidStateError(
            "会议通知尚未下发，不能记录为已召开。"
            if meeting.state == "scheduled"
            else f"该会议{STATE_LABELS.get(meeting.state, meeting.state)}。"
        )
    assert meeting.starts_at is not None
    if meeting.starts_at > now:
        raise InvalidStateError(f"会议定于{cn_datetime(meeting.starts_at)}召开，时间未到，不能记录为已召开。")
    meeting.state = "held"
    meeting.held_at = now
    session.add(meeting)
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="meeting.held",
        object_type="meeting",
        object_id=meeting.id,
        at=now,
    )
    return meeting


def minutes_period(meeting_id: int) -> str:
    return f"meeting-{meeting_id}"


def meeting_id_of_period(period: str) -> int:
    head, _, tail = period.partition("-")
    if head != "meeting" or not tail.isdigit():
        raise InvalidInputError(f"“{period}”不是会议纪要任务的期别（应为 meeting-编号）。")
    return int(tail)


def request_minutes(*, session: Session, meeting_id: int, actor: Member, now: datetime) -> None:
    """The office asks the worker to write the held meeting's 会议纪要 and send it."""
    _require(actor, SCHEDULE_ROLES, "印发会议纪要")
    meeting = _load(session, meeting_id, actor, lock=True)
    if meeting.state != "held":
        raise InvalidStateError(
            "会议纪要已印发。" if meeting.state == "minuted" else "会议尚未记录为已召开，不能印发纪要。"
        )
    runs.request_run(
        session=session, job=MINUTES_JOB, period=minutes_period(meeting_id), actor=actor_of(actor.id), now=now
    )
    audit(
        session=session,
        actor=actor_of(actor.id),
        action="meeting.minutes_requested",
        object_type="meeting",
        object_id=meeting.id,
        at=now,
    )


def decisions_of(*, session: Session, meeting_id: int) -> list[Decision]:
    return list(
        session.exec(select(Decision).where(Decision.meeting_id == meeting_id).order_by(col(Decision.id))).all()
    )


# --- The 会议纪要 (written by the worker: jobs/minutes.py) --------------------------------------

MINUTES_MARK = "工作联席会议纪要"


def _when_held(meeting: Meeting) -> str:
    return cn_datetime(meeting.starts_at) if meeting.starts_at else cn_date(meeting.held_on)


def _attendance_rows(session: Session, meeting: Meeting) -> list[dict[str, str]]:
    """The minutes' 确认参会 / 请假 / 未报参会 lines (only for a meeting whose notice went out). They
    are the units' answers to the notice, given before the meeting: the record holds no roll call,
    so they are not printed as 出席 (who was there)."""
    if meeting.circulated_at is None:
        return []
    rows = attendance_of(session=session, meeting_id=row_id(meeting))
    out = []
    for label, state in (("确认参会", ATTEND), ("请假", EXCUSED), ("未报参会", "none")):
        these = [r for r in rows if r["state"] == state]
        if these:
            out.append(
                {
                    "label": label,
                    "text": "、".join(person_at_unit(r["unit"], r["attendee"]) for r in these),
                }
            )
    return out


def _decision_section(session: Session, d: Decision) -> dict[str, Any]:
    lead = unit_name(session, d.owner_unit_id)
    helpers = "、".join(unit_name(session, u) for u in d.cooperating_unit_ids)
    line = f"由{lead}牵头" + (f"，{helpers}配合" if helpers else "")
    line += f"，{cn_date(d.due_on)}前完成。" if d.due_on else "。"
    if d.major:
        line += "本事项为重大事项，由联合督导组跟踪督办。"
    return {"heading": d.text, "paragraphs": [line]}


def minutes_document(*, session: Session, meeting_id: int, now: datetime) -> dict[str, Any]:
    """What the 会议纪要 says, every sentence from the record: when the meeting was held, its
    agenda as circulated, each agreed matter (lead unit, cooperating units, deadline, 重大), and
    which member units attended, were excused or did not answer. Context of minutes.html.j2."""
    meeting = session.get(Meeting, meeting_id)
    if meeting is None:
        raise NotFoundError("找不到该会议。")
    plan = session.get(Plan, meeting.plan_id)
    decisions = decisions_of(session=session, meeting_id=meeting_id)
    number = meeting.minutes_no or next_minutes_no(session=session, plan_id=meeting.plan_id, year=meeting.held_on.year)
    opening = f"{_when_held(meeting)}，{meeting.title}召开。"
    opening += f"会议议程共{len(meeting.agenda)}项，" if meeting.agenda else ""
    opening += f"形成议定事项{len(decisions)}项。现纪要如下。" if decisions else "会议未形成议定事项。现纪要如下。"
    sections: list[dict[str, Any]] = []
    if meeting.agenda:
        sections.append(
            {"heading": "会议议程", "paragraphs": [f"{i}.{item['text']}" for i, item in enumerate(meeting.agenda, 1)]}
        )
    if decisions:
        sections.append({"heading": "议定事项", "subsections": [_decision_section(session, d) for d in decisions]})
    return {
        "office_mark_lines": [(plan.short_name or plan.name) if plan else "", MINUTES_MARK],
        "doc_number": f"第{number}期",
        "minutes_no": number,
        "title": f"{meeting.title}纪要",
        "paragraphs": [opening],
        "sections": sections,
        "attendance": _attendance_rows(session, meeting),
        "office": None,
        "date_text": None,
        "cc": None,
        # Issued by the joint meeting's office, as its notices and reviews are (not by the unit hosting it).
        "printed_by": office_name(plan),
        "printed_date": f"{cn_date(now)}印发",
        "major": any(d.major for d in decisions),
    }


# The caption the minutes' PDF goes out with (oversight.facts.Chat): the matters it records, cited.
MINUTES_TEXTS: dict[str, str] = {
    "caption": "【会议纪要】{title}（{number}），议定事项{n}项。",
    "caption_none": "【会议纪要】{title}（{number}），会议未形成议定事项。",
}


def minutes_caption(*, session: Session, meeting_id: int, title: str, number: str) -> Chat:
    """The minutes' caption: its title and 第N期, and how many agreed matters it records (none: said in words)."""
    decisions = [row_id(d) for d in decisions_of(session=session, meeting_id=meeting_id)]
    say = Chat(MINUTES_TEXTS)
    if decisions:
        say.fact(
            "caption", {"meeting": [meeting_id], "decision": decisions}, title=title, number=number, n=len(decisions)
        )
    else:
        say.fact("caption_none", {"meeting": [meeting_id]}, title=title, number=number, n=0)
    return say


def next_minutes_no(*, session: Session, plan_id: int, year: int) -> int:
    """The next 第N期 of the plan's minutes in `year` (numbers are never reused)."""
    taken = session.exec(
        select(Meeting.minutes_no).where(
            Meeting.plan_id == plan_id,
            col(Meeting.minutes_no).is_not(None),
            col(Meeting.held_on) >= date(year, 1, 1),
            col(Meeting.held_on) <= date(year, 12, 31),
        )
    ).all()
    return max((n for n in taken if n is not None), default=0) + 1


def minutes_lines(*, session: Session, meeting_id: int, major: bool) -> dict[str, list[dict[str, Any]]]:
    """Who the minutes go to: every member unit's contacts (the attendees' units among them), the
    conveners, the office, and the supervision group when a matter is 重大."""
    meeting = session.get(Meeting, meeting_id)
    assert meeting is not None
    plan_id = meeting.plan_id

    def units_with(role: str) -> list[dict[str, Any]]:
        ids = dict.fromkeys(m.unit_id for m in members_with_role(session=session, plan_id=plan_id, roles=(role,)))
        return [{"unit_id": u, "role": role} for u in ids]

    lines = {
        "members": [
            {"unit_id": row_id(u), "role": Role.CONTACT} for u in member_units(session=session, plan_id=plan_id)
        ],
        "conveners": units_with(Role.CONVENER),
        "office": units_with(Role.OFFICE),
    }
    if major:
        lines["supervision"] = units_with(Role.SUPERVISOR)
    return lines


def mark_minuted(*, session: Session, meeting_id: int, number: int, path: str, now: datetime) -> Meeting:
    """Record that the minutes were written (called by the minutes job); a second call changes nothing."""
    meeting = session.get(Meeting, meeting_id, with_for_update=True, populate_existing=True)
    if meeting is None:
        raise NotFoundError("找不到该会议。")
    if meeting.state == "minuted":
        return meeting
    if meeting.state != "held":
        raise InvalidStateError("会议尚未记录为已召开，不能印发纪要。")
    meeting.state, meeting.minutes_no, meeting.minutes_path, meeting.minuted_at = "minuted", number, path, now
    session.add(meeting)
    audit(
        session=session,
        actor="system:minutes",
        action="meeting.minuted",
        object_type="meeting",
        object_id=meeting.id,
        detail={"minutes_no": number, "path": path},
        at=now,
    )
    return meeting
