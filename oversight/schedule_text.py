"""Schedules in people's words, both ways: "每周五下午三点" → `0 15 * * 5`, and back to Chinese.

The forms people write (each also with 星期/礼拜 for 周, 号 for 日, and times such as 9:00, 9点,
上午9点, 下午三点, 8点半, 17点30分):
    每天 17:30 · 每周五 15:00 · 每周一、三、五 9:00 · 每周一至周五 8:30 · 工作日每天 8:30
    每月1日 9:00 · 每月1日、15日 9:00 · 每年1月、7月的10日 9:00 · 每季度结束后第5个工作日 09:00
    每小时 · 每2小时 · 每30分钟
They become one canonical expression: a 5-field cron, `@workdays HH:MM` (each working day on the
Chinese calendar) or `@quarterly-wdN HH:MM`. `describe_cron` writes a cron expression back in the
product's own Chinese, from the fields croniter expands (not a word-for-word translation: 每年1月、7月的
10日 09:00, not "在 09:00，每月的 10 号，仅在 1月 和 7月").

Own code: no library reads Chinese schedule phrases; croniter validates and expands the cron fields.
"""

from __future__ import annotations

import itertools
import re
from typing import Any

from croniter import croniter

WEEKDAY_ZH = ("日", "一", "二", "三", "四", "五", "六")  # cron numbering: 0 = Sunday
_ZH_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_NUM = r"(?:\d{1,2}|[零〇一二两三四五六七八九十]{1,3})"
_DAY_PARTS = {
    "凌晨": "am",
    "早上": "am",
    "早晨": "am",
    "清晨": "am",
    "上午": "am",
    "中午": "noon",
    "午后": "pm",
    "下午": "pm",
    "傍晚": "pm",
    "晚上": "pm",
    "夜里": "pm",
}
_TIME = re.compile(
    rf"(?P<part>凌晨|早上|早晨|清晨|上午|中午|午后|下午|傍晚|晚上|夜里)?(?P<h>{_NUM})"
    rf"(?:[:：](?P<m>\d{{2}})|(?:点|时)(?:(?P<half>半)|(?P<m2>{_NUM})分?|整|钟)?)$"
)


