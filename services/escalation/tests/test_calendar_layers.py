"""Holiday data in layers: provisional years, operator files, frozen calendars, recompute.

Across the 2026 -> 2027 year end and Spring Festival 2027, which `chinese-calendar` 1.11 does
not cover: deadlines are computed on the provisional calendar (statutory days + weekends)
and say so; an operator's file replaces it; a recompute step moves the open deadline.
The holiday files written here are test fixtures, not 2027's official schedule.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from complaints_escalation.domain.calendar import (
    CalendarSpec,
    HolidayData,
    HolidayYear,
    build_calendar,
)
from complaints_escalation.domain.ledger import ledger
from complaints_escalation.domain.policy import EscalationPolicy
from complaints_escalation.domain.selection import Selection
from complaints_escalation.domain.transitions import due_steps, on_classified, on_due, on_lifecycle
from complaints_escalation.outbound.holiday_files import HolidayFileError, load_holiday_files
from complaints_escalation.outbound.holidays import (
    chinese_calendar_years,
    layered,
    load_chinese_holidays,
)
from complaints_escalation.outbound.policy_file import load_policy
from complaints_schemas.events import LifecycleAction, Severity

from .factories import classified, lifecycle

SH = ZoneInfo("Asia/Shanghai")
POLICY_FILE = Path(__file__).resolve().parents[3] / "config" / "escalation" / "policy.yaml"
LIBRARY = load_chinese_holidays(Path("/nonexistent"))  # library + provisional, no files
CN_DAYS = build_calendar(
    CalendarSpec(name="cn-days", zone="Asia/Shanghai", national_holidays=True),
    holiday_data=LIBRARY,
)


def sh(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH)  # type: ignore[misc]


def end_of(d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), datetime.min.time(), SH)


@pytest.mark.parametrize(
    ("case", "start", "days", "expected", "provisional"),
    [
        # 2026-12-30 Wed: Dec 31, (Jan 1 holiday, weekend), Jan 4, Jan 5.
        ("T+3 across the year end", sh(2026, 12, 30, 10), 3, date(2027, 1, 5), (2027,)),
        ("T+1 on the last covered day", sh(2026, 12, 30, 10), 1, date(2026, 12, 31), ()),
        # 2027-02-04 Thu: Eve Feb 5 and Feb 6-8 off; Feb 9, 10, 11.
        ("T+3 across Spring Festival 2027", sh(2027, 2, 4, 10), 3, date(2027, 2, 11), (2027,)),
        # 5 working days from Fri 2027-04-30: May 1-2 statutory, weekend; May 3-7.
        ("5 working days over Labour Day", sh(2027, 4, 30, 10), 5, date(2027, 5, 7), (2027,)),
        # National Day 2027: Oct 1-3 statutory (Fri-Sun); Mon Oct 4 works provisionally.
        ("T+1 after National Day", sh(2027, 9, 30, 10), 1, date(2027, 10, 4), (2027,)),
        ("covered years stay official", sh(2026, 9, 30, 10), 1, date(2026, 10, 8), ()),
    ],
)
def test_working_days_on_provisional_years(
    case: str, start: datetime, days: int, expected: date, provisional: tuple[int, ...]
) -> None:
    end = CN_DAYS.add_working_days(start, days)
    assert end == end_of(expected), case
    sources = CN_DAYS.sources(start, end)
    assert tuple(y for y, s in sources if s.provisional) == provisional
    assert all("chinese-calendar" in s.name for y, s in sources if y == 2026)


def test_a_year_without_any_rule_is_weekends_only_and_provisional() -> None:
    year = LIBRARY.year(2350)  # beyond the statutory computation's range
    assert year.source.provisional
    assert year.holidays == frozenset()
    assert CN_DAYS.add_working_days(sh(2350, 1, 1, 10), 1) == end_of(date(2350, 1, 2))


def test_statutory_provisional_days_for_2027() -> None:
    year = LIBRARY.year(2027)
    assert year.source.provisional
    assert "statutory" in year.source.name
    assert {date(2027, 1, 1), date(2027, 2, 5), date(2027, 2, 8), date(2027, 10, 3)} <= (
        year.holidays
    )
    assert year.workdays == frozenset()  # no make-up workdays are known


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


FIXTURE_2027 = """\
# A test fixture, not the official 2027 schedule.
region: cn
year: 2027
notice:
  title: Test notice for 2027
  document: TEST-2027
holidays:
  - {name: New Year, from: 2027-01-01, to: 2027-01-04}
  - {from: 2027-02-05, to: 2027-02-12}
