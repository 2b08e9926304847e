"""The rectification ledger in chat, through the real bot on the local Bot API server: the unit is
told its item, names the person responsible, asks for 销号 with evidence; the office returns it
once, then accepts it; the 回头看, when due, fails: the item reopens with a new deadline and the
deduction doubled, and the unit is told. Each refusal answers in Chinese and changes nothing."""

from __future__ import annotations

from datetime import date, timedelta

from sqlmodel import Session, select

from models import AuditLog, RectificationItem, session_scope, utcnow
from oversight.dates import local_day
from oversight.rectification import tell_units
from oversight.review import add_item
from tests.harness import button_data, buttons, running_bot
from tests.test_accountability import Cast

WAIT = 15.0


async def test_told_named_submitted_returned_accepted_rechecked_failed(settings_env, engine, banner_plan_id):
    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        water, eco, office = cast["water"], cast["eco"], cast.office
        it = add_item(
            session=s,
            plan_id=banner_plan_id,
            period="2026H1",
            unit_id=cast.uid("water"),
            source="indicator:reporting",
            item="按周报送工作进展，不再缺报",
            deadline=date(2026, 12, 31),
            standard="连续8周按时报送",
            actor="test",
            now=utcnow(),
        )
        iid = it.id
        deduction = it.deduction
        assert it.responsible_person == ""  # nobody invented: the unit names its person
        tell_units(session=s, plan_id=banner_plan_id, item_ids=[iid], now=utcnow())
        s.commit()
        ids = (water.telegram_user_id, eco.telegram_user_id, office.telegram_user_id)
    async with running_bot(engine, banner_plan_id) as h:
        w, e, o = (h.server.user(i, "成员") for i in ids)
        told = await h.server.wait_for(w.id, "【整改台账】", timeout=WAIT)
        assert (
            "按周报送工作进展" in told["text"]
            and "待责任单位指定" in told["text"]
            and "连续8周按时报送" in told["text"]
        )

        # Another unit sees none of it, and cannot press the water unit's buttons.
        await h.say(e, "/rectify", "没有需要处理的整改事项")
        card = await h.say(w, "/rectify", f"〔{iid}号整改事项〕")
        own = h.server.last(e.id)  # the water unit's button replayed in the eco unit's own chat
        query = await e.press(own["message_id"], button_data(card, "申请销号"), check=False)
        assert "不是发给您的" in ((await h.server.wait_for_answer(query["id"]))["text"] or "")

        # The unit names the person responsible: a member of the unit, by name.
        pick = await h.press(w, card, "指定责任人", "请选择")
        assert buttons(pick) == [water.name]
        await h.press(w, pick, water.name, f"责任人指定为{water.name}")

        # 销号 needs evidence; the office returns it once with a reason, then accepts it.
        await h.press(w, card, "申请销号", "整改佐证材料")
        await h.say(w, "7月起每周按时报送，见报送记录。", "待联席会议办公室核验")
        first = await h.server.wait_for(o.id, "【销号待核验】", timeout=WAIT)
        await h.press(o, first, "退回", "退回销号申请的理由")
        await h.say(o, "不全", "不少于4个字")
        await h.say(o, "请补充8月的报送记录截图。", "已退回")
        back = await h.server.wait_for(w.id, "【销号被退回】", timeout=WAIT)
        assert "请补充8月的报送记录截图" in back["text"]
        # The returned card's buttons answer that there is nothing to check any more.
        query = await o.press(first["message_id"], button_data(first, "核验通过"), check=False)
        assert "没有待核验的销号申请" in ((await h.server.wait_for_answer(query["id"]))["text"] or "")

        card = await h.say(w, "/rectify", f"〔{iid}号整改事项〕")
        await h.press(w, card, "申请销号", "整改佐证材料")
        await h.say(w, "7月、8月均按时报送，截图已上传台账。", "待联席会议办公室核验")
        second = await h.server.wait_for(
            o.id, lambda m: "【销号待核验】" in m["text"] and "8月" in m["text"], timeout=WAIT
        )
        done = await h.press(o, second, "核验通过", "回头看定于")
        assert f"{iid}号整改事项" in done["text"]
        await h.server.wait_for(w.id, "【销号已核验】", timeout=WAIT)
        # Not due yet: the office's ledger shows no 回头看 button.
        listed = await h.say(o, "/rectify", f"〔{iid}号整改事项〕")
        assert "回头看未通过" not in buttons(listed)

        # The set time passes (the re-check day moved to yesterday); the 回头看 fails.
        with session_scope(engine) as s:
            row = s.get(RectificationItem, iid)
            row.recheck_on = local_day(utcnow()) - timedelta(days=1)
            s.add(row)
        listed = await h.say(o, "/rectify", f"〔{iid}号整改事项〕")
        await h.press(o, listed, "回头看未通过", "回头看未通过的原因")
        failed = await h.say(o, "9月又有两周缺报。", "回头看未通过：新的整改时限")
        assert f"扣分{deduction * 2}" in failed["text"] or f"扣分{deduction * 2:g}" in failed["text"]
        told = await h.server.wait_for(w.id, "【回头看未通过】", timeout=WAIT)
        assert "9月又有两周缺报" in told["text"]

    with session_scope(engine) as s:
        row = s.get(RectificationItem, iid)
        assert (row.state, row.misses, row.deduction, row.responsible_person) == (
            "reopened",
            1,
            deduction * 2,
            water.name,
        )
        actions = [
            a.action
            for a in s.exec(select(AuditLog).where(AuditLog.object_type == "rectification").order_by(AuditLog.id)).all()
        ]
    assert actions == [
        "rectification.item_added",
        "rectification.responsible",
        "rectification.submitted",
        "rectification.closure_returned",
        "rectification.submitted",
        "rectification.closed",
        "rectification.recheck_failed",
    ], actions


