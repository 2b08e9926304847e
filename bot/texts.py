"""Every text the bot itself says (domain messages come with their errors). Button labels the
domain's outbox cards show too come from oversight/labels.py, their one source."""

from oversight import labels as L

WELCOME_UNREGISTERED = "您好！这里是联席会议工作机器人。\n您还未注册。请向管理员索取邀请码，然后发送：/start 邀请码"
NOT_REGISTERED = "您还未注册，无法使用此功能。请向管理员索取邀请码后发送：/start 邀请码"
START_NEEDS_CODE = "请在 /start 后附上邀请码，例如：/start ABCD2345EF"
JOINED = "注册成功！您是{unit}的{role}。\n发送 /help 查看可用命令。"
ALREADY_JOINED = "您已注册为{unit}的{role}。发送 /help 查看可用命令。"
WHOAMI = "姓名：{name}\n单位：{unit}\n角色：{role}\n所属计划：{plan}"
WHOAMI_UNREGISTERED = "您还未注册。请向管理员索取邀请码后发送：/start 邀请码"
HELP_HEADER = "您（{role}）可以使用以下命令："
HELP_UNREGISTERED = "您还未注册。可用命令："
HELP_REPORT_FORMS = (
    "报送进展的两种方式：\n"
    "• 只发送 /report，按按钮选择批次和对象（整合区或矿业权），再写内容、上传附件；\n"
    "• 一行报送：/report 后直接写内容，例如“/report 本周完成2宗矿业权储量核实”，记入默认批次，不指定对象。"
)
HELP_PLAIN_WORDS = "不记得命令时，直接用一句话说明要办的事（例如“怎么报送进展”），机器人会给出可以点的按钮。"
NOT_ALLOWED = "您的角色（{role}）不能使用 /{command}。发送 /help 查看可用命令。"
UNKNOWN_COMMAND = "无法识别的命令。发送 /help 查看可用命令。"
CANCELLED = "已取消。"
NOTHING_TO_CANCEL = "当前没有进行中的操作。"
PRIVATE_ONLY = "此命令涉及单位事务，已在私聊中回复您。"
PRIVATE_ONLY_FAILED = "此命令涉及单位事务，请在与机器人的私聊中使用。"
NO_PLAN = "系统尚未加载计划，请联系管理员。"
INVITE_USAGE = "用法：/invite 单位 角色 [天数]\n例如：/invite 林草局 联络员 7\n角色：{roles}"
INVITE_CREATED = (
    "{unit} · {role} 的邀请码（{expires} 前有效，仅可使用一次）：\n{code}\n请对方在与机器人的私聊中发送：/start {code}"
)
# /revoke: the admin picks the member by name (buttons), then confirms; never by a record number.
REVOKE_MEMBER = "{who}（{role}）"
REVOKE_CONFIRM = "确认撤销{member}？撤销后其按钮和命令即时失效，须重新邀请才能使用。不撤销请忽略本消息。"
REVOKE_BTN_CONFIRM = "确认撤销"
REVOKED = "已撤销成员{member}。"
BINDGROUP_NOT_GROUP = "请在联席会议群中发送 /bindgroup。"
BINDGROUP_DONE = "已将本群绑定为“{plan}”联席会议群。此后公开通报和简报摘要将发布在本群。"
# The one answer to a button that belongs to nothing any more: forged, expired, of a finished or
# cancelled conversation, or of a step the conversation has left.
BUTTON_STALE = "该按钮已失效（对话已进入其他步骤、已结束或已过期），请按最新消息操作，或重新发送命令。"
BUTTON_NOT_YOURS = "该按钮不是发给您的。"
ERROR_GENERIC = "抱歉，处理时出现错误（错误代码：{ref}），已记录。请稍后再试，或联系管理员。"
BUSY_WILL_RETRY = "系统繁忙，您的消息已收到并保存，稍后将自动处理并回复，无需重复发送。"
TEXT_TOO_LONG = "内容过长（{n}字），请控制在{limit}字以内。"
NOT_IN_FLOW = "请先发送命令。发送 /help 查看可用命令。"
NOT_MEMBER = "您还未注册或已被撤销，无法操作。"
USE_BUTTONS = "请点击上方消息中的按钮继续，或发送 /cancel 取消。"
NO_FILE_HERE = "当前步骤不接收文件。请按提示输入文字或点击按钮，或发送 /cancel 取消。"

