"""China's holidays and make-up workdays (调休) in layers, loaded at start.

1. An operator's holiday files (config/calendars/*.yaml, one per region and year, each citing
   the official notice): they override everything below for their year.
2. `chinese-calendar` for the years it covers (it publishes each year's State Council notice).
3. Any other year: the statutory days that the `holidays` package computes for China, plus
   weekends, marked provisional. The package knows which days the law makes holidays, not the
   make-up workdays the State Council announces each November, nor the days it moves to make
   a long break: a provisional calendar has fewer days off than the real one, so its
   deadlines fall early (an alert comes too soon, never too late).
"""

from __future__ import annotations

from datetime import date
from functools import cache
from importlib.metadata import version
from pathlib import Path

from complaints_escalation.domain.calendar import (
    HolidayData,
    HolidayFile,
    HolidaySource,
    HolidayYear,
    weekends_only,
)
from complaints_escalation.outbound.holiday_files import load_holiday_files

REGION = "cn"
# The repository's holiday files when run from a checkout (tests, `complaints dev`, the image).
DEFAULT_HOLIDAY_DIR = Path("config/calendars")
_REPO_HOLIDAY_DIR = Path(__file__).resolve().parents[5] / DEFAULT_HOLIDAY_DIR


def default_holiday_dir() -> Path | None:
    for candidate in (DEFAULT_HOLIDAY_DIR, _REPO_HOLIDAY_DIR):
        if candidate.is_dir():
            return candidate
    return None


def load_chinese_holidays(holiday_dir: Path | None = None) -> HolidayData:
    """The layered holiday data for mainland China; files from `holiday_dir` (default above)."""
    directory = holiday_dir or default_holiday_dir()
    files = load_holiday_files(directory, region=REGION) if directory is not None else ()
    return layered(files, library=chinese_calendar_years())


def layered(files: tuple[HolidayFile, ...], *, library: dict[int, HolidayYear]) -> HolidayData:
    """Files over the library; other years provisional from the statutory days."""
    years = dict(library)
    spill: dict[date, bool] = {}
    for f in files:
        years[f.year.year] = f.year
        spill.update(f.spill)
    return HolidayData(region=REGION, years=years, provisional=statutory_year, spill=spill)


@cache
def chinese_calendar_years() -> dict[int, HolidayYear]:
    """chinese-calendar's holidays and workdays, one entry per year it covers."""
    import chinese_calendar  # imported here: nothing heavy at module import

    source = HolidaySource(
        f"chinese-calendar {version('chinese-calendar')}",
        citation="State Council holiday notices as packaged by chinese-calendar",
    )
    holidays = frozenset(chinese_calendar.holidays)
    workdays = frozenset(chinese_calendar.workdays)
    years = sorted({d.year for d in holidays | workdays})
    return {
        y: HolidayYear(
            year=y,
            holidays=frozenset(d for d in holidays if d.year == y),
            workdays=frozenset(d for d in workdays if d.year == y),
            source=source,
        )
        for y in years
    }


def statutory_year(year: int) -> HolidayYear:
    """The days China's law makes holidays in `year` (no make-up workdays): provisional."""
    import holidays as holidays_package

    try:
        days = holidays_package.country_holidays("CN", years=year, observed=False)
    except (NotImplementedError, ValueError, KeyError):
        return weekends_only(year)
    return HolidayYear(
        year=year,
        holidays=frozenset(d for d in days if d.year == year),
        workdays=frozenset(),
        source=HolidaySource(
            f"provisional: holidays {version('holidays')} statutory days, no make-up workdays",
            citation="Provisions on National Holidays (全国年节及纪念日放假办法), as computed by "
            "the holidays package; replace with the State Council notice when published",
            provisional=True,
        ),
    )