async def test_rectify_counts_by_state_and_cites_what_it_leaves_out(settings_env, engine, banner_plan_id):
    """/rectify before any item says so, to the office and to a unit in its own name; with sixteen
    of 水利局's items (one 销号 asked for, one 销号 verified and waiting for its 回头看) and one of
    生态环境局's, the office's count names those states and no other, the first fifteen are cards
    and 另有2项 cites the rest; each unit counts only its own; every reply is its facts and a
    recount of the ledger agrees."""
    from models import Member
    from oversight.rectification import rectify_list
    from tests.chatfacts import assert_rectify_facts

    with Session(engine) as s:
        cast = Cast(s, banner_plan_id)
        people = {k: (m.id, m.telegram_user_id) for k, m in (("water", cast["water"]), ("eco", cast["eco"]))}
        people["office"] = (cast.office.id, cast.office.telegram_user_id)
        units = {k: cast.uid(k) for k in ("water", "eco")}
        s.commit()

    def add(unit: str, n: int, day: int) -> list[int]:
        with session_scope(engine) as s:
            return [
                int(
                    add_item(
                        session=s,
                        plan_id=banner_plan_id,
                        period="2026H1",
                        unit_id=units[unit],
                        source=f"manual:{unit}:{k}",
                        item=f"按周报送工作进展（第{k + 1}项）",
                        deadline=date(2026, 12, day) + timedelta(days=k),
                        standard="连续8周按时报送",
                        actor="test",
                        now=utcnow(),
                    ).id
                    or 0
                )
                for k in range(n)
            ]

    async with running_bot(engine, banner_plan_id) as h:
        users = {k: (mid, h.server.user(tid, "成员")) for k, (mid, tid) in people.items()}

        async def rectify(who: str, expect: str) -> tuple[dict, list[dict]]:
            mid, user = users[who]
            reply = await h.say(user, "/rectify", expect)
            with session_scope(engine) as s:
                member = s.get(Member, mid)
                listed = rectify_list(session=s, member=member)
                head = listed.head.listed()[0]
                more = listed.more.listed()[0] if listed.more else None
                assert reply["text"] == listed.head.message()
                assert_rectify_facts(s, mid, head, [int(i.id or 0) for i in listed.shown], more)
            cards = [await h.server.wait_for(user.id, "号整改事项〕") for _ in listed.shown]
            tail = [await h.server.wait_for(user.id, "另有")] if more else []
            return reply, [*cards, *tail]

        reply, _ = await rectify("office", "整改事项")
        assert reply["text"] == "目前没有需要处理的整改事项。"
        reply, _ = await rectify("water", "整改事项")
        assert reply["text"] == "旗水利局目前没有需要处理的整改事项。"

        water = add("water", 16, 1)
        eco = add("eco", 1, 20)
        with session_scope(engine) as s:
            for iid, state in ((water[3], "submitted"), (water[5], "closed")):
                row = s.get(RectificationItem, iid)
                row.state = state
                s.add(row)
        reply, sent = await rectify("office", "【整改台账】共17项")
        assert reply["text"] == "【整改台账】共17项：整改中15项，已申请销号待核验1项，已销号待回头看1项。"
        assert len(sent) == 16 and sent[-1]["text"] == "……另有2项未列出，请先处理以上事项。"
        assert f"〔{eco[0]}号整改事项〕" not in "".join(m["text"] for m in sent)  # due last: left out
        reply, sent = await rectify("eco", "【整改台账】")
        assert reply["text"].endswith("共1项：整改中1项。") and "旗水利局" not in reply["text"]
        assert len(sent) == 1 and f"〔{eco[0]}号整改事项〕" in sent[0]["text"]
        reply, sent = await rectify("water", "【整改台账】旗水利局共16项")
        assert reply["text"] == "【整改台账】旗水利局共16项：整改中14项，已申请销号待核验1项，已销号待回头看1项。"
        assert sent[-1]["text"] == "……另有1项未列出，请先处理以上事项。"