# --- /flag, /problem and the problem buttons (bot/problems.py) ------------------------
PROBLEM_BUTTON_LABELS = {
    "accept": "✅ 接收",
    "hand_over": "↪️ 转交",
    "decline": "⛔ 退回",
    "rule": "⚖️ 裁定责任单位",
    "resolve": "🏁 办结",
    "confirm": "👍 确认关闭",
    "reopen": "🔁 重新办理",
}
PROBLEM_TEXT_PROMPT = (
    "请描述问题（堵点），一条消息写清：发生了什么、卡在哪个环节、需要谁做什么。\n随时发送 /cancel 取消。"
)
PROBLEM_PICK_GROUP = "请选择问题类别（先选大类）："
PROBLEM_PICK_CATEGORY = "{group}：请选择具体类别："
PROBLEM_GROUPS = {  # the order shown; a plan's category has one of these groups
    "paperwork": "手续审批",
    "enterprise": "企业自身原因",
    "market": "市场",
    "construction": "基建技改",
    "other": "其他",
}
PROBLEM_BACK_GROUPS = "返回上一级"
PROBLEM_SUBJECT_ZONE = "整合区{seq}号 {name}"
PROBLEM_ASK_FILES = (
    "如有相关材料（{allowed}，单个不超过20 MB），请直接发送文件或照片；全部发送后点“完成上传”。没有材料请点“不附材料”。"
)
PROBLEM_BTN_NO_FILES = "不附材料"
PROBLEM_BTN_FILE = "📎 打开：{name}"
PROBLEM_FILE_SENT = "正在发送“{name}”"
PROBLEM_BTN_FILES_DONE = "完成上传"
PROBLEM_TOO_MANY_FILES = "每个问题最多附{n}个材料，请点“完成上传”。"
PROBLEM_CONFIRM = (
    "请确认要提出的问题：\n类别：{category}\n涉及：{subject}\n责任单位：{owner}\n材料：{files}\n问题描述：\n{text}"
)
PROBLEM_BTN_EDIT = "修改描述"
PROBLEM_EDIT_TEXT = "请重新发送问题描述（一条消息写清：发生了什么、卡在哪个环节、需要谁做什么）："
PROBLEM_ABORTED = "已取消，问题未提交。"
PROBLEM_PICK_SUBJECT = "类别：{category}\n问题涉及哪个矿业权或整合区？"
PROBLEM_TYPE_RIGHT = "请输入矿业权名称或编号的一部分："
PROBLEM_NO_RIGHT = "没有找到包含“{text}”的矿业权，请换个关键词，或点“不指定”。"
PROBLEM_PICK_RIGHT = "找到以下矿业权，请选择："
PROBLEM_PICK_ZONE = "请选择整合区："
PROBLEM_NO_ZONES = "本计划没有整合区，请点“不指定”或查找矿业权。"
# {basis}: 按职责分工， or 按属地， (oversight.problems.Route.basis), nothing where the plan names no basis.
PROBLEM_OWNER_SUGGESTED = "{basis}建议由【{unit}】负责办理（{category}）。"
PROBLEM_OWNER_NONE = "类别“{category}”没有对应的责任单位，请选择："
PROBLEM_PICK_UNIT = "请选择责任单位："
PROBLEM_RAISED = "已提交{id}号问题，已交办{owner}，办理期限 {due}。\n可发送 /problem {id} 查看全过程。"
PROBLEM_ASK_REASON = {
    "hand_over": "请说明转交给【{unit}】的理由（必填）：",
    "decline": "请说明退回{id}号问题的理由（必填，将提交联席会议办公室裁定）：",
    "rule": "请说明裁定由【{unit}】办理{id}号问题的理由（必填）：",
    "reopen": "请说明{id}号问题需要重新办理的理由（必填）：",
    "resolve": "请发送{id}号问题的办结说明（文字），也可先上传佐证材料（PDF、OFD、Word、WPS、Excel、图片或扫描件压缩包），再发送文字说明完成办结：",
}
PROBLEM_PICK_HANDOVER_UNIT = "{id}号问题转交给哪个单位？"
PROBLEM_PICK_RULE_UNIT = "裁定{id}号问题由哪个单位负责办理？"
PROBLEM_DONE = {
    "accept": "已接收{id}号问题，请在 {due} 前办结。办结时请点“办结”并附说明或材料。",
    "hand_over": "{id}号问题已转交给{owner}。",
    "decline": "{id}号问题已退回，待联席会议办公室裁定。",
    "rule": "已裁定：{id}号问题由{owner}办理。",
    "resolve": "{id}号问题已办结，已通知提出方确认。",
    "confirm": "{id}号问题已确认关闭。",
    "reopen": "{id}号问题已退回重新办理，仍由{owner}负责。",
}
PROBLEM_EVIDENCE_SAVED = "已收到材料“{name}”。可继续上传，或发送文字说明完成办结。"
PROBLEM_JUDGE_PROMPT = "如认为下列转交理由成立，可逐条认定（认定后该转交不计为推诿）："
PROBLEM_JUDGED = "已认定：{unit}的转交理由{verdict}。"
PROBLEM_USAGE = "用法：/problem 问题编号，例如 /problem 12"
PROBLEM_NOT_FOUND = "找不到{id}号问题。"
PROBLEM_NOT_YOURS = "您无权查看{id}号问题。"
PROBLEM_NO_SUCH = {
    "category": "该类别不存在。",
    "zone": "该整合区不存在。",
    "right": "该矿业权不存在。",
    "problem": "该问题不存在。",
    "unit": "该单位不存在。",
}
PROBLEM_NO_SUBJECT = "不指定"
PROBLEM_FIND_RIGHT = "按名称查找矿业权"
PROBLEM_CHOOSE_ZONE = "选择整合区"
PROBLEM_OTHER_OWNER = "改为其他单位"
PROBLEM_NO_DUE = "未设定"
PROBLEM_RIGHT_LABEL = "{name}（{code}）"
PROBLEM_CONFIRM_OWNER = "确认由{unit}办理"
PROBLEM_ALREADY_RAISED = "已提交（{id}号问题），无需重复提交。发送 /problem {id} 查看办理情况。"
PROBLEM_RAISED_TOAST = "已提交"
PROBLEM_HANDOVER_LINE = "{n}. {unit}的转交理由：{reason}"
PROBLEM_SOME_UNIT = "某单位"
PROBLEM_THAT_UNIT = "该单位"
PROBLEM_BTN_VALID = "第{n}条（{unit}）成立"
PROBLEM_BTN_INVALID = "第{n}条不成立"
PROBLEM_VALID = "成立"
PROBLEM_INVALID = "不成立"