workdays:
  - 2027-02-20
"""


def test_an_operator_file_replaces_the_provisional_year(tmp_path: Path) -> None:
    _write(tmp_path, "cn-2027.yaml", FIXTURE_2027)
    data = load_chinese_holidays(tmp_path)
    cal = build_calendar(CN_DAYS.spec, holiday_data=data)  # type: ignore[arg-type]
    start = sh(2026, 12, 30, 10)
    # Dec 31, (Jan 1-4 off per the file), Jan 5, Jan 6.
    end = cal.add_working_days(start, 3)
    assert end == end_of(date(2027, 1, 6))
    [(_, _y2026), (_, y2027)] = cal.sources(start, end)
    assert not y2027.provisional
    assert y2027.name == "cn-2027.yaml (operator file)"
    assert "TEST-2027" in y2027.citation
    assert cal.is_working_day(date(2027, 2, 20))  # a make-up Saturday
    assert data.covered_until == date(2027, 12, 31)


def test_an_operator_file_overrides_the_library_for_its_year(tmp_path: Path) -> None:
    _write(
        tmp_path,
        "cn-2026.yaml",
        "region: cn\nyear: 2026\nnotice: {title: Test, document: T-1}\n"
        "holidays: [2026-03-02]\nworkdays: [2025-12-28]\n",
    )
    data = load_chinese_holidays(tmp_path)
    cal = build_calendar(CN_DAYS.spec, holiday_data=data)  # type: ignore[arg-type]
    assert not cal.is_working_day(date(2026, 3, 2))  # the file's
    assert cal.is_working_day(date(2026, 10, 1))  # the library's 2026 is replaced whole
    assert cal.is_working_day(date(2025, 12, 28))  # a date spilling into the year before
    assert not CN_DAYS.is_working_day(date(2026, 10, 1))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("region: cn\nyear: 2027\nholidays: []\n", ":1: notice must be a mapping"),
        (
            "region: cn\nyear: 2027\nnotice: {title: x}\n",
            ":3: notice: a url or a document number is required",
        ),
        ("region: mars\nyear: 2027\nnotice: {title: x, url: u}\n", ":1: region 'mars'"),
        ("region: cn\nyear: twenty\nnotice: {title: x, url: u}\n", ":1: year 'twenty'"),
        (
            "region: cn\nyear: 2027\nnotice: {title: x, url: u}\nholidays:\n"
            "  - {from: 2027-02-01, to: 2027-03-30}\n",
            ":5: holidays: 2027-02-01..2027-03-30 is not a range of a few days",
        ),
        (
            "region: cn\nyear: 2027\nnotice: {title: x, url: u}\nholidays:\n"
            "  - {from: 2027-02-31}\n",
            ":5: holidays: day is out of range",
        ),
        (
            "region: cn\nyear: 2027\nnotice: {title: x, url: u}\nholidays: [2030-01-01]\n",
            "is outside 2027",
        ),
        (
            "region: cn\nyear: 2027\nnotice: {title: x, url: u}\n"
            "holidays: [2027-02-20]\nworkdays: [2027-02-20]\n",
            "2027-02-20 is both a holiday and a workday",
        ),
        ("region: cn\nyear: 2027\nnotice: {title: x, url: u}\nextra: 1\n", "unknown key(s) extra"),
    ],
)
def test_invalid_holiday_files_name_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = _write(tmp_path, "cn-2027.yaml", text)
    with pytest.raises(HolidayFileError) as err:
        load_holiday_files(tmp_path, region="cn")
    assert str(err.value).startswith(str(path))
    assert message in str(err.value)


def test_two_files_for_one_year_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, "a.yaml", FIXTURE_2027)
    _write(tmp_path, "b.yaml", FIXTURE_2027)
    with pytest.raises(HolidayFileError, match="also defined in"):
        load_holiday_files(tmp_path, region="cn")


def _policy(path: Path = POLICY_FILE, holidays: HolidayData = LIBRARY) -> EscalationPolicy:
    return load_policy(path, holiday_data=holidays)


def _accepted(cid: str, at: datetime, severity: Severity = Severity.RED):  # type: ignore[no-untyped-def]
    return classified(cid, severity=severity, accepted_at=at, category="other", department="ops")


def test_a_complaint_accepted_on_2026_12_30_gets_every_clock() -> None:
    policy = _policy()
    state = on_classified(None, _accepted("C-1230", sh(2026, 12, 30, 10)), policy=policy).state
    clocks = {k.name: k for k in state.clocks}
    assert set(clocks) == {"response", "resolution", "closure"}
    assert clocks["response"].deadline == sh(2026, 12, 30, 10, 10)
    assert clocks["response"].holiday_sources == ()  # 24x7: no holiday data touched
    assert clocks["closure"].deadline == end_of(date(2027, 1, 5))
    assert clocks["closure"].provisional_years == (2027,)
    view = ledger(state, now=sh(2026, 12, 30, 11), calendars=policy.calendars)
    closure = next(c for c in view["clocks"] if c["name"] == "closure")
    assert closure["provisional"] is True
    assert [h["year"] for h in closure["holidays"]] == [2026, 2027]
    assert "chinese-calendar" in closure["holidays"][0]["source"]
    assert view["provisional_calendar"] is True
    # The breach of the closure clock says so.
    late = end_of(date(2027, 1, 5)) + timedelta(minutes=1)
    fired = [e.event for e in on_due(state, token=state.version, now=late)]
    closure_breach = next(e for e in fired if e.clock == "closure" and e.kind == "breach")
    assert closure_breach.provisional_years == (2027,)
    assert next(e for e in fired if e.clock == "response").provisional_years == ()


def test_elapsed_clocks_never_touch_holiday_data() -> None:
    def unavailable(year: int) -> HolidayYear:
        raise AssertionError(f"holiday data for {year} was asked for")

    data = HolidayData(region="cn", years={}, provisional=unavailable)
    policy = EscalationPolicy.response_only()
    policy = replace(policy, calendars=replace(policy.calendars, holiday_data=data))
    state = on_classified(None, _accepted("C-1", sh(2031, 1, 1, 10)), policy=policy).state
    assert [k.deadline for k in state.clocks] == [sh(2031, 1, 1, 10, 10)]


def test_daily_complaints_across_the_year_end_all_get_their_clocks() -> None:
    policy = _policy()
    day, provisional = sh(2026, 12, 20, 9), 0
    while day <= sh(2027, 3, 1, 9):
        state = on_classified(None, _accepted(f"C-{day:%m%d}", day), policy=policy).state
        assert {k.name for k in state.clocks} == {"response", "resolution", "closure"}
        provisional += any(k.provisional_years for k in state.clocks)
        day += timedelta(days=1)
    # From 2026-12-29 on, T+3 reaches into 2027: 3 days of December, 60 of 2027.
    assert provisional == 63


def _renamed_policy(tmp_path: Path) -> Path:
    text = POLICY_FILE.read_text(encoding="utf-8")
    # cn-days renamed and redefined (a six-day week), cn-office's hours changed.
    text = text.replace("cn-days:", "cn-whole-days:").replace(
        "calendar: cn-days", "calendar: cn-whole-days"
    )
    text, n = re.subn(
        r"  cn-whole-days: *#.*\n    zone: Asia/Shanghai\n",
        "  cn-whole-days:\n    zone: Asia/Shanghai\n    weekdays: [mon, tue, wed, thu, fri, sat]\n",
        text,
    )
    assert n == 1
    text = text.replace('version: "seeds-2025.1"', 'version: "seeds-2027.renamed"')
    path = tmp_path / "policy.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_renamed_or_edited_calendar_moves_no_open_deadline(tmp_path: Path) -> None:
    old = _policy()
    new = _policy(_renamed_policy(tmp_path))
    assert "cn-days" not in new.calendars.by_name
    cid, t0 = "C-frozen", sh(2026, 11, 5, 10)  # a Thursday
    state = on_classified(None, _accepted(cid, t0), policy=old).state
    closure = state.clock("closure")
    assert closure is not None
    assert closure.deadline == end_of(date(2026, 11, 10))
    # Paused for an hour under the new policy: the frozen calendar counts it (whole days).
    for action, hours in ((LifecycleAction.PAUSED, 1), (LifecycleAction.RESUMED, 2)):
        step = lifecycle(cid, action, at=t0 + timedelta(hours=hours))
        state = on_lifecycle(state, step, policy=new).state
    after = state.clock("closure")
    assert after is not None
    assert after.calendar == "cn-days"
    assert after.deadline == closure.deadline + timedelta(hours=1)
    # Only an explicit re-apply moves it to the renamed six-day calendar: Fri, Sat, Mon.
    step = lifecycle(cid, LifecycleAction.POLICY_REAPPLIED, at=t0 + timedelta(hours=3))
    moved = on_lifecycle(state, step, policy=new).state.clock("closure")
    assert moved is not None
    assert moved.calendar == "cn-whole-days"
    assert moved.deadline == end_of(date(2026, 11, 9)) + timedelta(hours=1)


def test_recompute_after_better_data_arrives(tmp_path: Path) -> None:
    cid, t0 = "C-recompute", sh(2026, 12, 30, 10)
    state = on_classified(None, _accepted(cid, t0), policy=_policy()).state
    assert state.clock("closure").provisional_years == (2027,)  # type: ignore[union-attr]
    _write(tmp_path, "cn-2027.yaml", FIXTURE_2027)
    better = _policy(holidays=load_chinese_holidays(tmp_path))
    step = lifecycle(
        cid,
        LifecycleAction.CALENDAR_RECOMPUTED,
        at=t0 + timedelta(hours=5),
        actor="ops.zhang",
        note="2027 notice loaded",
    )
    result = on_lifecycle(state, step, policy=better)
    closure = result.state.clock("closure")
    assert closure is not None
    assert closure.deadline == end_of(date(2027, 1, 6))  # Jan 4 is off in the file
    assert closure.provisional_years == ()
    assert result.state.policy_version == state.policy_version  # the policy stays frozen
    response = result.state.clock("response")
    assert response == state.clock("response")  # a 24x7 clock is untouched
    view = ledger(result.state, now=t0 + timedelta(hours=6), calendars=better.calendars)
    assert view["lifecycle"][-1] == {
        "action": "calendar_recomputed",
        "at": step.occurred_at.astimezone(UTC).isoformat(),
        "to_department": None,
        "actor": "ops.zhang",
        "note": "2027 notice loaded",
    }
    assert view["provisional_calendar"] is False


def test_every_lifecycle_step_keeps_who_and_why() -> None:
    policy = _policy()
    cid, t0 = "C-who", sh(2026, 11, 2, 10)
    state = on_classified(None, _accepted(cid, t0), policy=policy).state
    ack = lifecycle(
        cid, LifecycleAction.ACKNOWLEDGED, at=t0 + timedelta(minutes=3), actor="li", note="on it"
    )
    state = on_lifecycle(state, ack, policy=policy).state
    view = ledger(state, now=t0 + timedelta(minutes=4), calendars=policy.calendars)
    assert view["acknowledgements"] == [
        {
            "action": "acknowledged",
            "at": ack.occurred_at.astimezone(UTC).isoformat(),
            "event_id": ack.event_id,
            "actor": "li",
            "note": "on it",
        }
    ]
    assert not due_steps(state, token=state.version, now=t0 + timedelta(minutes=11))


def test_library_years_are_split_per_year() -> None:
    years = chinese_calendar_years()
    assert min(years) <= 2004
    assert max(years) == 2026
    assert all(d.year == y for y, data in years.items() for d in data.holidays | data.workdays)
    assert layered((), library=years).year(2025) is years[2025]


def test_selection_finds_open_complaints_on_a_provisional_calendar() -> None:
    policy = _policy()
    december = on_classified(None, _accepted("C-a", sh(2026, 12, 30, 10)), policy=policy).state
    november = on_classified(None, _accepted("C-b", sh(2026, 11, 2, 10)), policy=policy).state
    closed = on_lifecycle(
        december,
        lifecycle("C-a", LifecycleAction.CLOSED, at=sh(2027, 1, 4, 10)),  # a 2027 step applies
        policy=policy,
    ).state
    assert closed.status.value == "closed"
    table = [
        (Selection(provisional=True), [True, False, False]),
        (Selection(calendar="cn-days"), [True, True, False]),
        (Selection(calendar="cn-office"), [False, False, False]),
        (Selection(department="ops"), [True, True, False]),
        (Selection(department="payments"), [False, False, False]),
        (Selection(accepted_from=sh(2026, 12, 1)), [True, False, False]),
        (Selection(accepted_until=sh(2026, 12, 1)), [False, True, False]),
        (Selection(), [True, True, False]),
    ]
    for selection, expected in table:
        assert [selection.matches(s) for s in (december, november, closed)] == expected, selection


def test_the_worked_example_file_matches_chinese_calendar() -> None:
    example = Path(__file__).resolve().parents[3] / "docs" / "calendars"
    [found] = load_holiday_files(example, region="cn")
    library = chinese_calendar_years()[2026]
    assert found.year.holidays == library.holidays
    assert found.year.workdays == library.workdays
    assert found.spill == {}
