"""Loads China's official holidays and make-up workdays (调休) from `chinese-calendar` at start."""

from __future__ import annotations

from complaints_escalation.domain.calendar import HolidayData


def load_chinese_holidays() -> HolidayData:
    """The package's holiday and workday sets with the years they cover."""
    import chinese_calendar  # imported here: nothing heavy at module import

    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    years = sorted({d.year for d in holidays | workdays})
    return HolidayData(
        holidays=holidays, workdays=workdays, first_year=years[0], last_year=years[-1]
    )