# --- /decision (bot/decisions.py) -----------------------------------------------------
DECISION_PICK_MEETING = "请选择议定事项所属的会议："
DECISION_NO_MEETING = "还没有会议记录。请先新建本次会议："
DECISION_NEW_MEETING = "新建会议记录（今天）"
DECISION_ASK_TEXT = "会议：{meeting}\n请发送议定事项内容（不超过500字）："
DECISION_PICK_UNIT = "请选择牵头单位："
DECISION_ASK_DUE = "责任单位：{unit}\n请发送完成时限，如 2026年6月30日、6月30日或 2026-06-30："
DECISION_SAVED = (
    "已记录{id}号议定事项{major}：{text}\n牵头单位：{unit}{coop}，完成时限 {due}。已通知牵头单位{told}联络员。"
)
DECISION_SAVED_MAJOR = "（重大事项，由联合督导组跟踪督办）"
DECISION_ASK_EVIDENCE = "请报告{id}号议定事项的完成情况：可先发送佐证材料（文件，可多份），再发送完成情况说明（文字，不少于4个字）提交；发送 /cancel 放弃。"
DECISION_FILE_KEPT = "已收到材料：{name}。可继续发送材料，或发送完成情况说明提交。"
DECISION_SUBMITTED = "已报告{id}号议定事项完成，待联席会议办公室验收。验收前该事项仍未办结。"
DECISION_ACCEPTED = "已验收{id}号议定事项，该事项办结，已告知牵头单位。落实情况：{completion}。"
DECISION_ASK_RETURN = "请发送退回理由（不少于4个字），将转告牵头单位；发送 /cancel 放弃。"
DECISION_RETURNED = "已退回{id}号议定事项，理由已转告牵头单位。"
DECISION_NO_SUCH_MEETING = "该会议不存在。"
DECISION_NO_SUCH_UNIT = "该单位不存在。"
DECISION_MARK_DONE = "报告完成（附佐证）"


