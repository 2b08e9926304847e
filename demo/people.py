"""The simulated people of the demo (示例人员, fictional names): 2–4 contacts per member
unit, the office, the convener, zone leaders (包联领导), the supervision group and an admin.

Telegram ids are fixed so the same seed gives the same history."""

from __future__ import annotations

from dataclasses import dataclass

from models import Role


@dataclass(frozen=True)
class Person:
    key: str  # stable handle used by the replay script
    name: str
    unit: str  # unit key of the plan file
    role: str
    tg: int
    title: str = ""


# unit key -> contact names (部门联络员), first one is the usual reporter.
CONTACTS: dict[str, list[str]] = {
    "natres": ["王建军", "李海燕", "张志强", "刘晓东"],
    "emergency": ["赵永胜", "孙丽娟", "周宏伟"],
    "forestry": ["吴敏", "郑国庆", "高娜仁"],
    "eco": ["马俊峰", "胡晓梅", "郭斌"],
    "culture": ["林慧", "何卫东"],
    "water": ["罗永刚", "梁晓燕", "宋立新"],
    "ndrc": ["谢文博", "韩雪", "唐建华"],
    "miit": ["冯海涛", "董玉兰"],
    "transport": ["程志远", "曹丽"],
    "finance": ["袁建平", "邓晓红"],
    "armed": ["许振国", "傅强"],
    "market_reg": ["沈佳", "曾庆丰"],
    "police": ["彭军", "吕东升"],
    "petition": ["苏红梅", "蒋立军"],
    "township": ["巴特尔", "乌云其其格", "其木格"],
}

OFFICE = [
    ("office_a", "田文杰", "旗政府办公室副主任"),
    ("office_b", "潘晓琳", "联席会议办公室"),
    ("office_c", "杜宇航", "联席会议办公室"),
]
CONVENER = ("convener", "白志刚", "分管副旗长")
# (key, name, title, zone seqs led)
LEADERS = [
    ("leader_1", "额尔敦", "旗长", [1, 2, 3, 4, 5]),
    ("leader_2", "贾宏亮", "常务副旗长", [6, 7, 8, 9, 10]),
    ("leader_3", "范永红", "副旗长", [11, 12, 13, 14, 15]),
    ("leader_4", "陶建新", "副旗长", [16, 17, 18, 19]),
]
SUPERVISORS = [("supervisor_a", "石磊", "联合督导组"), ("supervisor_b", "钟敏", "联合督导组")]
ADMIN = ("admin", "任浩", "旗政务服务中心")


def roster(contacts_per_unit: int | None = None) -> list[Person]:
    """Everyone who joins, in joining order; `contacts_per_unit` caps contacts (small scale)."""
    people: list[Person] = [Person(ADMIN[0], ADMIN[1], "office", Role.ADMIN, 7000, ADMIN[2])]
    for i, (key, name, title) in enumerate(OFFICE):
        people.append(Person(key, name, "office", Role.OFFICE, 7010 + i, title))
    people.append(Person(CONVENER[0], CONVENER[1], "banner_gov", Role.CONVENER, 7020, CONVENER[2]))
    for i, (key, name, title, _zones) in enumerate(LEADERS):
        people.append(Person(key, name, "banner_gov", Role.ZONE_LEADER, 7030 + i, title))
    for i, (key, name, title) in enumerate(SUPERVISORS):
        people.append(Person(key, name, "office", Role.SUPERVISOR, 7040 + i, title))
    for u, (unit, names) in enumerate(CONTACTS.items()):
        for j, name in enumerate(names[:contacts_per_unit] if contacts_per_unit else names):
            people.append(Person(f"{unit}{j}", name, unit, Role.CONTACT, 7100 + 10 * u + j))
    return people


def contact_name(unit: str, n: int = 0) -> str:
    """The n-th contact of a unit (the ledger's 责任人)."""
    names = CONTACTS.get(unit) or ["—"]
    return names[n % len(names)]
