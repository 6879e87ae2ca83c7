"""Business calendars: working hours with breaks, weekends, holidays and make-up workdays.

Pure arithmetic on aware instants. Elapsed time is added in UTC; working time is walked
in the calendar's zone, one local day at a time (so DST days have their true length).
Holiday data is passed in (see outbound/holidays.py); a date outside the years it covers
raises HolidayDataMissing rather than silently treating a holiday as a workday.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

WEEKDAYS = frozenset(range(5))  # Monday..Friday
ALL_DAYS = frozenset(range(7))
# Longest stretch walked looking for working time (guards against a calendar with none).
MAX_DAYS = 3 * 366


class CalendarError(ValueError):
    """A calendar that cannot answer (bad definition, unknown name, no working time)."""


class HolidayDataMissing(CalendarError):
    """The holiday data does not cover the year asked about."""

    def __init__(self, *, calendar: str, day: date, covered: tuple[int, int]) -> None:
        super().__init__(
            f"calendar {calendar!r}: holiday data covers {covered[0]}-{covered[1]}, "
            f"not {day.isoformat()}"
        )
        self.year = day.year
        self.covered = covered


@dataclass(frozen=True, slots=True)
class HolidayData:
    """Official holidays and make-up workdays (调休) with the years they cover."""

    holidays: frozenset[date]
    workdays: frozenset[date]
    first_year: int
    last_year: int


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """A named calendar; no `hours` means whole days, all days and no holidays means 24x7."""

    name: str
    zone: tzinfo = UTC
    hours: tuple[tuple[time, time], ...] = ()
    weekdays: frozenset[int] = ALL_DAYS
    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()
    covered: tuple[int, int] | None = None
    _always: bool = field(init=False, repr=False, compare=False)
    # Working periods per local day, computed once (the calendar is immutable).
    _days: dict[date, tuple[tuple[datetime, datetime], ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        previous = time(0)
        for start, end in self.hours:
            if not start < end or start < previous:
                raise CalendarError(
                    f"calendar {self.name!r}: working periods must be ordered and not overlap"
                )
            previous = end
        if not self.weekdays and not self.workdays:
            raise CalendarError(f"calendar {self.name!r} has no working days")
        always = not self.hours and self.weekdays == ALL_DAYS and not self.holidays
        object.__setattr__(self, "_always", always and self.covered is None)

    @property
    def is_24x7(self) -> bool:
        return self._always

    def is_working_day(self, day: date) -> bool:
        """Make-up workdays work, holidays rest, otherwise the weekday decides."""
        if self.covered is not None and not self.covered[0] <= day.year <= self.covered[1]:
            raise HolidayDataMissing(calendar=self.name, day=day, covered=self.covered)
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() in self.weekdays

    def periods(self, day: date) -> tuple[tuple[datetime, datetime], ...]:
        """The working periods of a local day as UTC instants (none on a rest day)."""
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = tuple(self._compute_periods(day))
        return found

    def _compute_periods(self, day: date) -> Iterator[tuple[datetime, datetime]]:
        if not self.is_working_day(day):
            return
        if not self.hours:
            yield self._instant(day, time(0)), self._instant(day + timedelta(days=1), time(0))
            return
        for start, end in self.hours:
            yield self._instant(day, start), self._instant(day, end)

    def add_business(self, start: datetime, amount: timedelta) -> datetime:
        """The instant when `amount` of working time has passed since `start`."""
        if amount < timedelta(0):
            raise CalendarError("working time to add must not be negative")
        if self._always:
            return start + amount
        remaining = amount
        for period_start, period_end in self._periods_from(start):
            begin = max(start, period_start)
            if begin >= period_end:
                continue
            if remaining <= period_end - begin:
                if remaining == timedelta(0):
                    return begin
                return begin + remaining
            remaining -= period_end - begin
        raise CalendarError(f"calendar {self.name!r}: no working time within {MAX_DAYS} days")

    def add_working_days(self, start: datetime, days: int) -> datetime:
        """End of the `days`-th working day after the start's local date (T+days)."""
        if days < 1:
            raise CalendarError("working days to add must be at least 1")
        day = start.astimezone(self.zone).date()
        for _ in range(MAX_DAYS):
            day += timedelta(days=1)
            ends = [end for _, end in self.periods(day)]
            if ends:
                days -= 1
                if days == 0:
                    return ends[-1]
        raise CalendarError(f"calendar {self.name!r}: no working days within {MAX_DAYS} days")

    def business_between(self, start: datetime, end: datetime) -> timedelta:
        """Working time within [start, end); zero when end is not after start."""
        if end <= start:
            return timedelta(0)
        if self._always:
            return end - start
        total = timedelta(0)
        for period_start, period_end in self._periods_from(start):
            if period_start >= end:
                break
            begin, finish = max(start, period_start), min(end, period_end)
            if finish > begin:
                total += finish - begin
        return total

    def _periods_from(self, start: datetime) -> Iterator[tuple[datetime, datetime]]:
        day = start.astimezone(self.zone).date() - timedelta(
            days=1
        )  # a period may span midnight UTC
        for offset in range(MAX_DAYS):
            yield from self.periods(day + timedelta(days=offset))

    def _instant(self, day: date, at: time) -> datetime:
        # fold=0: an ambiguous local time (DST end) is its first occurrence.
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)