# --- /meeting: scheduling, agenda, attendance, minutes (bot/meetings.py) ---------------
MEETING_START = "请选择要安排的会议，或打开已安排的会议："
MEETING_BTN_QUARTERLY = "安排季度例会"
MEETING_BTN_ADHOC = "临时加开会议"
MEETING_ASK_WHEN = (
    "{kind}：请发送会议日期和时间，如 12月15日 9:30、2026年12月15日下午3点（北京时间）；发送 /cancel 取消。"
)
MEETING_CARD_SCHEDULED = (
    "{label}（{kind}，{state}）\n议程（据系统记录生成，每项注明所依据的记录，可增删）：\n{agenda}\n"
    "下发后，各成员单位联络员将收到会议通知和议程，并确认参会人员。"
)
MEETING_CARD_MINUTED = "{label}（{kind}，{state}）"
MEETING_BTN_ADD = "添加议题"
MEETING_BTN_DROP = "删除议题"
MEETING_BTN_CIRCULATE = "下发会议通知"
MEETING_BTN_CONFIRM = "确认下发"
MEETING_BTN_BACK = "返回修改"
MEETING_BTN_REFRESH = "刷新参会情况"
MEETING_BTN_HELD = "会议已召开"
MEETING_BTN_MOVE = "改期"
MEETING_BTN_CANCEL = "取消会议"
MEETING_ASK_CANCEL = "{label}\n请发送取消原因（不少于4个字）；发送 /cancel 则不取消。"
MEETING_CANCELLED = "已取消{label}。{told}"
MEETING_CANCEL_TOLD = "已通知各成员单位联络员。"
MEETING_ASK_MOVE = "{label}\n请发送新的会议日期和时间，如 12月15日 9:30；发送 /cancel 取消。"
MEETING_MOVED_TOLD = "已改期，并已通知各成员单位联络员；已报的参会人员不变。"
MEETING_BTN_MINUTES = "印发会议纪要"
MEETING_ASK_ADD = "请发送要添加的议题（不超过100字）；发送 /cancel 取消。"
MEETING_ASK_DROP = "请发送要删除的议题序号（1–{n}）："
MEETING_MINUTES_REQUESTED = "已开始印发会议纪要，生成后将发送给各成员单位、参会人员和您。"
MEETING_ATTEND_ASK = "请发送贵单位参会人员姓名（可含职务，如“张三 副局长”，不超过40字）；发送 /cancel 取消。"
MEETING_ATTEND_SAVED = "已报{title}参会人员：{name}。会前如有变动，可再次点“确认参会”更改。"
MEETING_EXCUSED_SAVED = "已向联席会议办公室报{title}请假。会前如能参会，可再点“确认参会”更改。"
MEETING_BTN_ATTEND = L.MEETING_ATTEND
MEETING_BTN_EXCUSE = L.MEETING_EXCUSE
MEETING_KIND_ADHOC_TOPIC = "临时加开（{topic}）"
DECISION_PICK_COOP = "牵头单位：{unit}\n请选择配合单位（可多选，再点一次取消），选完点“选好了”：{chosen}"
DECISION_BTN_COOP_DONE = "选好了"
DECISION_BTN_NO_COOP = "无配合单位"
DECISION_ASK_MAJOR = "是否为重大议定事项？重大事项由联合督导组跟踪督办。"
DECISION_BTN_MAJOR = "重大事项"
DECISION_BTN_NOT_MAJOR = "一般事项"


# --- /notices and /explain (bot/notices.py) -------------------------------------------
NOTICE_LIST_HEAD = "【通报】"
NOTICE_LIST_EMPTY = "目前没有通报草稿或已印发的通报。每季度结束后，系统会自动起草通报，届时会通知您审定。"
NOTICE_EDIT_PROMPT = {"title": "请发送新的通报标题（不超过100字）：", "body": "请发送新的通报正文（可多段）："}
NOTICE_EDITED = "已修改通报{what}。"
NOTICE_APPROVED = "已审定通报《{title}》，文号 {doc_no}。系统将生成正式文件，发到联席会议群和被通报单位。"
NOTICE_ABANDONED = "已放弃本期通报草稿。"
EXPLAIN_NONE = "贵单位目前没有可以报送情况说明的通报（须在通报印发后规定的工作日内报送）。"
EXPLAIN_PICK = "请选择要报送情况说明的通报："
EXPLAIN_PROMPT = "请发送对《{title}》（{doc_no}）的情况说明（文字，可先上传佐证材料：PDF、OFD、Word、WPS、Excel、图片或扫描件压缩包），截止 {deadline}："
EXPLAIN_FILE = "已收到材料“{name}”。可继续上传，或发送文字说明完成报送。"
EXPLAINED = "情况说明已报送，将附入通报记录，并在下一期简报中列出。"
NOTICE_BTN_RESTORE = "恢复：{label}"
NOTICE_BTN_DROP = "删除：{label}"
NOTICE_BTN_PAGE = L.NOTICE_PAGE
NOTICE_BTN_PAGE_DROPPED = L.NOTICE_PAGE_DROPPED
NOTICE_BTN_READ_BODY = L.NOTICE_READ_BODY
NOTICE_BTN_PREV = "◀ 上一项"
NOTICE_BTN_NEXT = "下一项 ▶"
NOTICE_BTN_OVERVIEW = "返回草稿概览"
NOTICE_BTN_PREVIEW = "预览PDF"
NOTICE_PREVIEW_ASKED = "正在按当前草稿生成 PDF，生成后发给您。"
NOTICE_DROP_ASK = "请发送删除该事项的理由（4–200字），理由随通报记录保存；发送 /cancel 放弃删除。"
NOTICE_DROPPED = "已删除该事项，理由已记录。"
NOTICE_CONFIRM = "确认审定印发？审定后即编号印发，发到联席会议群和被通报单位，不能撤回。\n{summary}"
NOTICE_BTN_CONFIRM = "确认审定印发"
NOTICE_BTN_NOT_NOW = "暂不印发，返回草稿"
NOTICE_BTN_TITLE = "改标题"
NOTICE_BTN_BODY = "改正文"
NOTICE_BTN_APPROVE = L.NOTICE_APPROVE
NOTICE_BTN_ABANDON = L.NOTICE_ABANDON
NOTICE_BTN_OPEN = "查看{name}"
NOTICE_DROPPED_TOAST = "已删除该事项"
NOTICE_RESTORED_TOAST = "已恢复该事项"
NOTICE_APPROVED_TOAST = "已审定"
NOTICE_TITLE = "标题"
NOTICE_BODY = "正文"


