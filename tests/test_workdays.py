"""Working days on the Chinese calendar, including 2026's holidays and make-up days."""

import logging
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from oversight import workdays
from oversight.workdays import (
    add_workdays,
    covered_years,
    due_light,
    is_workday,
    nth_workday_after,
    workdays_between,
)

# Dates the holiday data covers, plus a year either side so the fallback is exercised too.
covered_dates = st.dates(min_value=date(2004, 1, 1), max_value=date(2026, 12, 31))
any_dates = st.dates(min_value=date(2003, 1, 1), max_value=date(2027, 12, 31))


@pytest.fixture
def fresh_warnings(monkeypatch):
    """Forget which uncovered years have already been warned about in this process."""
    monkeypatch.setattr(workdays, "_warned_years", set())


def test_covered_years_include_2026():
    first, last = covered_years()
    assert first <= 2024
    assert last >= 2026


def test_national_day_2026_is_a_holiday_week():
    for day in range(1, 8):
        assert not is_workday(date(2026, 10, day)), f"2026-10-0{day}"
    assert is_workday(date(2026, 10, 8))  # Thursday after the week off


def test_make_up_weekend_days_2026_are_workdays():
    # 调休: Sunday 2026-09-20 and Saturday 2026-10-10 are worked for National Day,
    # Saturday 2026-02-14 and 2026-02-28 for the Spring Festival.
    for day in (date(2026, 9, 20), date(2026, 10, 10), date(2026, 2, 14), date(2026, 2, 28)):
        assert day.weekday() >= 5
        assert is_workday(day), day.isoformat()


def test_spring_festival_2026():
    # 2026-02-15 (Sunday) through 2026-02-23 (Monday) are off, weekdays included.
    for offset in range(9):
        assert not is_workday(date(2026, 2, 15) + timedelta(days=offset))
    assert is_workday(date(2026, 2, 24))
    assert not is_workday(date(2026, 2, 16))  # a Monday


def test_add_workdays_skips_national_day():
    # Wednesday 2026-09-30: the next working days are Thursday 10-08 and Friday 10-09
    # after the holiday, then Saturday 10-10 (make-up day), then Monday 10-12.
    assert add_workdays(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_workdays(date(2026, 9, 30), 3) == date(2026, 10, 10)
    assert add_workdays(date(2026, 9, 30), 4) == date(2026, 10, 12)
    assert add_workdays(date(2026, 10, 8), -1) == date(2026, 9, 30)


def test_add_zero_workdays_moves_off_a_holiday():
    assert add_workdays(date(2026, 10, 1), 0) == date(2026, 10, 8)
    assert add_workdays(date(2026, 9, 30), 0) == date(2026, 9, 30)


def test_workdays_between_across_spring_festival():
    # (Fri 02-13, Tue 02-24]: Sat 02-14 (make-up) and Tue 02-24 are the only working days.
    assert workdays_between(date(2026, 2, 13), date(2026, 2, 24)) == 2
    assert workdays_between(date(2026, 2, 24), date(2026, 2, 13)) == 0
    assert workdays_between(date(2026, 2, 24), date(2026, 2, 24)) == 0


def test_quarterly_brief_after_q1_2026_waits_for_qingming():
    # Apr 1-3 work, Qingming Apr 4-6 off, Apr 7 and Apr 8 work: the 5th is Apr 8.
    assert nth_workday_after(date(2026, 3, 31), 5) == date(2026, 4, 8)


def test_nth_workday_after_rejects_zero():
    with pytest.raises(ValueError):
        nth_workday_after(date(2026, 3, 31), 0)


def test_uncovered_year_falls_back_to_weekends_with_one_warning(caplog, fresh_warnings):
    caplog.set_level(logging.WARNING, logger="oversight.workdays")
    assert is_workday(date(2031, 10, 1))  # a Wednesday: no holiday data, so it counts
    assert not is_workday(date(2031, 10, 4))  # Saturday
    assert not is_workday(date(2031, 10, 5))  # Sunday
    assert add_workdays(date(2031, 10, 3), 1) == date(2031, 10, 6)
    assert workdays_between(date(2031, 1, 1), date(2031, 1, 31)) == 22
    warnings = [r for r in caplog.records if r.name == "oversight.workdays"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "2031" in warnings[0].getMessage()


def test_each_uncovered_year_warns_once(caplog, fresh_warnings):
    caplog.set_level(logging.WARNING, logger="oversight.workdays")
    for _ in range(3):
        is_workday(date(2031, 5, 1))
        is_workday(date(2032, 5, 1))
    assert sorted(r.args[0] for r in caplog.records if r.name == "oversight.workdays") == [
        2031,
        2032,
    ]


def test_due_light():
    due = date(2026, 10, 10)  # make-up Saturday after National Day
    assert due_light(due=due, today=date(2026, 10, 11)) == "red"
    assert due_light(due=due, today=due) == "yellow"
    # Ten calendar days ahead, but only 10-08, 10-09 and 10-10 are working days.
    assert due_light(due=due, today=date(2026, 9, 30)) == "yellow"
    assert due_light(due=due, today=date(2026, 9, 29)) == "green"


@given(day=any_dates, n=st.integers(min_value=1, max_value=200))
def test_add_workdays_lands_on_a_workday(day, n):
    assert is_workday(add_workdays(day, n))
    assert is_workday(add_workdays(day, -n))


@given(day=covered_dates, n=st.integers(min_value=0, max_value=200))
def test_workdays_between_inverts_add_workdays(day, n):
    assume(is_workday(day))
    assert workdays_between(day, add_workdays(day, n)) == n
    assert workdays_between(add_workdays(day, -n), day) == n


@given(day=any_dates, n=st.integers(min_value=1, max_value=200))
def test_nth_workday_after_is_strictly_after(day, n):
    result = nth_workday_after(day, n)
    assert result > day
    assert workdays_between(day, result) == n


@given(
    a=covered_dates,
    b=covered_dates,
    n=st.integers(min_value=-100, max_value=100),
    m=st.integers(min_value=-100, max_value=100),
)
def test_add_workdays_is_monotonic(a, b, n, m):
    a, b = min(a, b), max(a, b)
    n, m = min(n, m), max(n, m)
    assert add_workdays(a, n) <= add_workdays(b, n)
    assert add_workdays(a, n) <= add_workdays(a, m)
