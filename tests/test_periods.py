"""One period module for the brief, the notice rules, the review, the worker and the CLI:
the same key means the same days, label and bounds everywhere; each command takes the kinds
it can work on and refuses the others in Chinese."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from typer.testing import CliRunner

from lianxi.cli import app
from oversight import accountability, briefdata, periods
from oversight.periods import PeriodError, half_of, parse_period, previous_period, quarter_of

runner = CliRunner()


def test_keys_days_labels_and_bounds() -> None:
    q = parse_period("2026q1")
    assert (q.key, q.kind, q.first_day, q.last_day) == ("2026Q1", "quarterly", date(2026, 1, 1), date(2026, 3, 31))
    assert q.label == "2026年第一季度"
    assert q.start == datetime(2025, 12, 31, 16, tzinfo=UTC) and q.end == datetime(2026, 3, 31, 16, tzinfo=UTC)
    assert parse_period("2026Q4").last_day == date(2026, 12, 31)
    h = parse_period(" 2026H2 ")
    assert (h.first_day, h.last_day, h.label) == (date(2026, 7, 1), date(2026, 12, 31), "2026年下半年")
    a = parse_period("2026-04-15")
    assert (a.kind, a.first_day, a.last_day) == ("adhoc", date(2026, 4, 1), date(2026, 4, 15))
    assert a.label == "2026年4月1日至2026年4月15日"
    assert parse_period("adhoc-20260415T093000").key == "2026-04-15"
    assert previous_period("2026Q1") == "2025Q4" and previous_period("2026H1") == "2025H2"
    assert parse_period("2026-05-20").previous().key == "2026Q1"
    moment = datetime(2026, 6, 30, 16, 30, tzinfo=UTC)  # 1 July 00:30 in Beijing
    assert quarter_of(moment) == "2026Q3" and half_of(moment) == "2026H2"
    assert q.as_of(datetime(2026, 2, 1, tzinfo=UTC)) == datetime(2026, 2, 1, tzinfo=UTC)
    assert q.as_of(datetime(2026, 5, 1, tzinfo=UTC)) == q.end


@pytest.mark.parametrize("bad", ["2026Q5", "26Q1", "abc", "2026Q0", "2026H3", "2026-02-30", "1999Q1", "2026q1 x", ""])
def test_malformed_keys_are_refused_in_chinese(bad: str) -> None:
    with pytest.raises(PeriodError, match=r"期别.*格式不正确"):
        parse_period(bad)


def test_each_caller_takes_its_kinds() -> None:
    assert briefdata.parse_period("2026-04-15").kind == "adhoc"
    with pytest.raises(PeriodError, match="季度写作 2026Q1"):
        briefdata.parse_period("2026H1")
    assert accountability.parse_period("2026H1").kind == "halfyearly"
    with pytest.raises(PeriodError, match="半年写作 2026H1"):
        accountability.parse_period("2026-04-15")


def test_bounds_follow_the_configured_zone(settings_env, monkeypatch) -> None:
    from config.settings import get_settings

    monkeypatch.setenv("TIMEZONE", "Asia/Tokyo")
    get_settings.cache_clear()
    q = parse_period("2026Q1")
    assert q.start == datetime(2025, 12, 31, 15, tzinfo=UTC) and q.end == datetime(2026, 3, 31, 15, tzinfo=UTC)
    assert quarter_of(datetime(2026, 3, 31, 15, 30, tzinfo=UTC)) == "2026Q2"
    assert periods.local_midnight(date(2026, 1, 1)) == q.start


def test_the_commands_agree_on_a_period(settings_env, engine, banner_plan_id, tmp_path) -> None:
    """notices draft and review take quarters and halves with the same key and label; the
    brief takes quarters and meeting days; each refuses the rest with exit 2 and the forms."""
    draft = runner.invoke(app, ["notices", "draft", "--period", "2026h1", "--json"])
    assert draft.exit_code == 0, draft.output
    assert json.loads(draft.output)["period"] == "2026H1"
    nobody = runner.invoke(app, ["notices", "draft", "--period", "2026H1"])  # nobody has joined yet
    assert nobody.exit_code == 0 and nobody.output.endswith("：经核查，本期没有需要通报的单位。\n"), nobody.output
    review = runner.invoke(app, ["review", "--period", "2026H1", "--json"])
    assert review.exit_code == 0, review.output
    assert json.loads(review.output)["label"] == "2026年上半年"
    for args in (
        ["notices", "draft", "--period", "2026-04-15"],
        ["review", "--period", "2026Q5"],
        ["brief", "--period", "2026H1", "--out", str(tmp_path / "out")],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 2, (args, result.output)
        assert "格式不正确" in result.output and "2026Q1" in result.output
