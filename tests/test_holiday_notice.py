"""Reading the State Council's holiday notices: 2019–2026 checked day by day against chinesecalendar,
malformed notices refused with the line named, and a year stored, shown and replaced (audited)."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import chinese_calendar
import pytest
from sqlmodel import Session, select
from typer.testing import CliRunner

from lianxi.cli import app
from models import AuditLog, CalendarYear
from oversight import workdays
from oversight.holiday_notice import NoticeParseError, format_preview, parse_notice, store_notice
from tests.conftest import table_counts

NOTICES = Path(__file__).parent / "fixtures" / "holidays"
runner = CliRunner()

# chinesecalendar follows notices published after the yearly one; the fixtures are the yearly
# notices as issued, so these days differ, and only these:
LATER_NOTICES = {
    # 国务院办公厅关于调整2019年劳动节假期安排的通知: 5月1日至4日放假, 4月28日、5月5日上班.
    2019: {date(2019, 4, 28), date(2019, 5, 2), date(2019, 5, 3), date(2019, 5, 5)},
    # 国务院办公厅关于延长2020年春节假期的通知: the holiday runs to 2月2日, 2月1日 no longer worked.
    2020: {date(2020, 1, 31), date(2020, 2, 1)},
}


def notice(year: int) -> str:
    return (NOTICES / f"{year}.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("year", range(2019, 2027))
def test_each_yearly_notice_matches_chinesecalendar_day_by_day(year: int) -> None:
    parsed = parse_notice(notice(year))
    assert parsed.year == year
    hol, work = parsed.holidays, parsed.workdays
    differ = set()
    day = date(year, 1, 1)
    while day.year == year:
        ours = day in work or (day not in hol and day.weekday() < 5)
        if ours != chinese_calendar.is_workday(day):
            differ.add(day)
        if (
            day.weekday() < 5
            and (day in hol) != chinese_calendar.is_holiday(day)
            and day not in LATER_NOTICES.get(year, ())
        ):
            differ.add(day)
        day += timedelta(days=1)
    assert differ == LATER_NOTICES.get(year, set())
    assert all(d.weekday() >= 5 for d in work)


def test_what_the_2026_notice_says() -> None:
    parsed = parse_notice(notice(2026))
    assert parsed.source == "国务院办公厅关于2026年部分节假日安排的通知"
    festivals = [i.festival for i in parsed.items]
    assert festivals == ["元旦", "春节", "清明节", "劳动节", "端午节", "中秋节", "国庆节"]
    spring = parsed.items[1]
    assert spring.holidays == tuple(date(2026, 2, 15) + timedelta(days=k) for k in range(9))
    assert spring.workdays == (date(2026, 2, 14), date(2026, 2, 28))


def test_cross_year_days_and_merged_festivals() -> None:
    p2019 = parse_notice(notice(2019))
    assert p2019.source.endswith("（国办发明电〔2018〕15号）")
    assert date(2018, 12, 30) in p2019.holidays and date(2018, 12, 29) in p2019.workdays
    assert p2019.holidays[date(2019, 4, 6)] == "清明节"  # 4月5日放假，与周末连休
    p2023 = parse_notice(notice(2023))
    assert p2023.holidays[date(2022, 12, 31)] == "元旦"
    assert p2023.holidays[date(2023, 10, 1)] == "中秋节、国庆节"
    p2024 = parse_notice(notice(2024))
    assert date(2024, 2, 9) not in p2024.holidays  # 鼓励…在除夕休息 is advice, not a holiday
    assert p2024.notes and "除夕" in p2024.notes[0]


def test_a_notice_pasted_from_a_web_page_reads_the_same() -> None:
    # Half-width punctuation, spaces, and the whole notice on one line, as copied from a news page.
    flat = notice(2021).replace("：", ":").replace("，", ",").replace("（", "(").replace("）", ")").replace("\n\n", " ")
    assert parse_notice(flat).holidays == parse_notice(notice(2021)).holidays


def test_preview_lists_the_days_and_draws_the_months() -> None:
    listing, grids = format_preview(parse_notice(notice(2026)), replacing=True)
    assert "二、春节：2月15日（周日）至2月23日（周一）放假，共9天；2月14日（周六）、2月28日（周六）上班。" in listing
    assert "放假33天，调休上班6天" in listing
    assert "2026年已有数据，确认后将以本通知替换" in listing
    february = grids.split("2026年2月\n")[1].split("\n\n")[0].splitlines()
    assert february[0] == "一 二 三 四 五 六 日"
    assert february[3] == " 9 10 11 12 13 班 休"
    assert february[4] == "休 休 休 休 休 休 休"
    assert "2026年3月" not in grids  # a month without holidays is not drawn


def _refused(text: str) -> list[str]:
    with pytest.raises(NoticeParseError) as info:
        parse_notice(text)
    assert "没有保存任何数据" in info.value.message
    return info.value.problems


def test_a_missing_month_is_refused_with_the_line_named() -> None:
    text = notice(2026).replace("二、春节：2月15日", "二、春节：15日")
    [problem] = _refused(text)
    assert problem.startswith("第9行“二、春节：15日（农历腊月二十八、周日）至23日")
    assert problem.endswith("“15日(农历腊月二十八、周日)”缺少月份")


def test_a_range_that_runs_backwards_is_refused() -> None:
    text = notice(2025).replace("5月1日（周四）至5日（周一）", "5月5日（周一）至1日（周四）")
    [problem] = _refused(text)
    assert "四、劳动节" in problem and problem.endswith("日期范围倒置：5月5日至5月1日")


def test_a_weekday_note_that_contradicts_its_date_is_refused() -> None:
    text = notice(2024).replace("4月7日（星期日）上班", "4月7日（星期六）上班")
    [problem] = _refused(text)
    assert problem.startswith("第12行“三、清明节：4月4日至6日放假调休") and problem.endswith(
        "4月7日是周日，括号里写的是周六"
    )


def test_every_bad_line_is_named_at_once_and_counts_are_checked() -> None:
    text = (
        notice(2022)
        .replace("共7天。1月29日", "共8天。1月29日")  # 1月31日至2月6日 is 7 days
        .replace("10月8日（星期六）", "10月10日（星期一）")  # a weekday cannot be a make-up day
    )
    problems = _refused(text)
    assert len(problems) == 2
    assert problems[0].endswith("写的是共8天，但1月31日至2月6日是7天")
    assert problems[1].endswith("10月10日是周一，本就是工作日，不是调休上班日")


@pytest.mark.parametrize(
    ("edit", "reason"),
    [
        (lambda t: t.replace("七、国庆节", "七、国庆"), "无法识别的节日“国庆”"),
        (lambda t: t.split("七、国庆节")[0], "通知中缺少：国庆节"),
        (lambda t: t.replace("2026年", "明年"), "没有找到年份"),
        (lambda t: t.replace("6月19日（周五）至21日（周日）放假", "6月19日（周五）至21日（周日）休整"), "没有写明"),
        (lambda t: t.replace("9月25日", "2月30日"), "日期“2月30日"),
        (lambda t: "", "内容为空"),
    ],
)
def test_other_malformed_notices_are_refused(edit, reason) -> None:
    problems = _refused(edit(notice(2026)))
    assert any(reason in p for p in problems), problems


# --- Stored years --------------------------------------------------------------------------

# A notice for a year the package does not cover, made up for these tests only (no official text
# for 2027 is available here; nothing of it is shipped): 元旦 Friday 1 January, 春节 a whole week.
MADE_UP_2027 = """国务院办公厅关于2027年部分节假日安排的通知（测试用，非真实安排）
一、元旦：1月1日（周五）至3日（周日）放假，共3天。
二、春节：2月6日（周六）至14日（周日）放假调休，共9天。2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。5月8日（周六）上班。
五、端午节：6月9日（周三）放假，共1天。
六、中秋节：9月15日（周三）放假，共1天。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
"""


def test_a_stored_year_is_answered_at_once_audited_and_replaceable(session: Session) -> None:
    assert workdays.is_estimated(date(2027, 1, 1)) and workdays.is_workday(date(2027, 1, 1))
    assert workdays.estimate_mark(date(2027, 1, 4)) == "（估算）"
    version = workdays.data_version()
    store_notice(session=session, parsed=parse_notice(MADE_UP_2027), actor="member:7")
    session.commit()
    assert workdays.data_version() != version
    assert not workdays.is_estimated(date(2027, 1, 1)) and not workdays.is_workday(date(2027, 1, 1))
    assert workdays.is_workday(date(2027, 2, 20))  # a make-up Saturday
    assert workdays.estimate_mark(date(2027, 1, 4)) == "" and workdays.first_estimated_year() == 2028

    # Another process (here: after a reset) learns it from the database.
    workdays.reset()
    assert workdays.is_workday(date(2027, 1, 1))
    assert workdays.refresh(session=session, max_age=0)
    assert not workdays.is_workday(date(2027, 1, 1))
    assert not workdays.refresh(session=session, max_age=0)  # nothing new

    # Replaced: 6月9日 becomes a working day again.
    store_notice(
        session=session,
        parsed=parse_notice(
            MADE_UP_2027.replace(
                "五、端午节：6月9日（周三）放假，共1天。", "五、端午节：6月11日（周五）放假，与周末连休。"
            )
        ),
        actor="member:8",
    )
    session.commit()
    assert workdays.is_workday(date(2027, 6, 9)) and not workdays.is_workday(date(2027, 6, 11))
    row = session.get(CalendarYear, 2027)
    assert row is not None and row.version == 2 and row.stored_by == "member:8"
    actions = [
        (a.action, a.actor) for a in session.exec(select(AuditLog).where(AuditLog.object_type == "calendar_year"))
    ]
    assert actions == [("calendar.stored", "member:7"), ("calendar.replaced", "member:8")]


def test_cli_imports_shows_and_refuses(settings_env, engine, tmp_path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(MADE_UP_2027.replace("5月1日（周六）至5日（周三）", "5月5日（周三）至1日（周六）"), encoding="utf-8")
    before = table_counts(engine)
    result = runner.invoke(app, ["calendar", "import", str(bad), "--yes"])
    assert result.exit_code == 2
    assert "第5行" in result.output and "日期范围倒置" in result.output
    assert table_counts(engine) == before

    good = tmp_path / "2027.txt"
    good.write_text(MADE_UP_2027, encoding="utf-8")
    declined = runner.invoke(app, ["calendar", "import", str(good)], input="n\n")
    assert declined.exit_code == 2 and "未保存" in declined.output
    assert "二、春节：2月6日（周六）至2月14日（周日）放假，共9天；2月20日（周六）上班。" in declined.output
    assert table_counts(engine) == before

    stored = runner.invoke(app, ["calendar", "import", str(good)], input="y\n")
    assert stored.exit_code == 0, stored.output
    assert "已保存2027年的节假日安排" in stored.output

    shown = runner.invoke(app, ["calendar", "show", "2027", "--json"])
    data = json.loads(shown.stdout)
    assert data["year"] == 2027 and data["source"].startswith("国务院办公厅关于2027年部分节假日安排的通知")
    assert "2027-01-01" in data["holidays"] and data["workdays"] == [
        "2027-02-20",
        "2027-05-08",
        "2027-09-26",
        "2027-10-09",
    ]

    package = json.loads(runner.invoke(app, ["calendar", "show", "2026", "--json"]).stdout)
    assert package["source"].startswith("chinesecalendar") and "2026-02-16" in package["holidays"]
    assert package["workdays"] == ["2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"]

    missing = runner.invoke(app, ["calendar", "show", "2028"])
    assert missing.exit_code == 2 and "2028年还没有节假日数据" in missing.output and "/calendar" in missing.output
    listing = runner.invoke(app, ["calendar", "list"])
    assert "管理员添加：2027年" in listing.output and "2028年起没有数据" in listing.output