# --- /briefs: the brief's sign-off (bot/briefs.py) --------------------------------------
BRIEF_NONE = "目前没有待您审核或签发的简报。"
BRIEF_LIST_HEAD = "【待审签简报】"
BRIEF_NOTE_PROMPT = "请发送编者按全文（10–400字），将替换现有编者按；发送 /cancel 放弃修改。"
BRIEF_NOTE_SAVED = "已保存编者按。新的送审稿 PDF 正在生成，生成后发给办公室；请收到新稿后再审核。"
BRIEF_APPROVED_CONVENER = "已审核通过《{name}》，已报召集人签发。签发前不会分发。"
BRIEF_APPROVED_OFFICE = (
    "已审核通过并签发《{name}》（按计划文件规定办公室审核即可签发），系统将随即分发至报、送、发所列单位及联席会议群。"
)
BRIEF_SIGN_CONFIRM = "确认签发《{name}》？签发后将分发至：\n{lines}"
BRIEF_SIGNED = "已签发《{name}》。系统将随即分发至报、送、发所列单位及联席会议群，分发后不能撤回。"
BRIEF_RETURN_PROMPT = "请发送退回理由（4–300字），将转告办公室；发送 /cancel 放弃退回。"
BRIEF_RETURNED = "已将《{name}》退回办公室修改，理由已记录并转告办公室。"
BRIEF_BTN_NOTE = L.BRIEF_NOTE
BRIEF_BTN_APPROVE = L.BRIEF_APPROVE
BRIEF_BTN_SIGN = L.BRIEF_SIGN
BRIEF_BTN_SIGN_CONFIRM = "确认签发"
BRIEF_BTN_RETURN = L.BRIEF_RETURN
BRIEF_SIGN_KEPT = "未签发，简报仍待签发。"
BRIEF_BTN_NOT_NOW = "暂不签发"
BRIEF_LINE_NAMES = {"bao": "报", "song": "送", "fa": "发"}


# --- /rectify: the rectification ledger (bot/rectification.py) ------------------------
RECT_BTN_PERSON = "指定责任人"
RECT_BTN_CLOSE = "申请销号"
RECT_BTN_ACCEPT = L.RECT_ACCEPT
RECT_BTN_RETURN = L.RECT_RETURN
RECT_BTN_RECHECK_OK = "回头看通过"
RECT_BTN_RECHECK_FAIL = "回头看未通过"
RECT_PICK_PERSON = "请选择{id}号整改事项的责任人（本单位在册成员）："
RECT_PERSON_SET = "已将{id}号整改事项的责任人指定为{name}。"
RECT_ASK_EVIDENCE = "请先发送整改佐证材料（文件，可多份），再发送整改情况说明（文字）完成销号申请；发送 /cancel 放弃。"
RECT_FILE_KEPT = "已收到材料：{name}。可继续发送材料，或发送整改情况说明完成申请。"
RECT_SUBMITTED = "已提交{id}号整改事项的销号申请，待联席会议办公室核验。"
RECT_ACCEPTED = "已核验{id}号整改事项销号，回头看定于{day}起。"
RECT_ASK_REASON = {
    "return": "请发送退回销号申请的理由（不少于4个字），将转告责任单位；发送 /cancel 放弃。",
    "recheck": "请发送回头看未通过的原因（不少于2个字），事项将重新整改、扣分加倍；发送 /cancel 放弃。",
}
RECT_RETURNED = "已退回{id}号整改事项的销号申请，理由已转告责任单位。"
RECT_RECHECK_OK = "已记录{id}号整改事项回头看通过。"
RECT_RECHECK_FAILED = "已记录{id}号整改事项回头看未通过：新的整改时限{deadline}，扣分{deduction}分，已告知责任单位。"


