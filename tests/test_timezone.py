"""The zone every date is shown and scheduled in comes from Settings (TIMEZONE), not from the code:
the same moment is a different calendar day, clock time and schedule fire in another zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from config.settings import get_settings
from oversight.dates import cn_datetime
from oversight.problems import local_date
from oversight.schedules import next_fire_time

# 2026-03-31 16:30 UTC: 4月1日 00:30 in Beijing time, still 3月31日 22:30 in Xinjiang time (UTC+6).
MOMENT = datetime(2026, 3, 31, 16, 30, tzinfo=UTC)


@pytest.fixture
def zone(monkeypatch: pytest.MonkeyPatch):
    def use(name: str) -> None:
        monkeypatch.setenv("TIMEZONE", name)
        get_settings.cache_clear()

    yield use
    get_settings.cache_clear()


def test_the_shown_day_and_time_follow_the_settings_zone(zone) -> None:
    zone("Asia/Shanghai")
    assert local_date(MOMENT).isoformat() == "2026-04-01"
    assert cn_datetime(MOMENT) == "2026年4月1日 00:30"
    zone("Asia/Urumqi")
    assert local_date(MOMENT).isoformat() == "2026-03-31"
    assert cn_datetime(MOMENT) == "2026年3月31日 22:30"


def test_a_schedule_fires_at_the_clock_time_of_the_settings_zone(zone) -> None:
    zone("Asia/Shanghai")
    beijing = next_fire_time("每天 08:00", MOMENT)
    zone("Asia/Urumqi")
    urumqi = next_fire_time("每天 08:00", MOMENT)
    assert beijing is not None and urumqi is not None
    assert beijing.astimezone(UTC) == datetime(2026, 4, 1, 0, 0, tzinfo=UTC)
    assert urumqi.astimezone(UTC) == datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
