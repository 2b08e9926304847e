"""Button labels that both edges show: the bot on its own replies (bot/texts.py takes them from
here) and the domain on the cards it queues in the outbox for the bot to deliver (the meeting
notice's answers, the draft notice's review, the brief's sign-off, a closure's check). One source,
so a button reads the same on a card and in the bot's own message."""

from __future__ import annotations

# The meeting notice and its reminder (oversight/meetings.py, oversight/convening.py, bot/meetings.py).
MEETING_ATTEND = "确认参会（报参会人员）"
MEETING_EXCUSE = "请假"

# The draft notice's review (oversight/notices.review_buttons, bot/notices.py).
NOTICE_PAGE = "{label}"
NOTICE_PAGE_DROPPED = "（已删）{label}"
NOTICE_READ_BODY = "查看正文"
NOTICE_APPROVE = "✅ 审定印发"
NOTICE_ABANDON = "放弃本期通报"

# The brief's sign-off (oversight/briefs.py, bot/briefs.py).
BRIEF_NOTE = "修改编者按"
BRIEF_APPROVE = "审核通过"
BRIEF_SIGN = "签发"
BRIEF_RETURN = "退回办公室"

# A rectification item's closure, checked by the office (oversight/rectification.py, bot/rectification.py).
RECT_ACCEPT = "核验通过"
RECT_RETURN = "退回"
