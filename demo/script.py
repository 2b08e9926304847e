"""What happens in the demo quarter, as data: the meeting and its agreed matters, the
blockers (one of every category of the plan, with hand-overs, a real A→B→A, declines
ruled by the office, resolutions, confirmations, a reopen, and some left overdue), the
reports that move rights' statuses, and what each unit writes in its weekly reports.

Dates are (month of the quarter, day); a day that is not a working day moves to the next
working day. Units are plan-file unit keys. All names and texts are fictional (示例数据)."""

from __future__ import annotations

from dataclasses import dataclass, field

# --- The meeting at the start of the quarter and its agreed matters (议定事项) ------------

MEETING_DAY = (1, 8)
# (owner unit, text, due (month, day), done on (month, day) or None, major)
DECISIONS: list[tuple[str, str, tuple[int, int], tuple[int, int] | None, bool]] = [
    ("natres", "完成全旗69宗采矿权、49宗探矿权底数核查，建立矿业权台账并报联席会议办公室", (1, 30), (1, 28), False),
    ("forestry", "完成张佳花岗岩、铎宝花岗岩整合区征占用草原审批前期工作", (3, 13), None, False),
    ("emergency", "制定拟复工矿山安全条件核查工作方案并组织实施", (2, 27), (2, 26), False),
    ("ndrc", "梳理19个整合区整合项目立项清单，明确立项类型和办理时限", (3, 20), (3, 27), False),
    ("finance", "起草小型矿山退出补偿政策（征求意见稿）提请旗政府常务会研究", (6, 30), None, True),
]
# Cooperating units (配合单位) of an agreed matter, by its lead unit.
COOPERATING: dict[str, tuple[str, ...]] = {
    "forestry": ("natres",),
    "finance": ("natres", "ndrc"),
}
# What the office puts on the agenda (at the quarter's start the record has nothing overdue yet).
AGENDA = (
    "研究部署一季度非煤矿山资源整合、增储上产工作任务",
    "听取旗自然资源局关于矿业权底数核查准备情况的汇报",
)
EXCUSED = ("petition",)  # the member units that ask to be excused


# --- Blockers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Blocker:
    """One problem: who raises it, when, about what, and what happens to it afterwards.

    subject: ("zone", seq) | ("right", batch key, index) | None.
    steps: (month, day, action, *args) with actions
        accept | hand <unit> <reason> | decline <reason> | rule <unit> <reason> <verdicts…>
        | resolve <evidence> | confirm | reopen <reason>
    """

    no: int
    day: tuple[int, int]
    raiser: str  # unit key (its first contacts take turns) or a person key such as leader_4
    category: str
    subject: tuple | None
    text: str
    steps: list[tuple] = field(default_factory=list)


