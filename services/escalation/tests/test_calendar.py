"""Table-driven calendar arithmetic with exact instants (holiday data from chinese-calendar)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from complaints_escalation.domain.calendar import (
    ALL_DAYS,
    CALENDAR_24X7,
    CalendarError,
    CalendarSpec,
    WorkingCalendar,
    build_calendar,
)
from complaints_escalation.outbound.holidays import load_chinese_holidays

SH = ZoneInfo("Asia/Shanghai")
HOLIDAYS = load_chinese_holidays()
OFFICE = build_calendar(
    CalendarSpec(
        name="cn-office",
        zone="Asia/Shanghai",
        hours=((time(9), time(12)), (time(13, 30), time(18))),
        national_holidays=True,
    ),
    holiday_data=HOLIDAYS,
)
CN_DAYS = build_calendar(
    CalendarSpec(name="cn-days", zone="Asia/Shanghai", national_holidays=True),
    holiday_data=HOLIDAYS,
)
H = timedelta(hours=1)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


@pytest.mark.parametrize(
    ("case", "start", "amount", "expected"),
    [
        ("inside a period", sh(2025, 3, 3, 9, 30), H, sh(2025, 3, 3, 10, 30)),
        ("crosses the lunch break", sh(2025, 3, 3, 11, 0), 2 * H, sh(2025, 3, 3, 14, 30)),
        ("starts in the lunch break", sh(2025, 3, 3, 12, 30), H, sh(2025, 3, 3, 14, 30)),
        ("ends exactly at lunch", sh(2025, 3, 3, 11, 0), H, sh(2025, 3, 3, 12, 0)),
        ("starts before opening", sh(2025, 3, 3, 7, 0), H, sh(2025, 3, 3, 10, 0)),
        ("crosses a weekend", sh(2025, 3, 7, 17, 0), 2 * H, sh(2025, 3, 10, 10, 0)),
        ("starts on a Sunday", sh(2025, 3, 9, 15, 0), H, sh(2025, 3, 10, 10, 0)),
        ("crosses Spring Festival", sh(2025, 1, 27, 17, 0), 2 * H, sh(2025, 2, 5, 10, 0)),
        ("starts in Spring Festival", sh(2025, 1, 30, 10, 0), H, sh(2025, 2, 5, 10, 0)),
        ("make-up Saturday works", sh(2025, 2, 7, 17, 0), 2 * H, sh(2025, 2, 8, 10, 0)),
        ("make-up Sunday works", sh(2025, 1, 25, 10, 0), H, sh(2025, 1, 26, 10, 0)),
        ("a full day and a half", sh(2025, 3, 3, 9, 0), 11 * H, sh(2025, 3, 4, 14, 0)),
        ("zero from outside hours", sh(2025, 3, 8, 10, 0), timedelta(0), sh(2025, 3, 10, 9, 0)),
    ],
)
def test_add_business_hours(
    case: str, start: datetime, amount: timedelta, expected: datetime
) -> None:
    assert OFFICE.add_business(start.astimezone(UTC), amount) == expected


@pytest.mark.parametrize(
    ("case", "calendar", "start", "days", "expected"),
    [
        ("T+3 from Friday evening", OFFICE, sh(2025, 3, 7, 20, 0), 3, sh(2025, 3, 12, 18, 0)),
        ("5 working days from Friday evening", OFFICE, sh(2025, 3, 7, 20), 5, sh(2025, 3, 14, 18)),
        ("T+3 from Monday morning", OFFICE, sh(2025, 3, 3, 9, 0), 3, sh(2025, 3, 6, 18, 0)),
        # Sat 25 rests, Sun 26 is a make-up day, Mon 27, holidays 28 Jan - 4 Feb, Wed 5 ...
        ("5 working days over Spring Festival", OFFICE, sh(2025, 1, 24, 20), 5, sh(2025, 2, 7, 18)),
        ("T+3 reaches the make-up Saturday", OFFICE, sh(2025, 2, 4, 20), 4, sh(2025, 2, 8, 18)),
        ("whole-day calendar ends at midnight", CN_DAYS, sh(2025, 3, 7, 20), 3, sh(2025, 3, 13)),
    ],
)
def test_add_working_days(
    case: str, calendar: WorkingCalendar, start: datetime, days: int, expected: datetime
) -> None:
    assert calendar.add_working_days(start, days) == expected


def test_pause_and_resume_across_a_holiday() -> None:
    """An 8 h business clock paused before Spring Festival resumes with what was left."""
    started, target = sh(2025, 1, 27, 9, 0), 8 * H
    paused = sh(2025, 1, 27, 14, 0)  # 3 h before lunch + 30 min after = 3.5 h used
    used = OFFICE.business_between(started, paused)
    assert used == 3.5 * H
    resumed = sh(2025, 1, 30, 10, 0)  # the customer answers during the holiday
    deadline = OFFICE.add_business(resumed, target - used)
    assert deadline == sh(2025, 2, 5, 15, 0)  # 3 h in the morning, 1.5 h after lunch
    assert OFFICE.business_between(resumed, deadline) == target - used


@pytest.mark.parametrize(
    ("case", "calendar", "start", "amount", "expected"),
    [
        (
            "Berlin office over the spring-forward weekend",
            WorkingCalendar(
                name="de",
                zone=ZoneInfo("Europe/Berlin"),
                hours=((time(9), time(17)),),
                weekdays=frozenset(range(5)),
            ),
            datetime(2025, 3, 28, 15, 0, tzinfo=UTC),  # 16:00 CET
            2 * H,
            datetime(2025, 3, 31, 8, 0, tzinfo=UTC),  # 10:00 CEST
        ),
        (
            "New York whole days: 2 Nov 2025 lasts 25 hours",
            WorkingCalendar(
                name="ny",
                zone=ZoneInfo("America/New_York"),
                weekdays=ALL_DAYS,
                holidays=frozenset({date(2025, 11, 1)}),
            ),
            datetime(2025, 11, 1, 16, 0, tzinfo=UTC),  # a holiday: nothing counts until midnight
            25 * H,
            datetime(2025, 11, 3, 5, 0, tzinfo=UTC),  # midnight EST
        ),
        (
            "24x7 is elapsed UTC time across DST",
            CALENDAR_24X7,
            datetime(2025, 3, 30, 0, 30, tzinfo=UTC),
            3 * H,
            datetime(2025, 3, 30, 3, 30, tzinfo=UTC),
        ),
    ],
)
def test_dst_zones(
    case: str, calendar: WorkingCalendar, start: datetime, amount: timedelta, expected: datetime
) -> None:
    assert calendar.add_business(start, amount) == expected
    assert calendar.business_between(start, expected) == amount


def test_new_york_working_day_ends_at_local_midnight_after_dst() -> None:
    ny = WorkingCalendar(
        name="ny",
        zone=ZoneInfo("America/New_York"),
        weekdays=ALL_DAYS,
        holidays=frozenset({date(2025, 11, 1)}),
    )
    end = ny.add_working_days(datetime(2025, 11, 1, 12, 0, tzinfo=UTC), 1)
    assert end == datetime(2025, 11, 3, 5, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (CalendarSpec(name="x", zone="Mars/Olympus"), "unknown time zone"),
        (CalendarSpec(name="x", hours=((time(13), time(12)),)), "ordered"),
        (CalendarSpec(name="x", hours=((time(9), time(12)), (time(11), time(13)))), "overlap"),
        (CalendarSpec(name="x", national_holidays=True), "needs national holiday data"),
    ],
)
def test_bad_calendars(spec: CalendarSpec, message: str) -> None:
    with pytest.raises(CalendarError, match=message):
        build_calendar(spec, holiday_data=None)


def test_organisation_dates_override_national_ones() -> None:
    cal = build_calendar(
        CalendarSpec(
            name="org",
            zone="Asia/Shanghai",
            national_holidays=True,
            extra_holidays=frozenset({date(2025, 3, 3)}),
            extra_workdays=frozenset({date(2025, 2, 3)}),  # works on a Spring Festival day
        ),
        holiday_data=HOLIDAYS,
    )
    assert not cal.is_working_day(date(2025, 3, 3))
    assert cal.is_working_day(date(2025, 2, 3))
    assert not cal.is_working_day(date(2025, 2, 2))
