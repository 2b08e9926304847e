"""Outside any conversation: a message in plain words gets the member's own menu as buttons (the
likely one first), a file sent on its own the question whether to report it as an attachment."""

from __future__ import annotations

from dataclasses import dataclass

from bot import texts as t
from bot.engine import Flow, Outside, Rows, Step, Turn, Upload, button, grid, menu_button
from bot.reports import ReportState, begin_report
from config.settings import get_settings
from models import row_id
from oversight.access import allowed, commands_for
from oversight.reports import keep_report_file

# Commands that need words after them, or a group: not offered as a bare button.
NOT_ON_MENU = frozenset({"start", "help", "whoami", "cancel", "problem", "invite", "revoke", "bindgroup"})


def guess(text: str, role: str) -> str | None:
    """The command a plain-words message most likely asks for (one the role may use)."""
    for name, words in t.MENU_INTENTS:
        if allowed(name, role) and any(w in text for w in words):
            return name
    return None


def menu_rows(role: str, first: str | None = None) -> Rows:
    """The role's menu as buttons, `first` leading; the full list of commands last."""
    names = [c for c in commands_for(role) if c not in NOT_ON_MENU and c in t.MENU_LABELS]
    if first in names:
        names.remove(first)
        names.insert(0, first)
    rows = grid((menu_button(t.MENU_LABELS[n], n) for n in names), 2)
    return [*rows, [menu_button(t.MENU_LABELS["help"], "help")]]


def free_text(turn: Turn[None], text: str) -> None:
    """Typed text with nothing open: the menu, with the button the words ask for first."""
    role = turn.member.role
    name = guess(text, role)
    if name is None:
        head = t.MENU_HEAD
    else:
        what = t.COMMAND_WHAT.get(name, t.MENU_LABELS[name])
        head = t.MENU_GUESS.format(what=what, label=t.MENU_LABELS[name])
    turn.say(f"{head}\n{t.MENU_FOOT}", menu_rows(role, name))


@dataclass
class LooseFile:
    """A file sent with nothing open, kept while its sender says what it is for."""

    attachment: int = 0
    name: str = ""


def free_file(turn: Turn[None], upload: Upload) -> None:
    """A file with nothing open: a reporter is asked whether it is a progress attachment."""
    role = turn.member.role
    if not allowed("report", role):
        turn.say(t.LOOSE_FILE_NOT_HERE, menu_rows(role))
        return
    row, _ = keep_report_file(
        session=turn.session,
        attachment_ids=[],
        data=upload.data,
        filename=upload.name,
        mime_type=upload.mime,
        data_dir=get_settings().DATA_DIR,
    )
    turn.start(LOOSE, LooseFile(row_id(row), row.filename), "ask")
    rows = [[button(t.LOOSE_FILE_YES, "yes"), button(t.LOOSE_FILE_NO, "no")]]
    turn.say(t.LOOSE_FILE_ASK.format(name=row.filename), rows)


def file_yes(turn: Turn[LooseFile]) -> None:
    state = ReportState(attachments=[turn.state.attachment], files=[turn.state.name])
    begin_report(turn, state, head=t.LOOSE_FILE_HEAD.format(name=turn.state.name))


def file_no(turn: Turn[LooseFile]) -> None:
    turn.end()
    turn.say(t.LOOSE_FILE_DROPPED.format(name=turn.state.name))


LOOSE = Flow("loosefile", LooseFile, command="report", steps={"ask": Step(buttons={"yes": file_yes, "no": file_no})})
OUTSIDE = Outside(text=free_text, file=free_file)