BLOCKERS: list[Blocker] = [
    Blocker(
        1,
        (1, 12),
        "natres",
        "forest_grass",
        ("zone", 7),
        "张佳花岗岩整合区2宗采矿权整合后矿区范围扩大，新增占用草原约12.6公顷，需林草局办理征占用草原审批。",
        [
            (1, 14, "accept"),
            (1, 23, "resolve", "征占用草原审批已批复（示例：乌中林草审〔2026〕3号），已抄送自然资源局。"),
            (1, 26, "confirm"),
        ],
    ),
    Blocker(
        2,
        (1, 13),
        "emergency",
        "land_use",
        ("zone", 13),
        "此老图－翁根山地区铁矿整合区拟建排土场用地未落实，安全设施设计无法通过审查，请自然资源局办理用地手续。",
        [
            (1, 15, "hand", "township", "排土场用地涉及3户牧民承包草场，需苏木镇先行协调牧户意见。"),
            (1, 20, "hand", "natres", "用地预审和报批属自然资源局职责，苏木镇仅负责协调牧户，协调工作已同步启动。"),
            (1, 22, "decline", "该问题实质是牧户补偿纠纷，应由苏木镇牵头解决后再办理用地。"),
            (
                1,
                26,
                "rule",
                "natres",
                "用地预审与报批由自然资源局依法办理，苏木镇配合协调牧户，两项工作并联推进。",
                False,
                True,
            ),
            (2, 5, "resolve", "排土场用地预审意见已出具，用地报批材料已上报市局，牧户补偿协议已签订。"),
            (2, 6, "confirm"),
        ],
    ),
    Blocker(
        3,
        (1, 15),
        "natres",
        "eia",
        ("zone", 3),
        "284地区金矿整合区环评需按整合后生产规模重新编制，企业不清楚办理层级和路径。",
        [
            (1, 16, "accept"),
            (1, 29, "resolve", "已现场指导企业，明确由市生态环境局审批，环评报告已进入技术审查。"),
            (1, 30, "confirm"),
        ],
    ),
    Blocker(
        4,
        (1, 16),
        "natres",
        "project_approval",
        ("zone", 5),
        "图古日格地区金矿整合二区整合项目立项主体和立项类型（新建还是技改）不明确，企业无法启动前期工作。",
        [
            (1, 19, "hand", "miit", "整合后不涉及产能变化的属技改项目，应由工信局立项。"),
            (1, 21, "hand", "ndrc", "整合后生产规模由小型升为中型，涉及产能变化，应由发改委立项。"),
            (1, 23, "hand", "miit", "请工信局先出具产能是否变化的认定意见。"),
            (
                1,
                27,
                "rule",
                "ndrc",
                "整合项目立项属发改委职责（实施方案四），工信局提供产能认定意见配合。",
                False,
                True,
                False,
            ),
            (2, 6, "resolve", "整合项目已完成立项备案（示例），立项类型为改扩建。"),
            (2, 9, "confirm"),
        ],
    ),
    Blocker(
        5,
        (1, 19),
        "forestry",
        "water_permit",
        ("zone", 9),
        "乌兰西萤石整合区原取水许可即将到期，整合后需按新规模重新申请取水许可并编制水土保持方案。",
        [(1, 30, "accept")],
    ),
    Blocker(
        6,
        (1, 20),
        "natres",
        "safety_facilities",
        ("zone", 2),
        "新乌苏铁铜整合区开采方案调整后，安全设施设计需重新审查，企业询问审查时限。",
        [(1, 21, "accept"), (2, 2, "resolve", "安全设施设计审查已完成，审查意见已送达企业。"), (2, 3, "confirm")],
    ),
    Blocker(
        7,
        (1, 21),
        "natres",
        "safety_licence",
        ("right", "restart", 2),
        "{right}安全生产许可证已过期，复工前需办理延续，企业材料不全。",
        [(1, 22, "accept"), (2, 3, "resolve", "已指导企业补齐材料，安全生产许可证延续已办结。"), (2, 4, "confirm")],
    ),
    Blocker(
        8,
        (1, 22),
        "emergency",
        "military_review",
        ("zone", 14),
        "铎宝花岗岩整合区拓展范围邻近军事管理区，需人武部出具是否影响国防设施的意见。",
        [(2, 3, "accept")],
    ),
    Blocker(
        9,
        (1, 26),
        "natres",
        "heritage_review",
        ("zone", 18),
        "铸合石哈河矿区整合范围内发现疑似古长城遗址，需文体局组织文物审核。",
        [
            (1, 27, "accept"),
            (2, 6, "resolve", "经文物部门现场勘查，遗址位于整合范围外，已出具审核意见。"),
            (2, 9, "confirm"),
        ],
    ),
    Blocker(
        10,
        (1, 27),
        "natres",
        "transport_review",
        ("zone", 1),
        "常兴扎嘎乌苏铁矿整合区运矿道路与省道交叉口需交通运输局审核。",
        [(2, 9, "accept")],
    ),
    Blocker(
        11,
        (1, 28),
        "natres",
        "business_licence",
        ("zone", 12),
        "浩尧尔忽洞金矿整合后拟新设主体公司，需办理营业执照和股权变更登记。",
        [
            (1, 29, "accept"),
            (2, 6, "resolve", "新设主体营业执照已核发。"),
            (2, 9, "confirm"),
            (2, 25, "reopen", "股权变更登记的出资比例与整合协议不一致，需更正。"),
            (3, 6, "resolve", "股权变更登记已按整合协议更正。"),
            (3, 9, "confirm"),
        ],
    ),
    Blocker(
        12,
        (2, 2),
        "natres",
        "exit_compensation",
        ("right", "close", 1),
        "{right}已列入关闭名单，企业要求先明确退出补偿标准再办理注销。",
        [(2, 4, "accept"), (2, 13, "resolve", "已委托评估机构完成资产评估，补偿标准已与企业达成一致。")],
    ),
    Blocker(
        13,
        (2, 3),
        "natres",
        "explosives",
        ("right", "close", 0),
        "{right}关闭后仍有火工品库存，需公安局停止供应并监督回收。",
        [(2, 4, "accept"), (2, 11, "resolve", "已停止供应并完成库存火工品回收销毁。"), (2, 12, "confirm")],
    ),
    Blocker(
        14,
        (2, 3),
        "eco",
        "forest_grass",
        ("zone", 6),
        "查干此老地区金矿整合区拟设探矿权范围涉及林地，需林草局出具使用林地意见。",
        [(2, 5, "accept")],
    ),
    Blocker(
        15,
        (2, 4),
        "township",
        "petition",
        None,
        "哈达图嘎查部分牧民就矿山关闭后的补偿问题到旗信访局上访，需信访局转办并协调答复。",
        [(2, 5, "accept"), (2, 13, "resolve", "已转办财政局、自然资源局，答复意见已送达信访人。"), (2, 24, "confirm")],
    ),
    Blocker(
        16,
        (2, 5),
        "natres",
        "land_dispute",
        ("zone", 19),
        "郜北矿区铁矿整合区拟设探矿权范围涉及3户牧民草场，牧户对补偿标准有异议。",
        [(2, 6, "accept")],
    ),
    Blocker(
        17,
        (2, 6),
        "natres",
        "restart_approval",
        ("right", "restart", 3),
        "{right}停产整改已完成，企业申请复工复产验收。",
        [(2, 9, "accept"), (2, 26, "resolve", "复工复产验收已通过，同意恢复生产。"), (2, 27, "confirm")],
    ),
    Blocker(
        18,
        (2, 9),
        "emergency",
        "consolidation_paperwork",
        ("zone", 11),
        "乌兰赤老铁矿整合区2宗采矿权和1宗深部探矿权的整合申请已提交，需自然资源局办理整合手续。",
        [
            (2, 10, "accept"),
            (2, 25, "resolve", "整合申请已受理，整合方案已通过审查，正在办理登记。"),
            (2, 26, "confirm"),
        ],
    ),
    Blocker(
        19,
        (2, 10),
        "ndrc",
        "mining_licence",
        ("zone", 16),
        "后石兰哈达铁矿深部探矿权转采前需先完成原采矿权变更登记，影响项目立项。",
        [(2, 11, "accept"), (2, 26, "resolve", "原采矿权变更登记已完成。"), (2, 27, "confirm")],
    ),
    Blocker(
        20,
        (2, 11),
        "eco",
        "reserve_review",
        ("zone", 8),
        "索伦山菱镁矿整合区储量核实报告评审排期过晚，影响环评报告编制。",
        [(2, 12, "accept"), (2, 27, "resolve", "储量核实报告已通过评审。"), (3, 2, "confirm")],
    ),
    Blocker(
        21,
        (2, 12),
        "natres",
        "litigation",
        ("right", "close", 2),
        "{right}与当地合作社存在采矿权转让合同纠纷，案件尚在审理，关闭注销无法推进。",
        [(2, 13, "accept")],
    ),
    Blocker(
        22,
        (2, 13),
        "natres",
        "shareholders",
        ("zone", 4),
        "图古日格地区金矿整合一区两家企业股东对整合后持股比例意见不一致。",
        [(2, 24, "accept"), (3, 24, "resolve", "经旗政府协调，双方已签订整合协议。"), (3, 25, "confirm")],
    ),
    Blocker(
        23,
        (2, 24),
        "finance",
        "unpaid_fees",
        None,
        "3宗拟协议出让矿业权的企业未按承诺评估缴纳出让收益，影响出让合同签订。",
        [(2, 25, "accept"), (3, 9, "resolve", "已约谈3家企业，均已按承诺缴纳出让收益。"), (3, 10, "confirm")],
    ),
    Blocker(
        24,
        (2, 25),
        "emergency",
        "bankruptcy",
        ("right", "restart", 4),
        "{right}企业已进入破产重整程序，复工达产主体待定。",
        [(2, 26, "accept")],
    ),
    Blocker(
        25,
        (2, 26),
        "emergency",
        "funding",
        None,
        "复工达产一批中5家企业反映安全改造资金不足，复工计划推迟。",
        [(3, 2, "accept"), (3, 27, "resolve", "已协调旗内金融机构与5家企业对接，2家已获授信。")],
    ),
    Blocker(
        26,
        (3, 2),
        "eco",
        "violation",
        ("right", "upgrade", 3),
        "{right}存在越界开采嫌疑，尚未查处到位，影响升级改造项目环评审查。",
        [
            (3, 3, "hand", "natres", "越界开采由自然资源局立案查处。"),
            (3, 4, "accept"),
            (3, 13, "resolve", "已立案查处，责令停止越界开采并处罚款。"),
            (3, 16, "confirm"),
        ],
    ),
    Blocker(
        27,
        (3, 18),
        "natres",
        "rectification_pending",
        ("right", "restart", 5),
        "{right}重大事故隐患整改未完成，不具备复工条件。",
        [(3, 19, "accept")],
    ),
    Blocker(
        28, (3, 4), "emergency", "market", None, "萤石价格下行，2家拟复工萤石矿企业复工意愿不强。", [(3, 5, "accept")]
    ),
    Blocker(
        29,
        (3, 19),
        "natres",
        "construction",
        ("right", "restart", 6),
        "{right}技改工程进度滞后，井下提升系统改造未完成。",
        [(3, 20, "accept")],
    ),
    Blocker(
        30,
        (3, 9),
        "natres",
        "techupgrade_approval",
        ("right", "upgrade", 0),
        "{right}智能化升级改造项目需工信局办理技改立项备案。",
        [(3, 10, "accept"), (3, 20, "resolve", "技改项目已备案。"), (3, 23, "confirm")],
    ),
    Blocker(
        31,
        (3, 10),
        "water",
        "eia",
        ("zone", 9),
        "乌兰西萤石整合区升级改造项目环评未批复，水土保持方案审查需以环评批复为前提。",
        [
            (3, 11, "decline", "该项目水土保持方案尚未批复，应先由水利局办理。"),
            (3, 13, "rule", "eco", "环评审批属生态环境局职责，水土保持方案可并联办理，不互为前置。"),
            (3, 25, "resolve", "环评已受理并完成技术审查，与水土保持方案并联办理。"),
            (3, 26, "confirm"),
        ],
    ),
    Blocker(
        32,
        (3, 16),
        "natres",
        "forest_grass",
        ("zone", 17),
        "双胜美地区金矿整合区涉及公益林，需林草局出具是否可以占用的意见。",
        [(3, 27, "accept")],
    ),
    Blocker(
        33,
        (3, 23),
        "leader_4",
        "land_dispute",
        ("zone", 16),
        "后石兰哈达铁矿整合区进场道路涉及牧户草场，现场调研时群众反映强烈。",
        [(3, 24, "accept")],
    ),
]