class PhraseError(ValueError):
    """A phrase that looks like a schedule but cannot be one; `reason` is Chinese."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def zh_number(text: str) -> int:
    """12, 十二, 二十三, 两 → int (0–99); ValueError if it is not a number."""
    if text.isdigit():
        return int(text)
    if not text or any(ch not in _ZH_DIGITS and ch != "十" for ch in text):
        raise ValueError(text)
    if "十" not in text:
        if len(text) != 1:
            raise ValueError(text)
        return _ZH_DIGITS[text]
    tens, _, ones = text.partition("十")
    if len(tens) > 1 or len(ones) > 1:
        raise ValueError(text)
    return (_ZH_DIGITS[tens] if tens else 1) * 10 + (_ZH_DIGITS[ones] if ones else 0)


def parse_time(text: str) -> tuple[int, int]:
    """(hour, minute) of 9:00, 09:30, 9点, 上午9点, 下午三点, 8点半, 17点30分, 晚上8点."""
    m = _TIME.match(text)
    if m is None:
        raise PhraseError(f"时间“{text}”无法识别（可写 9:00、上午9点、下午三点、8点半）")
    hour = zh_number(m.group("h"))
    minute = 30 if m.group("half") else zh_number(m.group("m") or m.group("m2") or "0")
    part = _DAY_PARTS.get(m.group("part") or "")
    if (part == "pm" and 1 <= hour < 12) or (part == "noon" and 1 <= hour <= 2):
        hour += 12
    elif part == "am" and hour == 12:
        hour = 0 if m.group("part") == "凌晨" else hour
    if hour > 23 or (part == "am" and hour > 12):
        raise PhraseError(f"时间“{text}”不存在")
    if minute > 59:
        raise PhraseError(f"时间“{text}”的分钟须在0–59之间")
    return hour, minute


def _weekday_numbers(text: str) -> list[int]:
    """一、三、五 / 一三五 / 一至五 / 一到周五 / 六日 → cron weekday numbers (0 = Sunday)."""
    text = re.sub(r"(?:周|星期|礼拜)", "", text).replace("和", "、").replace("及", "、")
    names = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "日": 0, "天": 0, "七": 0}
    out: list[int] = []
    for part in [p for p in re.split(r"[、,，]", text) if p]:
        span = re.fullmatch(r"(.)(?:至|到|-|~|—)(.)", part)
        if span:
            a, b = names.get(span.group(1)), names.get(span.group(2))
            if a is None or b is None:
                raise PhraseError(f"星期“{part}”无法识别")
            order = [1, 2, 3, 4, 5, 6, 0]
            i, j = order.index(a), order.index(b)
            if j < i:
                raise PhraseError(f"星期范围“{part}”须从前往后写，如 周一至周五")
            out.extend(order[i : j + 1])
            continue
        for ch in part:
            if ch not in names:
                raise PhraseError(f"星期“{part}”无法识别")
            out.append(names[ch])
    return sorted(set(out), key=lambda d: (d == 0, d))


def _numbers(text: str, unit: str, lo: int, hi: int, what: str) -> list[int]:
    values = []
    for part in [p for p in re.split(rf"[、,，和]|{unit}", text) if p]:
        try:
            value = zh_number(part)
        except ValueError as exc:
            raise PhraseError(f"{what}“{part}”无法识别") from exc
        if not lo <= value <= hi:
            raise PhraseError(f"{what}须在{lo}–{hi}之间，这里是{value}")
        values.append(value)
    return sorted(set(values))


def _csv(values: list[int]) -> str:
    """1,2,3,4,5 → 1-5 (runs of three or more), as people write cron."""
    parts = []
    for a, b in _runs(sorted(values)):
        parts.append(str(a) if a == b else (f"{a},{b}" if b == a + 1 else f"{a}-{b}"))
    return ",".join(parts)


_PHRASE_FORMS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^每(?:个)?季度(?:结束后|后|的)?第(?P<n>" + _NUM + r")个工作日(?P<t>.*)$"), "quarterly"),
    (re.compile(r"^(?:工作日每天|每个工作日|每工作日|每逢工作日|工作日)(?P<t>.*)$"), "workdays"),
    (re.compile(r"^(?:每天|每日|天天)(?P<t>.*)$"), "daily"),
    (
        re.compile(
            r"^每(?:个)?(?:周|星期|礼拜)(?P<d>[一二三四五六日天七、,，和至到\-~—周星期礼拜]+?)(?P<t>(?:凌晨|早上|早晨|清晨|上午|中午|午后|下午|傍晚|晚上|夜里)?"
            + _NUM
            + r"(?:[:：点时].*)?)$"
        ),
        "weekly",
    ),
    (
        re.compile(r"^每(?:个)?月(?:的)?(?P<d>[0-9零〇一二两三四五六七八九十、,，和日号]+)(?:日|号)(?P<t>.*)$"),
        "monthly",
    ),
    (
        re.compile(
            r"^每年(?P<mo>[0-9一二三四五六七八九十、,，和月]+?)月(?:的|份的|份)?(?P<d>[0-9零〇一二两三四五六七八九十、,，和日号]+)(?:日|号)(?P<t>.*)$"
        ),
        "yearly",
    ),
    (re.compile(r"^每(?:(?P<n>" + _NUM + r")个?)?小时(?:整点|一次)?$"), "hourly"),
    (re.compile(r"^每(?P<n>" + _NUM + r")分钟(?:一次)?$"), "minutes"),
]


def looks_like_phrase(text: str) -> bool:
    """Whether `text` is written in words (Chinese), not as cron."""
    return bool(re.search(r"[\u4e00-\u9fff]", text))


def parse_phrase(text: str) -> str:
    """The canonical expression of a schedule phrase; PhraseError (Chinese reason) if it is not one."""
    compact = re.sub(r"\s+", "", text)
    for pattern, kind in _PHRASE_FORMS:
        m = pattern.match(compact)
        if m is None:
            continue
        groups = m.groupdict()
        if kind in ("hourly", "minutes"):
            n = zh_number(groups["n"]) if groups.get("n") else 1
            if kind == "hourly":
                if not 1 <= n <= 23:
                    raise PhraseError("间隔小时数须在1–23之间")
                return "0 * * * *" if n == 1 else f"0 */{n} * * *"
            if not 1 <= n <= 59:
                raise PhraseError("间隔分钟数须在1–59之间")
            return "* * * * *" if n == 1 else f"*/{n} * * * *"
        time_text = (groups.get("t") or "").lstrip("的")
        if not time_text:
            raise PhraseError("请写明几点，例如“每周五 15:00”“每天上午9点”")
        hour, minute = parse_time(time_text)
        at = f"{hour:02d}:{minute:02d}"
        if kind == "quarterly":
            return f"@quarterly-wd{zh_number(groups['n'])} {at}"
        if kind == "workdays":
            return f"@workdays {at}"
        if kind == "daily":
            return f"{minute} {hour} * * *"
        if kind == "weekly":
            return f"{minute} {hour} * * {_csv(_weekday_numbers(groups['d']))}"
        days = _numbers(groups["d"], "日|号", 1, 31, "日期")
        if kind == "monthly":
            return f"{minute} {hour} {_csv(days)} * *"
        months = _numbers(groups["mo"], "月", 1, 12, "月份")
        return f"{minute} {hour} {_csv(days)} {_csv(months)} *"
    if not re.search(rf"{_NUM}(?:[:：]|点|时)", compact):
        raise PhraseError("请写明几点，例如“每周五 15:00”“每天上午9点”")
    raise PhraseError("没有看懂这个时间")


# --- Back to Chinese ------------------------------------------------------------------------


def _runs(values: list[int]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for v in values:
        if out and v == out[-1][1] + 1:
            out[-1] = (out[-1][0], v)
        else:
            out.append((v, v))
    return out


def _step_of(values: list[int], lo: int, hi: int) -> int | None:
    """The step s when `values` is lo, lo+s, lo+2s … up to hi (s > 1), else None."""
    if len(values) < 2 or values[0] != lo:
        return None
    step = values[1] - values[0]
    if step > 1 and values == list(range(lo, hi + 1, step)):
        return step
    return None


def weekday_text(days: list[int]) -> str:
    """周一至周五, 周六、周日, 周一、周三、周五 (Monday first)."""
    order = [d for d in (1, 2, 3, 4, 5, 6, 0) if d in days]
    positions = [(1, 2, 3, 4, 5, 6, 0).index(d) for d in order]
    if len(order) >= 3 and positions == list(range(positions[0], positions[0] + len(order))):
        return f"周{WEEKDAY_ZH[order[0]]}至周{WEEKDAY_ZH[order[-1]]}"
    return "、".join(f"周{WEEKDAY_ZH[d]}" for d in order)


def _list_text(values: list[int], unit: str) -> str:
    parts = []
    for a, b in _runs(values):
        parts.append(f"{a}{unit}" if a == b else (f"{a}{unit}、{b}{unit}" if b == a + 1 else f"{a}{unit}至{b}{unit}"))
    return "、".join(parts)


def _fields(expr: str) -> list[list[Any]]:
    fields, _ = croniter.expand(expr)
    return [list(f) for f in fields]


def describe_cron(expr: str) -> str:
    """A valid 5-field cron in the product's Chinese: 每周五 15:00, 每年1月、7月的10日 09:00, 每15分钟."""
    minutes, hours, doms, months, dows = _fields(expr)
    all_days = doms == ["*"]
    all_months = months == ["*"]
    all_dows = dows == ["*"] or sorted(int(d) % 7 for d in dows) == list(range(7))
    dow_list = sorted({int(d) % 7 for d in dows}) if not all_dows else []
    day_list = "" if all_days else _list_text([int(d) for d in doms], "日")
    if not all_months:
        month_text = _list_text([int(m) for m in months], "月")
        if all_dows and all_days:
            day = f"每年{month_text}每天"
        elif not all_dows:
            day = f"每年{month_text}的每{weekday_text(dow_list)}"
        elif len(months) == 1:
            day = f"每年{month_text}{day_list}"
        else:
            day = f"每年{month_text}的{day_list}"
    elif all_dows and all_days:
        day = "每天"
    elif not all_dows:
        day = f"每{weekday_text(dow_list)}"
    else:
        day = f"每月{day_list}"
    hour_all = hours == ["*"] or hours == list(range(24))
    minute_all = minutes == ["*"] or minutes == list(range(60))
    hour_list = list(range(24)) if hour_all else [int(h) for h in hours]
    minute_list = list(range(60)) if minute_all else [int(m) for m in minutes]
    if len(minute_list) == 1 and len(hour_list) <= 6:
        times = "、".join(f"{h:02d}:{minute_list[0]:02d}" for h in hour_list)
        return f"{day} {times}"
    # Several times an hour, or many hours: say the span and how often.
    if minute_all:
        often = "每分钟"
    elif (step := _step_of(minute_list, 0, 59)) is not None:
        often = f"每{step}分钟"
    elif len(minute_list) == 1:
        often = "每小时整点" if minute_list[0] == 0 else f"每小时第{minute_list[0]}分"
    else:
        often = f"每小时第{'、'.join(str(m) for m in minute_list)}分"
    if hour_all:
        span = ""
    elif (hstep := _step_of(hour_list, 0, 23)) is not None and len(minute_list) == 1:
        every = f"每{hstep}小时{'整点' if minute_list[0] == 0 else f'第{minute_list[0]}分'}"
        return every if day == "每天" else f"{day}{every}"
    else:
        runs = _runs(hour_list)
        span = "、".join(f"{a}:00至{b}:59" for a, b in runs)
    prefix = "" if day == "每天" and not span else day
    body = f"{span}，{often}" if span else often
    return (f"{prefix} {body}" if prefix else body).strip()


def min_interval_minutes(expr: str) -> int:
    """The shortest gap between two fires of a cron expression, in minutes (at most 60 is reported)."""
    minutes, hours, *_ = _fields(expr)
    minute_list = list(range(60)) if minutes == ["*"] else sorted(int(m) for m in minutes)
    hour_list = list(range(24)) if hours == ["*"] else sorted(int(h) for h in hours)
    if len(minute_list) > 1:
        gaps = [b - a for a, b in itertools.pairwise(minute_list)]
        gaps.append(60 - minute_list[-1] + minute_list[0])
        return min(gaps)
    if len(hour_list) > 1:
        gaps = [b - a for a, b in itertools.pairwise(hour_list)]
        return 60 * min(gaps)
    return 60 * 24