# --- /schedule and /meeting (bot/admin.py) --------------------------------------------
SCHEDULE_HEADER = "【定时任务】（北京时间）"
SCHEDULE_ASK_CRON = (
    "请发送“{name}”的新时间（新时间表达式）。\n{words_help}\n当前：{desc}（{cron}）\n发送 /cancel 取消。"
)
SCHEDULE_SET_DONE = "已将“{name}”改为：{desc}（{cron}）。\n接下来三次运行：{upcoming}。\n即日起按新时间执行。"
SCHEDULE_PAUSED = "已暂停“{name}”。"
SCHEDULE_RESUMED = "已恢复“{name}”，下次运行：{next}。"
SCHEDULE_RUN_REQUESTED = "已安排立即运行“{name}”（{period}），通常几秒内开始。运行完成后会把结果发给您。"
SCHEDULE_LINE = "• {name}：{description}{state}"
SCHEDULE_PAUSED_MARK = "（已暂停）"
SCHEDULE_NEXT = "，下次 {next}"
SCHEDULE_BTN_EDIT = "改时间·{name}"
SCHEDULE_BTN_PAUSE = "暂停"
SCHEDULE_BTN_RESUME = "恢复"
SCHEDULE_BTN_RUN = "立即运行"


# --- /start and the admin's commands (bot/onboarding.py) ------------------------------
START_IN_PRIVATE = "请在与机器人的私聊中发送 /start 邀请码。"
DAYS_NOT_A_NUMBER = "天数须为数字。\n"
UNREGISTERED_ROLE = "未注册用户"
FILE_TOO_BIG = "文件“{name}”过大（{size:.1f} MB），单个文件不能超过20 MB。"


# --- /report and /ledger (bot/reports.py) -----------------------------------------
REPORT_FILED = "已报送（{report_id}号进展报送）。"
REPORT_FILED_ONE_LINE = (
    "已报送（{report_id}号进展报送）。\n批次：{task}\n对象：{target}\n"
    "一行报送会记入默认批次{target_note}。如需报送到其他批次或具体的矿业权、整合区，"
    "请只发送 /report（不带文字），按按钮选择后再报送。"
)
REPORT_ONE_LINE_NO_TARGET = "，不针对具体矿业权或整合区"
REPORT_ASK_EVIDENCE = (
    "变更为“{status}”须上传佐证材料（如批复、登记或注销证明），经确认后计入完成进度。"
    "请发送文件或照片（{allowed}），全部发送后点“完成上传”。"
)
REPORT_FILED_CLAIM = (
    "已报送（{report_id}号进展报送）。矿业权“{right}”变更为“{status}”已提交{who}确认，确认后计入完成进度。"
)
REPORT_FILED_MOVED = "已报送（{report_id}号进展报送）。矿业权“{right}”状态已变更为：{status}。"
REPORT_NO_TASKS = "您的单位没有参与任何批次（任务），无法报送进展。如有疑问请联系联席会议办公室。"
REPORT_NO_DEFAULT_TASK = "没有可用的默认批次。请只发送 /report，按提示选择批次后报送。"

