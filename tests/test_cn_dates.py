"""Dates and times typed in chat (oversight/dates.py): the forms people write, in Settings' zone,
and a clear Chinese refusal for everything else."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from oversight.dates import parse_cn_date, parse_cn_datetime
from oversight.errors import InvalidInputError

SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai


@pytest.mark.parametrize(
    ("text", "local"),
    [
        ("12月15日 9:30", (2026, 12, 15, 9, 30)),
        ("2026年12月15日下午3点", (2026, 12, 15, 15, 0)),
        ("12月15日上午9点半", (2026, 12, 15, 9, 30)),
        ("2026-12-15 15:00", (2026, 12, 15, 15, 0)),
        ("12月15号 14：05", (2026, 12, 15, 14, 5)),
        ("1月8日 10点", (2027, 1, 8, 10, 0)),  # January has passed this year: next year's
        ("12月2日 8:00", (2026, 12, 2, 8, 0)),  # today stays today (the caller refuses a past time)
    ],
)
def test_typed_times_are_read_in_the_local_zone(text, local):
    got = parse_cn_datetime(text, now=NOW, tz=SH)
    assert got.tzinfo is UTC
    assert got.astimezone(SH).timetuple()[:5] == local


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("下周二", "不是有效日期"),
        ("12月15日", "请同时写明时间"),
        ("2月30日 9:00", "没有2月30日这一天"),
        ("12月15日 25:00", "不是有效时间"),
        ("12月15日 上午15点", "不是有效时间"),
        ("12月15日 9点一刻", "不是有效时间"),
        ("", "请发送日期和时间"),
        ("1" * 41, "不超过40个字"),
    ],
)
def test_anything_else_is_refused_in_chinese(text, says):
    with pytest.raises(InvalidInputError) as e:
        parse_cn_datetime(text, now=NOW, tz=SH)
    assert says in str(e.value)


def test_a_day_alone():
    today = date(2026, 12, 2)
    assert parse_cn_date("2027-01-29", today=today) == date(2027, 1, 29)
    assert parse_cn_date("2027年1月29日", today=today) == date(2027, 1, 29)
    assert parse_cn_date("1月29日", today=today) == date(2027, 1, 29)
    for bad in ("六月底", "1月29日 9:00", "13月1日"):
        with pytest.raises(InvalidInputError):
            parse_cn_date(bad, today=today)
