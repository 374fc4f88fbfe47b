"""Office hours ("mon-fri 09:00-17:00; sat 09:00-12:00") in the office's time zone: is a person
there now, and if not, when will one be."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta, timezone, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SPAN = re.compile(r"^(\w{3})(?:-(\w{3}))?\s+(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


def zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except ZoneInfoNotFoundError:
        if name == "Asia/Shanghai":  # no tzdata (slim images): Shanghai has no DST
            return timezone(timedelta(hours=8), "CST")
        raise


@dataclass(frozen=True, slots=True)
class Span:
    days: frozenset[int]  # 0 = Monday
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class OfficeHours:
    spans: tuple[Span, ...]
    tz: tzinfo

    @classmethod
    def parse(cls, spec: str, tz_name: str = "Asia/Shanghai") -> OfficeHours:
        """Raises ValueError with the part that is wrong."""
        spans = []
        for part in (p.strip().lower() for p in spec.split(";")):
            if not part:
                continue
            m = _SPAN.match(part)
            if not m or m[1] not in DAYS or (m[2] and m[2] not in DAYS):
                raise ValueError(f"office hours {part!r}: expected like 'mon-fri 09:00-17:00'")
            first, last = DAYS.index(m[1]), DAYS.index(m[2] or m[1])
            days = frozenset(d % 7 for d in range(first, last + 1 if last >= first else last + 8))
            try:
                start, end = time(int(m[3]), int(m[4])), time(int(m[5]), int(m[6]))
            except ValueError:
                raise ValueError(f"office hours {part!r}: not a time of day") from None
            if end <= start:
                raise ValueError(f"office hours {part!r}: the end must be after the start")
            spans.append(Span(days, start, end))
        if not spans:
            raise ValueError("office hours: at least one span like 'mon-fri 09:00-17:00'")
        return cls(tuple(spans), zone(tz_name))

    def is_open(self, now: datetime) -> bool:
        local = now.astimezone(self.tz)
        return any(local.weekday() in s.days and s.start <= local.time() < s.end for s in self.spans)

    def next_open(self, now: datetime) -> datetime:
        """The next opening after `now` (in the office's zone); `now` itself when open."""
        local = now.astimezone(self.tz)
        if self.is_open(now):
            return local
        for ahead in range(8):
            day = (local + timedelta(days=ahead)).date()
            starts = sorted(
                datetime.combine(day, s.start, self.tz) for s in self.spans if day.weekday() in s.days
            )
            for start in starts:
                if start > local:
                    return start
        return local  # unreachable: some span opens within a week


def utcnow() -> datetime:
    return datetime.now(UTC)