# --- Reports that move a right's status (the batch's done status) ------------------------

# (month, day, unit, batch key, (zone seq or None, kind or None, index), text)
MOVES: list[tuple[int, int, str, str, tuple, str]] = [
    (
        2,
        12,
        "natres",
        "grant",
        (None, "exploration", 0),
        "{right}扩大勘查范围协议出让方案经旗政府同意，出让合同已签订，出让收益已按期缴纳。",
    ),
    (
        3,
        5,
        "natres",
        "close",
        (None, "mining", 0),
        "{right}闭坑地质报告已评审通过，采矿许可证已注销，矿山地质环境恢复治理已验收。",
    ),
    (3, 11, "natres", "consolidate", (7, "mining", 0), "{right}已完成整合，新采矿许可证已换发。"),
    (3, 11, "natres", "consolidate", (7, "mining", 1), "{right}已并入整合后矿山，原采矿许可证已注销。"),
    (3, 17, "emergency", "restart", (None, "mining", 0), "{right}复工前安全条件核查合格，隐患已整改销号，已恢复生产。"),
    (3, 19, "natres", "convert", (None, "exploration", 0), "{right}勘查报告评审备案完成，已取得采矿许可证，完成转采。"),
    (3, 24, "natres", "grant", (None, "exploration", 1), "{right}协议出让已完成，出让合同已签订。"),
    (3, 26, "emergency", "restart", (None, "mining", 1), "{right}复工复产验收通过，已恢复生产，产能逐步释放。"),
    (
        3,
        27,
        "natres",
        "consolidate",
        (10, "mining", 0),
        "{right}（采矿权）整合完成，新采矿许可证已换发，整合区内探矿权同步办理转采。",
    ),
]

