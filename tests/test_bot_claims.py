"""A right's status claim through the real bot on the local Bot API server: a unit that does not
handle the paperwork (旗林草局) reports a right 已整合 — refused without an attachment (nothing
filed), then filed with one as a claim the batch does not count; the office confirms it from its
card and only then does the right move and the batch count it; the confirmed card's button answers
that there is nothing left to do; a returned claim keeps the right where it was."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import col, select

from models import AuditLog, Report, Right, RightClaim, RightStatusEvent, Role, session_scope, utcnow
from oversight.claims import pending_claims
from oversight.dates import local_day
from oversight.rights import batch_progress
from tests.harness import button_data, running_bot
from tests.test_bot_reports import PDF_BYTES, seed_rights

WAIT = 15.0


def _brief_text(engine, plan_id: int) -> str:
    """The brief's progress section as it would print now (its figures and its paragraphs)."""
    from jobs.brief import brief_context
    from oversight.briefdata import brief_data
    from oversight.periods import parse_period

    now = utcnow() + timedelta(seconds=5)
    day = local_day(now)
    period = parse_period(f"{day.year}Q{(day.month - 1) // 3 + 1}")
    with session_scope(engine) as s:
        data = brief_data(session=s, plan_id=plan_id, period=period, now=now)
    context = brief_context(data, issue_no=1, issued_on=day.isoformat())
    return repr(context)


def _consolidated(engine, plan_id: int) -> int:
    with session_scope(engine) as s:
        rows = batch_progress(session=s, plan_id=plan_id, as_of=utcnow() + timedelta(seconds=5))
        return next(r["done"] for r in rows if r["key"] == "consolidate")


async def _claim(h, user, name: str, *, with_file: bool) -> dict:
    msg = await h.say(user, "/report", "请选择要报送进展的批次")
    msg = await h.press(user, msg, "强化整合重组一批", "请选择报送对象")
    msg = await h.press(user, msg, "按名称查找矿业权", "请输入矿业权名称")
    msg = await h.say(user, name, "找到以下矿业权")
    msg = await h.press(user, msg, name[-3:], "当前状态：未处置")
    msg = await h.press(user, msg, "报送进展", "请输入本次进展内容")
    msg = await h.say(user, "林地手续已办结，整合完成", "是否已完成整合？")
    msg = await h.press(user, msg, "是", "须上传佐证材料")
    if with_file:
        await user.upload(PDF_BYTES, filename="整合批复.pdf", mime_type="application/pdf")
        msg = await h.server.wait_for(user.id, "已收到附件")
    return msg