CALENDAR_24X7 = WorkingCalendar(name="24x7")


@dataclass(frozen=True, slots=True)
class CalendarSpec:
    """A calendar as configured: zone, periods, weekdays, holiday data use and extra dates."""

    name: str
    zone: str = "UTC"
    hours: tuple[tuple[time, time], ...] = ()
    weekdays: frozenset[int] = WEEKDAYS
    national_holidays: bool = False
    extra_holidays: frozenset[date] = frozenset()
    extra_workdays: frozenset[date] = frozenset()


def build_calendar(spec: CalendarSpec, *, holiday_data: HolidayData | None) -> WorkingCalendar:
    """A working calendar from its spec and the holiday data (organisation dates win)."""
    try:
        zone: tzinfo = ZoneInfo(spec.zone)
    except (KeyError, ValueError) as exc:
        raise CalendarError(f"calendar {spec.name!r}: unknown time zone {spec.zone!r}") from exc
    holidays, workdays, covered = frozenset[date](), frozenset[date](), None
    if spec.national_holidays:
        if holiday_data is None:
            raise CalendarError(f"calendar {spec.name!r} needs national holiday data")
        holidays, workdays = holiday_data.holidays, holiday_data.workdays
        covered = (holiday_data.first_year, holiday_data.last_year)
    return WorkingCalendar(
        name=spec.name,
        zone=zone,
        hours=spec.hours,
        weekdays=spec.weekdays,
        holidays=(holidays - spec.extra_workdays) | spec.extra_holidays,
        workdays=(workdays - spec.extra_holidays) | spec.extra_workdays,
        covered=covered,
    )


@dataclass(frozen=True, slots=True)
class Calendars:
    """Calendars by name, and which calendar each department uses instead of a clock's own."""

    by_name: Mapping[str, WorkingCalendar] = field(
        default_factory=lambda: {CALENDAR_24X7.name: CALENDAR_24X7}
    )
    by_department: Mapping[str, str] = field(default_factory=dict)

    def get(self, name: str) -> WorkingCalendar:
        try:
            return self.by_name[name]
        except KeyError:
            raise CalendarError(f"unknown calendar {name!r}") from None

    def for_clock(self, name: str, *, department: str) -> WorkingCalendar:
        """A business clock uses its department's calendar when one is set, else its own."""
        if name == CALENDAR_24X7.name:
            return CALENDAR_24X7
        return self.get(self.by_department.get(department, name))