# --- Weekly reports: what each unit writes ------------------------------------------------

REPORT_TEXTS: dict[str, list[str]] = {
    "natres": [
        "完成{zone}整合区矿业权现状核查，已形成核查报告初稿。",
        "组织{zone}整合区企业召开整合推进会，明确整合主体和时间节点。",
        "推进{zone}整合区储量核实报告编制，第三方已开展野外工作。",
        "本周办理矿业权变更登记{n}宗，完成出让收益评估{n}宗。",
        "梳理优选出让矿业权清单，完成{n}宗出让方案编制。",
        "对拟关闭矿山开展实地核查，指导{n}家企业编制闭坑地质报告。",
    ],
    "emergency": [
        "完成{n}家拟复工矿山安全条件核查，发现隐患{m}项，已下达整改通知。",
        "审查{zone}整合区安全设施设计1项，提出修改意见{m}条。",
        "开展停产矿山隐患排查，督促{n}家企业落实整改。",
        "统计整合范围内企业安全生产许可证情况，注销{n}家。",
    ],
    "forestry": [
        "受理{zone}整合区征占用草原申请，正在组织现场查验。",
        "完成{n}宗矿业权林草管控要求审核。",
        "对{zone}整合区开展林草资源现状调查。",
    ],
    "eco": [
        "审核{zone}整合区环境管控要求，已出具意见。",
        "指导{n}家企业编制环境影响评价报告。",
        "对{zone}整合区开展生态环境现状核查。",
    ],
    "culture": ["完成{zone}整合区文物和风景区审核现场踏勘。", "梳理整合区内不可移动文物分布情况。"],
    "water": [
        "受理取水许可申请{n}件，审批水土保持方案{n}件。",
        "对{zone}整合区水资源论证报告提出审查意见。",
        "督促{n}家企业完善水土保持设施。",
    ],
    "ndrc": ["梳理整合项目立项清单，已完成{n}个项目前期对接。", "指导{zone}整合区企业编制项目申请报告。"],
    "miit": [
        "将非煤矿山整合增储纳入“十五五”工业规划编制。",
        "指导{n}家企业编制智能化改造方案。",
        "开展升级改造矿山技改项目摸底，建立清单。",
    ],
    "transport": ["审核{zone}整合区运矿道路与公路交叉情况。", "梳理整合区周边公路、铁路设施分布情况。"],
    "finance": ["起草小型矿山退出补偿政策，已征求{n}个部门意见。", "完成{n}家关闭矿山资产评估委托。"],
    "armed": ["对{zone}整合区开展军事设施影响审核。", "梳理整合区周边军事管控区范围。"],
    "market_reg": ["办理整合后矿山企业营业执照变更{n}件、股权变更{n}件。", "核查关闭矿山企业证照情况，办理注销{n}件。"],
    "police": ["核查关闭矿山火工品库存，已停止供应{n}家。", "对关闭矿山周边开展治安巡查，社会面总体稳定。"],
}
# Units that report by buttons about a zone in some weeks (week index modulo, remainder).
ZONE_REPORTERS: dict[str, tuple[int, int]] = {"natres": (1, 0), "forestry": (2, 0), "eco": (3, 1), "water": (3, 2)}
# Units that skip weeks on purpose (the rules find them slow): unit -> weeks skipped.
SKIPPERS: dict[str, int] = {"culture": 4, "armed": 3, "transport": 2}

LEADER_TEXTS = [
    "带队到{zone}整合区现场调研，协调解决用地和草原手续问题。",
    "主持召开{zone}整合区推进会，督促各责任单位按节点推进。",
    "约谈{zone}整合区企业负责人，明确整合时间表。",
]