REPORT_PICK_TASK = "请选择要报送进展的批次（任务）：\n（随时发送 /cancel 取消）"
REPORT_PICK_TARGET = "批次：{task}\n请选择报送对象："
REPORT_BTN_ZONES = "整合区"
REPORT_BTN_SEARCH = "按名称查找矿业权"
REPORT_BTN_NONE = "不指定"
REPORT_PICK_ZONE = "请选择整合区："
REPORT_NO_ZONES = "没有可选择的整合区。请选择其他报送对象，或发送 /cancel 取消。"
REPORT_ASK_SEARCH = "请输入矿业权名称或编号的一部分（例如：铁矿）："
REPORT_SEARCH_RESULTS = "找到以下矿业权，请选择（也可以再输入关键词重新查找）："
REPORT_SEARCH_NONE = "没有找到包含“{text}”的矿业权，请换个关键词再试，或发送 /cancel 取消。"
REPORT_RIGHT_MENU = "矿业权：{name}（{code}）\n当前状态：{status}\n一矿一策：{measure}\n请选择："
REPORT_NO_MEASURE = "尚未填写"
REPORT_BTN_PROGRESS = "报送进展"
REPORT_BTN_MEASURE = "更新一矿一策"
REPORT_BTN_FINISH = "结束"
REPORT_BTN_MILESTONE_DONE = "完成节点：{title}"
REPORT_MILESTONES = "节点："
REPORT_MILESTONE_LINE = "{mark} {due} {title}"
REPORT_DONE_MARK = "✔"
REPORT_OPEN_MARK = "○"
REPORT_NO_DUE = "（无日期）"
REPORT_MILESTONE_DONE = "已确认节点“{title}”完成。"
REPORT_ASK_MEASURE = (
    "请输入该矿业权的一矿一策措施。可在后面逐行写节点，每行“日期 节点名称”，例如：\n"
    "由旗自然资源局牵头办理整合手续，企业负责储量核实。\n"
    "2026-06-30 完成储量核实\n"
    "2026-12-31 完成采矿权变更登记\n"
    "（注意：填写节点会替换原有节点清单）"
)
REPORT_ASK_TEXT = "报送对象：{target}\n请输入本次进展内容（不超过{limit}字）："
REPORT_ASK_MOVE = "该矿业权（{right}）是否已{done}？\n选“是”，其状态将改为“{status}”。"
# What a status move asks, by the status it moves to (a status not here: its label without 已).
REPORT_MOVE_DONE = {
    "consolidated": "完成整合",
    "closed": "完成关闭注销",
    "upgraded": "完成升级改造",
    "granted": "完成出让",
    "converted": "完成转采",
    "restarted": "复工达产",
    "activated": "完成盘活",
    "explored": "达到转采勘查程度",
    "in_progress": "开始推进",
}
REPORT_BTN_YES = "是"
REPORT_BTN_NO = "否"
REPORT_ASK_FILES = (
    "如需附件（{allowed}，单个不超过20 MB），请直接发送文件或照片；全部发送后点“完成上传”。没有附件可直接点“完成上传”。"
)
REPORT_BTN_FILES_DONE = "完成上传"
REPORT_FILE_DUPLICATE = "附件“{name}”已上传过，无需重复发送。"
REPORT_CONFIRM = "请确认报送内容：\n批次：{task}\n对象：{target}\n状态变更：{move}\n附件：{files}\n内容：\n{text}"
REPORT_BTN_SUBMIT = "确认提交"
REPORT_BTN_ABORT = "取消"
REPORT_NO_MOVE = "无"
REPORT_TARGET_NONE = "未指定"
REPORT_TARGET_ZONE = "整合区 {name}"
REPORT_TARGET_RIGHT = "矿业权 {name}（{code}）"
REPORT_ALREADY_FILED = "已提交（{report_id}号进展报送），无需重复提交。"
REPORT_ABORTED = "已取消，本次进展未报送。"
REPORT_FINISHED = "已结束。"

LEDGER_START = (  # after the line on the template (oversight.reports.send_ledger_template)
    "请上传本单位台账：\n1. 台账电子版（.xlsx）\n2. 加盖公章的扫描件（PDF、OFD、图片，或装有扫描件的 .zip）\n"
    "两个文件顺序不限。随时发送 /cancel 取消。"
)
LEDGER_MISSING = "还需要：{missing}。"
LEDGER_XLSX = "台账电子版（.xlsx）"
LEDGER_SCAN = "加盖公章的扫描件（PDF、OFD、图片或 .zip）"
LEDGER_GOT_XLSX = "台账电子版已通过校验。"
LEDGER_GOT_SCAN = "已收到盖章扫描件。"
LEDGER_DONE = "台账已合并（{report}）：{summary}"
LEDGER_SEND_FILES = "请发送文件（不是文字）。"
REPORT_RIGHT_LABEL = "{name}（{code}）· {status}"


