"""/report: progress reports through buttons (or in one line), with status moves, measures
(一矿一策) and attachments; /ledger: the unit's ledger xlsx plus its stamped scan.

Both are flows of bot.engine: the state is kept in the database (a restart resumes it), and a
button of an earlier step or an earlier /report is stale."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot import texts as t
from bot.engine import Flow, Rows, Step, Turn, Upload, button, command, fit, grid
from config.settings import get_settings
from models import Milestone, Report, Role, Zone, row_id
from oversight import claims
from oversight.attachments import ALLOWED_TEXT, XLSX, files_kept, files_listed, files_received
from oversight.dates import cn_date
from oversight.errors import OversightError
from oversight.ledger import ImportResult, import_summary
from oversight.records import plan_record
from oversight.reports import (
    TEXT_MAX,
    check_may_report,
    check_report_text,
    complete_right_milestone,
    default_task_for,
    file_report,
    find_reportable_rights,
    keep_ledger_file,
    keep_report_file,
    measure_of,
    measure_saved,
    move_choice,
    send_ledger_template,
    submit_ledger,
    tasks_for,
    update_measure,
    zones_for,
)
from oversight.rights import get_right, status_label
from oversight.sentences import cite


@dataclass
class ReportState:
    """A report being written: its batch, its object (a zone or a right), text, move and files."""

    task_id: int | None = None
    task: str = t.REPORT_TARGET_NONE
    zone_id: int | None = None
    right_id: int | None = None
    target: str = t.REPORT_TARGET_NONE
    text: str = ""
    move_to: str | None = None
    attachments: list[int] = field(default_factory=list)
    files: list[str] = field(default_factory=list)


# --- /report ----------------------------------------------------------------------


@command("report")
def report(turn: Turn[None]) -> None:
    """/report starts the button flow; /report 文字 files to the default task at once."""
    member = turn.member
    if turn.text:
        task = default_task_for(session=turn.session, member=member)
        if task is None:
            raise OversightError(t.REPORT_NO_DEFAULT_TASK)
        text = check_report_text(turn.text)
        filed = file_report(session=turn.session, actor=member, task_id=task.id, text=text)
        target, note = t.REPORT_TARGET_NONE, t.REPORT_ONE_LINE_NO_TARGET
        if filed.zone_id is not None:  # a zone leader of one zone: that zone
            zone = plan_record(session=turn.session, model=Zone, record_id=filed.zone_id, plan_id=member.plan_id)
            target, note = t.REPORT_TARGET_ZONE.format(name=zone.name if zone else ""), ""
        turn.say(t.REPORT_FILED_ONE_LINE.format(report_id=filed.id, task=task.name, target=target, target_note=note))
        return
    begin_report(turn, ReportState())


def begin_report(turn: Turn[Any], state: ReportState, head: str = "") -> None:
    """Open the report flow at its batch step with `state` (a file sent before /report, say)."""
    tasks = tasks_for(session=turn.session, member=turn.member)
    if not tasks:
        raise OversightError(t.REPORT_NO_TASKS)
    turn.start(REPORT, state, "task")
    rows: Rows = [[button(f"{x.seq}. {x.name}", "task", task_id=x.id)] for x in tasks]
    turn.say(head + t.REPORT_PICK_TASK, rows)


def pick_task(turn: Turn[ReportState], *, task_id: int) -> None:
    task, _, _ = check_may_report(session=turn.session, actor=turn.member, task_id=task_id, zone_required=False)
    assert task is not None
    turn.state.task_id, turn.state.task = task.id, task.name
    turn.goto("target")
    row = [button(t.REPORT_BTN_ZONES, "zones"), button(t.REPORT_BTN_SEARCH, "search")]
    if turn.member.role != Role.ZONE_LEADER:
        row.append(button(t.REPORT_BTN_NONE, "none"))
    turn.say(t.REPORT_PICK_TARGET.format(task=task.name), [row])


def show_zones(turn: Turn[ReportState]) -> None:
    zones = zones_for(session=turn.session, member=turn.member)
    if not zones:
        turn.toast(t.REPORT_NO_ZONES)
        return
    turn.goto("zone")
    turn.say(t.REPORT_PICK_ZONE, grid((button(f"{z.seq}. {z.name}", "zone", zone_id=z.id) for z in zones), 2))


def pick_zone(turn: Turn[ReportState], *, zone_id: int) -> None:
    _, zone, _ = check_may_report(session=turn.session, actor=turn.member, task_id=turn.state.task_id, zone_id=zone_id)
    assert zone is not None
    turn.state.zone_id, turn.state.right_id, turn.state.target = (
        zone.id,
        None,
        t.REPORT_TARGET_ZONE.format(name=zone.name),
    )
    _ask_text(turn)


def no_target(turn: Turn[ReportState]) -> None:
    check_may_report(session=turn.session, actor=turn.member, task_id=turn.state.task_id)
    turn.state.zone_id, turn.state.right_id, turn.state.target = None, None, t.REPORT_TARGET_NONE
    _ask_text(turn)


def ask_search(turn: Turn[ReportState]) -> None:
    turn.goto("search")
    turn.say(t.REPORT_ASK_SEARCH)


def search_rights(turn: Turn[ReportState], text: str) -> None:
    found = find_reportable_rights(session=turn.session, member=turn.member, text=text)
    if not found:
        turn.say(t.REPORT_SEARCH_NONE.format(text=text[:40]))
        return
    rows = [
        [
            button(
                t.REPORT_RIGHT_LABEL.format(name=r.name, code=r.code, status=status_label(r.status)),
                "right",
                right_id=r.id,
            )
        ]
        for r in found
    ]
    turn.say(t.REPORT_SEARCH_RESULTS, rows)


def pick_right(turn: Turn[ReportState], *, right_id: int) -> None:
    state = turn.state
    _, zone, right = check_may_report(session=turn.session, actor=turn.member, task_id=state.task_id, right_id=right_id)
    assert right is not None
    state.right_id, state.zone_id = right.id, zone.id if zone else None
    state.target = t.REPORT_TARGET_RIGHT.format(name=right.name, code=right.code)
    _right_menu(turn)


def _right_menu(turn: Turn[ReportState], head: str = "") -> None:
    """The chosen right: its status, measure and milestones, and what may be done with it."""
    right_id = turn.state.right_id or 0
    right = get_right(session=turn.session, right_id=right_id)
    assert right is not None  # chosen at an earlier step, checked by check_may_report
    measure, milestones = measure_of(session=turn.session, right_id=right_id)
    text = t.REPORT_RIGHT_MENU.format(
        name=right.name,
        code=right.code,
        status=status_label(right.status),
        measure=measure.text[:300] if measure else t.REPORT_NO_MEASURE,
    )
    lines = [*([head] if head else []), text, *([t.REPORT_MILESTONES] if milestones else [])]
    lines += [_milestone_line(m) for m in milestones]
    rows: Rows = [[button(t.REPORT_BTN_PROGRESS, "progress"), button(t.REPORT_BTN_MEASURE, "measure")]]
    open_ones = [m for m in milestones if m.done_at is None][:8]
    rows += [
        [button(t.REPORT_BTN_MILESTONE_DONE.format(title=fit(m.title, 30)), "milestone", milestone_id=m.id)]
        for m in open_ones
    ]
    rows.append([button(t.REPORT_BTN_FINISH, "finish")])
    turn.goto("right")
    turn.say("\n".join(lines), rows)


def _milestone_line(m: Milestone) -> str:
    mark = t.REPORT_DONE_MARK if m.done_at else t.REPORT_OPEN_MARK
    return t.REPORT_MILESTONE_LINE.format(
        mark=mark, due=cn_date(m.due_on) if m.due_on else t.REPORT_NO_DUE, title=m.title
    )


def complete_milestone(turn: Turn[ReportState], *, milestone_id: int) -> None:
    milestone = complete_right_milestone(
        session=turn.session, actor=turn.member, milestone_id=milestone_id, task_id=turn.state.task_id
    )
    _right_menu(turn, head=t.REPORT_MILESTONE_DONE.format(title=milestone.title))


def ask_measure(turn: Turn[ReportState]) -> None:
    turn.goto("measure")
    turn.say(t.REPORT_ASK_MEASURE)


def save_measure(turn: Turn[ReportState], text: str) -> None:
    measure_id, listed = update_measure(
        session=turn.session,
        actor=turn.member,
        right_id=turn.state.right_id or 0,
        text=text,
        task_id=turn.state.task_id,
    )
    said = measure_saved(session=turn.session, measure_id=measure_id, listed=listed > 0)
    _right_menu(turn, head=said.message())


def ask_progress(turn: Turn[ReportState]) -> None:
    _ask_text(turn)


def _ask_text(turn: Turn[ReportState]) -> None:
    turn.goto("text")
    turn.say(t.REPORT_ASK_TEXT.format(target=turn.state.target, limit=TEXT_MAX))


def finish(turn: Turn[ReportState]) -> None:
    turn.end()
    turn.say(t.REPORT_FINISHED)


def take_text(turn: Turn[ReportState], text: str) -> None:
    state = turn.state
    state.text = check_report_text(text)
    to_status = move_choice(session=turn.session, task_id=state.task_id, right_id=state.right_id)
    if to_status is None:
        state.move_to = None
        _ask_files(turn)
        return
    right = get_right(session=turn.session, right_id=state.right_id or 0)
    turn.goto("move")
    label = status_label(to_status)
    done = t.REPORT_MOVE_DONE.get(to_status, label.removeprefix("已"))
    question = t.REPORT_ASK_MOVE.format(right=right.name if right else "", done=done, status=label)
    turn.say(question, [[button(t.REPORT_BTN_YES, "move", yes=True), button(t.REPORT_BTN_NO, "move", yes=False)]])


def choose_move(turn: Turn[ReportState], *, yes: bool) -> None:
    state = turn.state
    to_status = move_choice(session=turn.session, task_id=state.task_id, right_id=state.right_id)
    state.move_to = to_status if yes else None
    _ask_files(turn)


def _ask_files(turn: Turn[ReportState], text: str | None = None) -> None:
    turn.goto("files")
    if text is None and turn.state.attachments:  # a file sent before the report began is already in
        text = files_kept(session=turn.session, attachment_ids=turn.state.attachments).message()
    ask = t.REPORT_ASK_FILES
    if claims.is_claim(turn.state.move_to):  # a done state: the evidence is required
        ask = t.REPORT_ASK_EVIDENCE.replace("{status}", status_label(turn.state.move_to or ""))
    turn.say(text or ask.format(allowed=ALLOWED_TEXT), [[button(t.REPORT_BTN_FILES_DONE, "files_done")]])


def take_file(turn: Turn[ReportState], upload: Upload) -> None:
    row, new = keep_report_file(
        session=turn.session,
        attachment_ids=turn.state.attachments,
        data=upload.data,
        filename=upload.name,
        mime_type=upload.mime,
        data_dir=get_settings().DATA_DIR,
    )
    if not new:
        _ask_files(turn, t.REPORT_FILE_DUPLICATE.format(name=row.filename))
        return
    turn.state.attachments.append(row_id(row))
    turn.state.files.append(row.filename)
    _ask_files(
        turn, files_received(session=turn.session, attachment_ids=turn.state.attachments, flow="report").message()
    )


def files_done(turn: Turn[ReportState]) -> None:
    state = turn.state
    claims.check_evidence(to_status=state.move_to, attachment_ids=state.attachments)  # a done state needs a file
    text = t.REPORT_CONFIRM.format(
        task=state.task,
        target=state.target,
        move=status_label(state.move_to) if state.move_to else t.REPORT_NO_MOVE,
        files=files_listed(session=turn.session, attachment_ids=state.attachments).message(),
        text=state.text,
    )
    turn.goto("confirm")
    turn.say(text, [[button(t.REPORT_BTN_SUBMIT, "submit"), button(t.REPORT_BTN_ABORT, "abort")]])


def submit(turn: Turn[ReportState]) -> None:
    state = turn.state
    filed = file_report(
        session=turn.session,
        actor=turn.member,
        task_id=state.task_id,
        text=state.text,
        zone_id=state.zone_id,
        right_id=state.right_id,
        move_to_status=state.move_to,
        attachment_ids=state.attachments,
    )
    turn.end(done=t.REPORT_ALREADY_FILED.format(report_id=filed.id))
    if state.move_to and filed.right_id:
        right = get_right(session=turn.session, right_id=filed.right_id)
        name, status = right.name if right else "", status_label(state.move_to)
        if right is not None and right.status != state.move_to:  # a claim, to be confirmed
            who = claims.confirmer_label(session=turn.session, plan_id=right.plan_id, to_status=state.move_to)
            turn.say(t.REPORT_FILED_CLAIM.format(report_id=filed.id, right=name, status=status, who=who))
        else:
            turn.say(t.REPORT_FILED_MOVED.format(report_id=filed.id, right=name, status=status))
    else:
        turn.say(t.REPORT_FILED.format(report_id=filed.id))


def abort(turn: Turn[ReportState]) -> None:
    turn.end(done=t.REPORT_ABORTED)
    turn.say(t.REPORT_ABORTED)


REPORT = Flow(
    "report",
    ReportState,
    command="report",
    steps={
        "task": Step(buttons={"task": pick_task}),
        "target": Step(buttons={"zones": show_zones, "search": ask_search, "none": no_target}),
        "zone": Step(buttons={"zone": pick_zone}),
        "search": Step(text=search_rights, buttons={"right": pick_right}),
        "right": Step(
            buttons={
                "progress": ask_progress,
                "measure": ask_measure,
                "milestone": complete_milestone,
                "finish": finish,
            }
        ),
        "measure": Step(text=save_measure),
        "text": Step(text=take_text),
        "move": Step(buttons={"move": choose_move}),
        "files": Step(file=take_file, buttons={"files_done": files_done}),
        "confirm": Step(buttons={"submit": submit, "abort": abort}),
    },
)


# --- /ledger ----------------------------------------------------------------------


@dataclass
class LedgerState:
    """The two files of a ledger submission, as they arrive (either first)."""

    xlsx: int | None = None
    scan: int | None = None

    def missing(self) -> str:
        parts = [label for got, label in ((self.xlsx, t.LEDGER_XLSX), (self.scan, t.LEDGER_SCAN)) if not got]
        return t.LEDGER_MISSING.format(missing="、".join(parts))


@command("ledger", bare=True)
def ledger(turn: Turn[None]) -> None:
    """/ledger waits for the ledger xlsx and the stamped scan, in either order."""
    turn.start(LEDGER, LedgerState(), "wait")
    said = send_ledger_template(session=turn.session, actor=turn.member, data_dir=get_settings().DATA_DIR, now=turn.now)
    turn.say(said.message() + "\n" + t.LEDGER_START)


def ledger_file(turn: Turn[LedgerState], upload: Upload) -> None:
    """A file of the submission: the xlsx is checked at once; when both are in, the ledger is merged."""
    data_dir, state = get_settings().DATA_DIR, turn.state
    row = keep_ledger_file(
        session=turn.session, actor=turn.member, data=upload.data, filename=upload.name, data_dir=data_dir
    )
    if row.mime_type == XLSX:
        state.xlsx, got = row.id, t.LEDGER_GOT_XLSX
    else:
        state.scan, got = row.id, t.LEDGER_GOT_SCAN
    if state.xlsx is None or state.scan is None:
        turn.say(got + state.missing())
        return
    filed, result = submit_ledger(
        session=turn.session,
        actor=turn.member,
        xlsx_attachment_id=state.xlsx,
        scan_attachment_id=state.scan,
        data_dir=data_dir,
    )
    turn.end()
    turn.say(
        got + "\n" + t.LEDGER_DONE.format(report=cite("report", [row_id(filed)]), summary=_summary(turn, result, filed))
    )


def ledger_text(turn: Turn[LedgerState], text: str) -> None:
    turn.say(t.LEDGER_SEND_FILES + turn.state.missing())


def _summary(turn: Turn[LedgerState], result: ImportResult, filed: Report) -> str:
    """What the merge did, and how many of its status moves wait for confirmation as claims."""
    summary = import_summary(session=turn.session, plan_id=turn.member.plan_id, result=result).message()
    return summary + claims.pending_facts(session=turn.session, report_id=row_id(filed)).message()


LEDGER = Flow("ledger", LedgerState, command="ledger", steps={"wait": Step(text=ledger_text, file=ledger_file)})
