"""Business calendars: working hours with breaks, weekends, holidays and make-up workdays.

Pure arithmetic on aware instants. Elapsed time is added in UTC; working time is walked
in the calendar's zone, one local day at a time (so DST days have their true length).
Holiday data comes in layers (see outbound/holidays.py): a year no source covers is
answered from a provisional layer, marked as such, never refused: a calendar gap must not
leave a complaint without clocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo

WEEKDAYS = frozenset(range(5))  # Monday..Friday
ALL_DAYS = frozenset(range(7))
# Longest stretch walked looking for working time (guards against a calendar with none).
MAX_DAYS = 3 * 366


class CalendarError(ValueError):
    """A calendar that cannot answer (bad definition, unknown name, no working time)."""


@dataclass(frozen=True, slots=True)
class HolidaySource:
    """Where a year's holidays come from: an operator's file, a package, or a provisional guess."""

    name: str
    citation: str = ""
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class HolidayYear:
    """One year's official days off and make-up workdays (调休), and their source."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: HolidaySource


@dataclass(frozen=True, slots=True)
class HolidayFile:
    """An operator's holiday file: one year of one region, and dates it lists outside it."""

    path: str
    region: str
    year: HolidayYear
    spill: Mapping[date, bool] = field(default_factory=dict)  # True: day off


def weekends_only(year: int) -> HolidayYear:
    """The last resort for a year nothing covers: no holidays at all, provisional."""
    return HolidayYear(
        year=year,
        holidays=frozenset(),
        workdays=frozenset(),
        source=HolidaySource("weekends only (no holiday data)", provisional=True),
    )


@dataclass(frozen=True, slots=True, eq=False)  # compared and hashed by identity
class HolidayData:
    """A region's holidays by year; `provisional` answers for the years `years` lacks.

    `spill` holds dates an operator's file lists outside its own year (a New Year break that
    starts on 30 December); they win over whatever the neighbouring year says.
    """

    region: str
    years: Mapping[int, HolidayYear]
    provisional: Callable[[int], HolidayYear] = weekends_only
    spill: Mapping[date, bool] = field(default_factory=dict)  # True: day off
    _guessed: dict[int, HolidayYear] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def year(self, year: int) -> HolidayYear:
        found = self.years.get(year)
        if found is not None:
            return found
        guessed = self._guessed.get(year)
        if guessed is None:
            guessed = self._guessed[year] = self.provisional(year)
        return guessed

    def day_off(self, day: date) -> bool | None:
        """True on a holiday, False on a make-up workday, None when the weekday decides."""
        spilled = self.spill.get(day)
        if spilled is not None:
            return spilled
        data = self.year(day.year)
        if day in data.workdays:
            return False
        if day in data.holidays:
            return True
        return None

    @property
    def covered_until(self) -> date | None:
        """The last day of the last year a non-provisional source covers."""
        years = [y for y, d in self.years.items() if not d.source.provisional]
        return date(max(years), 12, 31) if years else None


@dataclass(frozen=True, slots=True)
class WorkingCalendar:
    """A named calendar; no `hours` means whole days, all days and no holidays means 24x7."""

    name: str
    zone: tzinfo = UTC
    hours: tuple[tuple[time, time], ...] = ()
    weekdays: frozenset[int] = ALL_DAYS
    holidays: frozenset[date] = frozenset()  # the organisation's own: they win
    workdays: frozenset[date] = frozenset()
    holiday_data: HolidayData | None = None
    # What the calendar was built from; frozen into a clock so a policy edit cannot move it.
    spec: CalendarSpec | None = None
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
        object.__setattr__(self, "_always", always and self.holiday_data is None)

    @property
    def is_24x7(self) -> bool:
        return self._always

    def is_working_day(self, day: date) -> bool:
        """Make-up workdays work, holidays rest, otherwise the weekday decides."""
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if self.holiday_data is not None:
            off = self.holiday_data.day_off(day)
            if off is not None:
                return not off
        return day.weekday() in self.weekdays

    def sources(self, start: datetime, end: datetime) -> tuple[tuple[int, HolidaySource], ...]:
        """The holiday source of each local year from `start` to `end` (none without data)."""
        if self.holiday_data is None:
            return ()
        first = start.astimezone(self.zone).year
        # A deadline at midnight ends the day before: its year is that day's.
        last = max(first, (end - timedelta(microseconds=1)).astimezone(self.zone).year)
        return tuple((y, self.holiday_data.year(y).source) for y in range(first, last + 1))

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
    if spec.national_holidays and holiday_data is None:
        raise CalendarError(f"calendar {spec.name!r} needs national holiday data")
    return WorkingCalendar(
        name=spec.name,
        zone=zone,
        hours=spec.hours,
        weekdays=spec.weekdays,
        holidays=spec.extra_holidays - spec.extra_workdays,
        workdays=spec.extra_workdays,
        holiday_data=holiday_data if spec.national_holidays else None,
        spec=spec,
    )


@dataclass(frozen=True, slots=True)
class Calendars:
    """Calendars by name, which calendar each department uses, and the holiday data.

    `build` turns a spec frozen into a clock back into a calendar, whatever the policy now
    calls its calendars: an edit or a rename moves no open deadline by itself.
    """

    by_name: Mapping[str, WorkingCalendar] = field(
        default_factory=lambda: {CALENDAR_24X7.name: CALENDAR_24X7}
    )
    by_department: Mapping[str, str] = field(default_factory=dict)
    holiday_data: HolidayData | None = None
    _built: dict[CalendarSpec, WorkingCalendar] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

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

    def build(self, spec: CalendarSpec) -> WorkingCalendar:
        """The calendar of a frozen spec, on today's holiday data (cached per spec)."""
        found = self._built.get(spec)
        if found is None:
            current = self.by_name.get(spec.name)
            if current is not None and current.spec == spec:
                found = current
            else:
                found = build_calendar(spec, holiday_data=self.holiday_data)
            self._built[spec] = found
        return found