# --- /calendar (bot/calendar.py) -------------------------------------------------------
CALENDAR_STATUS = "【工作日历】\n软件包自带：{first}–{last}年。{stored}\n{missing}"
CALENDAR_STORED_YEARS = "管理员添加：{years}。"
CALENDAR_MISSING_FROM = "{year}年起没有节假日数据，工作日暂按周一至周五估算，相关日期标有“估算”。"
CALENDAR_ASK_NOTICE = (
    "请粘贴或转发国务院办公厅关于{year}年部分节假日安排的通知全文（一条消息）。\n"
    "机器人读取后会把放假和调休上班的日期列给您核对，确认后才保存；已有的年份可以重新粘贴以替换。\n"
    "查看某一年：/calendar 2026。发送 /cancel 取消。"
)
CALENDAR_CONFIRM_ASK = "以上是读取的结果，请核对。确认无误后点“确认保存”；如有错误，可重新粘贴通知。"
CALENDAR_BTN_CONFIRM = "确认保存"
CALENDAR_BTN_CANCEL = "取消"
CALENDAR_SAVED = "已{verb}{year}年的节假日安排，办理期限、督办和定时任务即日起按新日历计算。"
CALENDAR_VERB_NEW = "保存"
CALENDAR_VERB_REPLACED = "替换"
CALENDAR_MOVED = "以下问题的办理期限按新日历重新计算：\n{lines}"
CALENDAR_MOVED_LINE = "{id}号问题：办理期限由{old}改为{new}"
CALENDAR_CANCELLED = "已取消，未保存。"
CALENDAR_NO_YEAR = "{year}年还没有节假日数据，工作日暂按周一至周五估算。{how}"
CALENDAR_YEAR_HEAD = "{year}年节假日安排（来源：{source}）"
CALENDAR_YEAR_LINE = "{name}：{days}"
CALENDAR_GRIDS_HEAD = "月历（休＝放假，班＝调休上班）："
CALENDAR_STALE = "该操作已失效，请重新发送 /calendar。"


# --- outside any conversation: the member's menu, a file sent on its own (bot/menu.py) ----
MENU_LABELS = {
    "report": "报送进展",
    "flag": "反映问题",
    "todo": "待办",
    "ledger": "上报台账",
    "explain": "通报情况说明",
    "progress": "任务进度",
    "members": "成员列表",
    "notices": "通报草稿",
    "decision": "记录议定事项",
    "meeting": "安排会议",
    "schedule": "定时任务",
    "calendar": "工作日历",
    "help": "全部命令",
}
# Words that say what a member wants, first match wins: a plain question gets its button first.
MENU_INTENTS = (
    ("ledger", ("台账",)),
    ("explain", ("情况说明", "通报")),
    ("flag", ("问题", "堵点", "困难", "卡住", "反映", "协调")),
    ("report", ("报送", "进展", "汇报", "上报", "填报")),
    ("todo", ("待办", "逾期", "期限", "要做")),
    ("progress", ("进度", "完成率")),
)
MENU_HEAD = "您好！请点下面的按钮办理，机器人会一步一步提示您："
MENU_GUESS = "您是想{what}吗？请点“{label}”，机器人会一步一步提示您。也可以选择其他事项："
MENU_FOOT = "（也可以直接发送命令，例如 /report；发送 /help 查看全部命令。）"
LOOSE_FILE_ASK = "已收到文件“{name}”。要把这个文件作为进展附件报送吗？"
LOOSE_FILE_YES = "是，报送进展"
LOOSE_FILE_NO = "否"
LOOSE_FILE_HEAD = "附件：{name}\n"
LOOSE_FILE_DROPPED = "好的，文件“{name}”未报送。"
LOOSE_FILE_NOT_HERE = "当前没有进行中的操作，文件未保存。请先选择要办理的事项："
COMMAND_NO_WORDS = "/{name} 后面不用加文字，“{words}”未作处理。直接发送 /{name}{what}。"
COMMAND_WHAT = {
    "report": "报送工作进展",
    "flag": "反映问题（堵点）",
    "ledger": "上报台账",
    "explain": "对通报报送情况说明",
    "todo": "查看待办事项",
    "progress": "查看各批次任务进度",
    "whoami": "查看本人的注册信息",
    "help": "查看可用命令",
    "cancel": "取消当前操作",
    "members": "查看成员列表",
    "bindgroup": "将本群绑定为联席会议群",
    "schedule": "查看和设置定时任务",
    "decision": "记录会议议定事项",
    "notices": "查看通报草稿与审批",
    "briefs": "查看待审核、签发的简报",
    "rectify": "查看整改台账",
    "duban": "查看督办事项",
}


# --- /duban (bot/supervision.py) ---------------------------------------------------------------

DUBAN_BTN_URGE = "催办"

# --- Status claims (bot/claims.py) ------------------------------------------------------------

CLAIM_CONFIRMED = "已确认：{claim}，计入完成进度。"
CLAIM_ASK_REASON = "请说明退回的理由（缺少哪些材料），4–500字："
CLAIM_RETURNED = "已退回状态变更申请：{claim}，报送单位已收到理由。"

PASTE_HELD = "正在接收您刚发送的长文本（分几段到达），几秒后交给当前步骤；请稍候再按按钮。"