async def test_claim_needs_a_file_and_counts_only_once_confirmed(engine, banner_plan_id, settings_env):
    ids = seed_rights(engine, banner_plan_id)
    one, two = ids["C1500002010001"], ids["C1500002010002"]
    async with running_bot(engine, banner_plan_id) as h:
        forestry = await h.join(5301, "林草联络员", "林草局", Role.CONTACT)
        office = await h.join(5302, "办公室", "旗政府办公室", Role.OFFICE)

        # No attachment: refused at 完成上传, in Chinese, nothing filed.
        msg = await _claim(h, forestry, "常兴扎嘎乌苏铁矿一号", with_file=False)
        assert "须上传佐证材料" in msg["text"]  # asked for, not offered as optional
        query = await forestry.press(msg["message_id"], button_data(msg, "完成上传"), check=False)
        refused = (await h.server.wait_for_answer(query["id"]))["text"] or ""
        assert "须附佐证材料" in refused and "已整合" in refused, refused
        with session_scope(engine) as s:
            assert s.exec(select(Report)).all() == [] and s.exec(select(RightClaim)).all() == []
        await h.say(forestry, "/cancel", "")

        # With the file: a claim, told who confirms it; the batch does not count it.
        msg = await _claim(h, forestry, "常兴扎嘎乌苏铁矿一号", with_file=True)
        msg = await h.press(forestry, msg, "完成上传", "请确认报送内容")
        filed = await h.press(forestry, msg, "确认提交", "已报送（")
        assert "已提交联席会议办公室或旗自然资源局确认" in filed["text"]
        with session_scope(engine) as s:
            assert s.get(Right, one).status == "baseline" and s.exec(select(RightStatusEvent)).all() == []
            [pending] = pending_claims(session=s, plan_id=banner_plan_id)
            assert (pending["right_id"], pending["status_label"], pending["unit"]) == (one, "已整合", "旗林草局")
        assert _consolidated(engine, banner_plan_id) == 0
        brief = _brief_text(engine, banner_plan_id)
        assert "另有1宗矿业权的状态变更已报送、待联席会议办公室或主管部门确认，未计入以上完成数" in brief
        assert "旗林草局" in brief and "常兴扎嘎乌苏铁矿一号（C1500002010001）已整合" in brief

        # The office's card: 确认 moves the right; the batch counts it; the unit is told.
        card = await h.server.wait_for(office.id, "【状态变更待确认】", timeout=WAIT)
        assert "常兴扎嘎乌苏铁矿一号" in card["text"] and "附佐证材料1份" in card["text"]
        report_id = pending["report_id"]
        done = await h.press(office, card, "确认", "已确认")
        # Named by its right and its report, as the card named them: no claim number.
        assert done["text"] == (
            f"已确认：矿业权“常兴扎嘎乌苏铁矿一号”（C1500002010001）已整合（{report_id}号进展报送），计入完成进度。"
        )
        assert f"（{report_id}号进展报送）" in card["text"]
        await h.server.wait_for(forestry.id, "【状态变更已确认】", timeout=WAIT)
        with session_scope(engine) as s:
            assert s.get(Right, one).status == "consolidated"
            assert pending_claims(session=s, plan_id=banner_plan_id) == []
        assert _consolidated(engine, banner_plan_id) == 1
        assert "待联席会议办公室或主管部门确认" not in _brief_text(engine, banner_plan_id)

        # Pressed again: nothing left to confirm, nothing changed.
        query = await office.press(card["message_id"], button_data(card, "确认"), check=False)
        again = await h.server.wait_for_answer(query["id"])
        assert "已确认，无需再处理" in (again["text"] or ""), again
        # The unit's contact cannot press the office's button.
        query = await forestry.press(card["message_id"], button_data(card, "确认"), check=False)
        assert "不是发给您的" in ((await h.server.wait_for_answer(query["id"]))["text"] or "")

        # A second claim returned with a reason: the right stays where it was.
        msg = await _claim(h, forestry, "常兴扎嘎乌苏铁矿二号", with_file=True)
        msg = await h.press(forestry, msg, "完成上传", "请确认报送内容")
        await h.press(forestry, msg, "确认提交", "已报送（")
        card2 = await h.server.wait_for(
            office.id, lambda m: "【状态变更待确认】" in (m.get("text") or "") and "二号" in m["text"], timeout=WAIT
        )
        await h.press(office, card2, "退回", "退回的理由")
        await h.say(office, "少", "4–500字")
        returned = await h.say(office, "缺少变更登记证明。", "已退回")
        assert returned["text"].startswith("已退回状态变更申请：矿业权“常兴扎嘎乌苏铁矿二号”（")
        assert returned["text"].endswith("号进展报送），报送单位已收到理由。")
        told = await h.server.wait_for(forestry.id, "【状态变更被退回】", timeout=WAIT)
        assert "缺少变更登记证明" in told["text"]

    with session_scope(engine) as s:
        assert s.get(Right, two).status == "baseline"
        assert [c.state for c in s.exec(select(RightClaim).order_by(RightClaim.id)).all()] == ["confirmed", "rejected"]
        actions = [
            a.action
            for a in s.exec(select(AuditLog).where(AuditLog.action.startswith("right.")).order_by(col(AuditLog.id)))
        ]
        assert actions == [
            "right.claimed",
            "right.status_changed",
            "right.claim_confirmed",
            "right.claimed",
            "right.claim_returned",
        ], actions
    assert _consolidated(engine, banner_plan_id) == 1
