"""Reads an operator's holiday files (config/calendars/*.yaml); errors name the file and line.

One file per region and year, copied from the official notice it cites:

    region: cn
    year: 2027
    notice:
      title: 国务院办公厅关于2027年部分节假日安排的通知
      url: https://www.gov.cn/...
      published: 2026-11-04
    holidays:                       # days off: single days or ranges
      - {name: 元旦, from: 2027-01-01, to: 2027-01-03}
    workdays:                       # make-up workdays (调休上班)
      - 2027-02-20
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from complaints_escalation.domain.calendar import HolidayFile, HolidaySource, HolidayYear
from complaints_escalation.outbound.yaml_lines import ConfigError, Node, Reader

REGIONS = frozenset({"cn"})
# A break may start in the last days of the year before (New Year) or run into the next.
SPILL_DAYS = 15
LONGEST_BREAK = timedelta(days=15)


class HolidayFileError(ConfigError):
    """An invalid holiday file; the message starts with `file:line:`."""


def load_holiday_files(directory: Path, *, region: str) -> tuple[HolidayFile, ...]:
    """Every `*.yaml` in `directory` for `region`, validated; two files for one year fail."""
    files: dict[int, HolidayFile] = {}
    for path in sorted(directory.glob("*.yaml")):
        found = _FileReader(path).read()
        if found.region != region:
            continue
        other = files.get(found.year.year)
        if other is not None:
            raise HolidayFileError(
                f"{path}:1: {region} {found.year.year} is also defined in {other.path}"
            )
        files[found.year.year] = found
    return tuple(files[y] for y in sorted(files))


class _FileReader(Reader):
    error = HolidayFileError
    what = "holiday file"

    def read(self) -> HolidayFile:
        root = self.mapping(self.load(), "the file")
        self.check_keys(root, "top level", {"region", "year", "notice", "holidays", "workdays"})
        region = str(root.get("region", ""))
        if region not in REGIONS:
            raise self.fail(root, f"region {region!r}: known regions are {sorted(REGIONS)}")
        year = root.get("year")
        if not isinstance(year, int) or isinstance(year, bool) or not 1949 <= year <= 2200:
            raise self.fail(root, f"year {year!r}: a year such as 2027")
        notice = self.mapping(root.get("notice"), "notice", root)
        self.check_keys(notice, "notice", {"title", "url", "published", "document"})
        if not str(notice.get("title") or "").strip():
            raise self.fail(notice, "notice: the official notice's title is required")
        if not (notice.get("url") or notice.get("document")):
            raise self.fail(notice, "notice: a url or a document number is required")
        holidays = self.days(root.get("holidays"), "holidays", root, year)
        workdays = self.days(root.get("workdays"), "workdays", root, year)
        both = holidays & workdays
        if both:
            raise self.fail(root, f"{min(both)} is both a holiday and a workday")
        citation = " ".join(
            str(notice[k]) for k in ("title", "document", "url", "published") if notice.get(k)
        )
        source = HolidaySource(f"{self.path.name} (operator file)", citation=citation)
        inside = {d for d in holidays | workdays if d.year == year}
        return HolidayFile(
            path=str(self.path),
            region=region,
            year=HolidayYear(
                year=year,
                holidays=frozenset(d for d in holidays if d in inside),
                workdays=frozenset(d for d in workdays if d in inside),
                source=source,
            ),
            spill={d: d in holidays for d in holidays | workdays if d not in inside},
        )

    def days(self, raw: Any, where: str, parent: Node, year: int) -> frozenset[date]:
        if raw is None:
            return frozenset()
        if not isinstance(raw, list):
            raise self.fail(parent, f"{where} must be a list of dates or ranges")
        earliest = date(year, 1, 1) - timedelta(days=SPILL_DAYS)
        latest = date(year, 12, 31) + timedelta(days=SPILL_DAYS)
        days: set[date] = set()
        for item in raw:
            node = item if isinstance(item, Node) else parent
            first, last = self.guard(node, where, lambda item=item: _span(item))  # type: ignore[misc]
            if last < first or last - first >= LONGEST_BREAK:
                raise self.fail(node, f"{where}: {first}..{last} is not a range of a few days")
            if first < earliest or last > latest:
                raise self.fail(node, f"{where}: {first}..{last} is outside {year}")
            days.update(first + timedelta(days=n) for n in range((last - first).days + 1))
        return frozenset(days)


def _span(item: Any) -> tuple[date, date]:
    if isinstance(item, dict):
        unknown = set(item) - {"from", "to", "name", "on"}
        if unknown:
            raise ValueError(f"unknown key(s) {', '.join(sorted(unknown))}")
        if "on" in item:
            day = _date(item["on"])
            return day, day
        return _date(item["from"]), _date(item.get("to", item["from"]))
    day = _date(item)
    return day, day


def _date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))
