"""Authorization, table-driven: every command and every problem button against every role,
through the real bot over HTTP. The expectations are written out here, not derived from
the code's own role table, so a wrong entry there fails."""

from __future__ import annotations

import pytest
from sqlmodel import select

from models import Problem, ProblemEvent, ProblemState, Role, session_scope
from oversight.chatstate import mint_token
from tests.harness import running_bot

# Who is who: (user id, name, unit, role); "unregistered" has no row.
PEOPLE = {
    "unregistered": (8000, "路人", None, None),
    "contact_owner": (8001, "林草联络员", "林草局", Role.CONTACT),
    "contact_other": (8002, "水利联络员", "水利局", Role.CONTACT),
    "zone_leader": (8003, "包联领导", "旗人民政府", Role.ZONE_LEADER),
    "office": (8004, "办公室", "旗政府办公室", Role.OFFICE),
    "convener": (8005, "召集人", "旗人民政府", Role.CONVENER),
    "admin": (8006, "管理员", "旗政府办公室", Role.ADMIN),
    "supervisor": (8007, "督导组", "自然资源局", Role.SUPERVISOR),
}
RAISER = (8010, "应急联络员", "应急管理局", Role.CONTACT)
ALL = set(PEOPLE)
REGISTERED = ALL - {"unregistered"}
CONTACTS = {"contact_owner", "contact_other"}

# command -> who may use it
COMMANDS = {
    "help": ALL,
    "whoami": ALL,
    "cancel": ALL,
    "report": CONTACTS | {"zone_leader"},
    "ledger": CONTACTS,
    "flag": CONTACTS | {"zone_leader", "office"},
    "todo": REGISTERED,
    "progress": REGISTERED,
    "problem": REGISTERED,
    "invite": {"admin"},
    "members": {"admin", "office"},
    "revoke": {"admin"},
    "bindgroup": {"admin"},
    "decision": {"office", "convener", "admin"},
    "meeting": {"office", "convener", "admin"},
    "schedule": {"admin"},
    "notices": {"convener", "office", "admin"},
    "explain": CONTACTS,
}
REFUSALS = ("未注册", "不能使用")

# button -> (state the problem is in, who may press it)
BUTTONS = {
    "accept": ("assigned", {"contact_owner"}),
    "hand_over": ("assigned", {"contact_owner"}),
    "decline": ("assigned", {"contact_owner"}),
    "rule": ("assigned", {"office", "admin"}),
    "resolve": ("accepted", {"contact_owner"}),
    "confirm": ("resolved", set()),  # only the raiser's side (a contact of 应急管理局)
    "reopen": ("resolved", set()),
}


async def _people(h):
    users = {}
    for key, (uid, name, unit, role) in PEOPLE.items():
        users[key] = h.server.user(uid, name) if role is None else await h.join(uid, name, unit, role)
    raiser = await h.join(*RAISER)
    return users, raiser


@pytest.mark.parametrize("command", sorted(COMMANDS))
async def test_every_command_against_every_role(engine, banner_plan_id, command):
    async with running_bot(engine, banner_plan_id) as h:
        users, _ = await _people(h)
        for who, user in users.items():
            mark = h.server.mark()
            await user.send(f"/{command}")
            reply = await h.server.wait_for(user.id, None, after=mark)
            refused = any(word in reply["text"] for word in REFUSALS)
            allowed = who in COMMANDS[command]
            if command in ("help", "whoami", "cancel") and who == "unregistered":
                # These answer an unregistered user helpfully rather than refusing.
                assert "/start" in reply["text"] or "取消" in reply["text"] or "没有" in reply["text"], reply["text"]
                continue
            assert refused != allowed, f"/{command} as {who}: {reply['text']!r}"


def _set_state(engine, pid: int, state: str) -> None:
    with session_scope(engine) as s:
        p = s.get(Problem, pid)
        p.state = state
        s.add(p)


@pytest.mark.parametrize("action", sorted(BUTTONS))
async def test_every_problem_button_against_every_role(engine, banner_plan_id, action):
    from oversight.problems import raise_problem

    state, allowed = BUTTONS[action]
    async with running_bot(engine, banner_plan_id) as h:
        users, raiser = await _people(h)
        with session_scope(engine) as s:
            from models import Member, ProblemCategory

            raiser_m = s.exec(select(Member).where(Member.telegram_user_id == raiser.id)).one()
            cat = s.exec(select(ProblemCategory).where(ProblemCategory.name == "林草征占用")).one()
            problem = raise_problem(
                session=s, plan_id=banner_plan_id, actor=raiser_m, text="用草审批未办理", category_id=cat.id
            )
            pid = problem.id
        _set_state(engine, pid, state)
        with session_scope(engine) as s:
            before = len(s.exec(select(ProblemEvent).where(ProblemEvent.problem_id == pid)).all())
        everyone = dict(users, raiser=raiser)
        expected = allowed | ({"raiser"} if action in ("confirm", "reopen") else set())
        # Everyone who may not press it first: each gets an alert, nothing changes.
        for who, user in everyone.items():
            if who in expected:
                continue
            with session_scope(engine) as s:
                token = mint_token(session=s, action=f"problem.{action}", args={"pid": pid})
            await user.send("/help") if who != "unregistered" else await user.send("你好")
            own = await h.server.wait_for(user.id, None)
            query = await user.press(own["message_id"], token, check=False)
            answer = await h.server.wait_for_answer(query["id"])
            assert answer["text"], f"{action} as {who} was not refused"
            assert answer.get("show_alert"), f"{action} as {who}: refusal is not an alert"
            with session_scope(engine) as s:
                assert s.get(Problem, pid).state == state
                assert len(s.exec(select(ProblemEvent).where(ProblemEvent.problem_id == pid)).all()) == before
        # Then each who may: the press is taken (it acts, or asks for what it needs).
        for who in sorted(expected):
            user = everyone[who]
            with session_scope(engine) as s:
                token = mint_token(session=s, action=f"problem.{action}", args={"pid": pid})
            await user.send("/help")
            own = await h.server.wait_for(user.id, None)
            mark = h.server.mark()
            query = await user.press(own["message_id"], token, check=False)
            answer = await h.server.wait_for_answer(query["id"])
            assert not answer.get("show_alert"), f"{action} as {who} refused: {answer['text']}"
            reply = await h.server.wait_for(user.id, None, after=mark)
            assert reply["text"]
            if action in ("accept", "confirm"):
                with session_scope(engine) as s:
                    assert s.get(Problem, pid).state == (
                        ProblemState.ACCEPTED if action == "accept" else ProblemState.CLOSED
                    )
                break
            await user.send("/cancel")
            await h.server.wait_for(user.id, lambda m: "取消" in m["text"] or "没有进行中" in m["text"])
