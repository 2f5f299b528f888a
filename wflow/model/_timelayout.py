"""Go-style time layouts (`"2006-01-02T15:04:05Z07:00"`), time zones, for both languages.

Wippy's `time` module formats and parses with Go's reference-time layouts; Lua's `t:format`
and `time.parse` and Python's `wflow.time.format` / `parse` use these functions, so both
languages agree on every layout. Zones come from the IANA database (`zoneinfo`): the same
answer on every worker with the same database, so workflows stay deterministic.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import datetime, timedelta, timezone, tzinfo

from wflow.model._errors import ErrorKind, WflowError

__all__ = ["LAYOUTS", "format_layout", "load_zone", "parse_layout", "zone_offset"]

LAYOUTS = {
    "LAYOUT": "01/02 03:04:05PM '06 -0700",
    "ANSIC": "Mon Jan _2 15:04:05 2006",
    "UNIX_DATE": "Mon Jan _2 15:04:05 MST 2006",
    "RUBY_DATE": "Mon Jan 02 15:04:05 -0700 2006",
    "RFC822": "02 Jan 06 15:04 MST",
    "RFC822Z": "02 Jan 06 15:04 -0700",
    "RFC850": "Monday, 02-Jan-06 15:04:05 MST",
    "RFC1123": "Mon, 02 Jan 2006 15:04:05 MST",
    "RFC1123Z": "Mon, 02 Jan 2006 15:04:05 -0700",
    "RFC3339": "2006-01-02T15:04:05Z07:00",
    "RFC3339NANO": "2006-01-02T15:04:05.999999999Z07:00",
    "KITCHEN": "3:04PM",
    "STAMP": "Jan _2 15:04:05",
    "STAMP_MILLI": "Jan _2 15:04:05.000",
    "STAMP_MICRO": "Jan _2 15:04:05.000000",
    "STAMP_NANO": "Jan _2 15:04:05.000000000",
    "DATE_TIME": "2006-01-02 15:04:05",
    "DATE_ONLY": "2006-01-02",
    "TIME_ONLY": "15:04:05",
}
"""Go's layout constants, under the names Wippy's `time` module gives them."""

_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip

# Longest first where one token is a prefix of another (Go's nextStdChunk order).
_TOKEN = re.compile(
    r"January|Jan|Monday|Mon|MST|2006|002|01|02|03|04|05|06|__2|_2|15|1|2|3|4|5|PM|pm"
    r"|Z07:00:00|Z070000|Z07:00|Z0700|Z07|-07:00:00|-070000|-07:00|-0700|-07"
    r"|[.,](?:0+|9+)(?![0-9])"
)


def _tokens(layout: str) -> list[tuple[bool, str]]:
    out: list[tuple[bool, str]] = []
    pos = 0
    for match in _TOKEN.finditer(layout):
        if match.start() > pos:
            out.append((False, layout[pos : match.start()]))
        out.append((True, match.group()))
        pos = match.end()
    if pos < len(layout):
        out.append((False, layout[pos:]))
    return out


def _offset_text(seconds: int, token: str) -> str:
    if token.startswith("Z") and seconds == 0:
        return "Z"
    sign = "-" if seconds < 0 else "+"
    seconds = abs(seconds)
    hh, mm, ss = seconds // 3600, seconds // 60 % 60, seconds % 60
    body = token[1:]
    if body == "07":
        return f"{sign}{hh:02d}"
    if body in ("0700", "070000"):
        return f"{sign}{hh:02d}{mm:02d}" + (f"{ss:02d}" if body == "070000" else "")
    return f"{sign}{hh:02d}:{mm:02d}" + (f":{ss:02d}" if body == "07:00:00" else "")


def _fraction(nanos: int, token: str) -> str:
    digits = len(token) - 1
    text = f"{nanos:09d}"[:digits]
    if token[1] == "9":
        text = text.rstrip("0")
        return "" if not text else token[0] + text
    return token[0] + text


def format_layout(moment: datetime, layout: str, nanosecond: int | None = None) -> str:
    """Format `moment` (timezone-aware) with a Go layout.

    Args:
        moment: The time, in the zone it is shown in.
        layout: A Go layout (`"2006-01-02"`, `time.RFC3339`, ...).
        nanosecond: Nanoseconds within the second, when finer than `moment` holds.
    """
    nanos = moment.microsecond * 1000 if nanosecond is None else nanosecond
    offset = moment.utcoffset() or timedelta(0)
    out: list[str] = []
    for is_token, text in _tokens(layout):
        if not is_token:
            out.append(text)
            continue
        hour12 = (moment.hour + 11) % 12 + 1
        value = {
            "January": _MONTHS[moment.month - 1],
            "Jan": _MONTHS[moment.month - 1][:3],
            "Monday": _DAYS[moment.weekday()],
            "Mon": _DAYS[moment.weekday()][:3],
            "MST": moment.tzname() or "UTC",
            "2006": f"{moment.year:04d}",
            "06": f"{moment.year % 100:02d}",
            "002": f"{moment.timetuple().tm_yday:03d}",
            "01": f"{moment.month:02d}",
            "1": str(moment.month),
            "02": f"{moment.day:02d}",
            "2": str(moment.day),
            "_2": f"{moment.day:2d}",
            "__2": f"{moment.timetuple().tm_yday:3d}",
            "15": f"{moment.hour:02d}",
            "03": f"{hour12:02d}",
            "3": str(hour12),
            "04": f"{moment.minute:02d}",
            "4": str(moment.minute),
            "05": f"{moment.second:02d}",
            "5": str(moment.second),
            "PM": "PM" if moment.hour >= 12 else "AM",
            "pm": "pm" if moment.hour >= 12 else "am",
        }.get(text)
        if value is None and text[0] in "Z-":
            value = _offset_text(int(offset.total_seconds()), text)
        elif value is None:
            value = _fraction(nanos, text)
        out.append(value)
    return "".join(out)


_PATTERNS = {
    "January": "(?P<month_name>[A-Za-z]+)",
    "Jan": "(?P<month_abbr>[A-Za-z]{3})",
    "Monday": "[A-Za-z]+",
    "Mon": "[A-Za-z]{3}",
    "MST": "(?P<zone>[A-Z]{3,5}|[+-][0-9]{2,4})",
    "2006": "(?P<year>[0-9]{4})",
    "06": "(?P<year2>[0-9]{2})",
    "002": "(?P<yday>[0-9]{3})",
    "__2": "(?P<yday> {0,2}[0-9]{1,3})",
    "01": "(?P<month>[0-9]{2})",
    "1": "(?P<month>[0-9]{1,2})",
    "02": "(?P<day>[0-9]{2})",
    "2": "(?P<day>[0-9]{1,2})",
    "_2": "(?P<day> ?[0-9]{1,2})",
    "15": "(?P<hour>[0-9]{1,2})",
    "03": "(?P<hour12>[0-9]{2})",
    "3": "(?P<hour12>[0-9]{1,2})",
    "04": "(?P<minute>[0-9]{2})",
    "4": "(?P<minute>[0-9]{1,2})",
    "05": "(?P<second>[0-9]{2})",
    "5": "(?P<second>[0-9]{1,2})",
    "PM": "(?P<ampm>AM|PM)",
    "pm": "(?P<ampm>am|pm)",
}


def _pattern(layout: str) -> re.Pattern[str]:
    parts: list[str] = []
    used: set[str] = set()
    for is_token, text in _tokens(layout):
        if not is_token:
            parts.append(re.escape(text))
            continue
        pattern = _PATTERNS.get(text)
        if pattern is None and text[0] in "Z-":
            zulu = "Z|" if text[0] == "Z" else ""
            pattern = rf"(?P<offset>{zulu}[+-][0-9]{{2}}(?::?[0-9]{{2}}(?::?[0-9]{{2}})?)?)"
        elif pattern is None:
            pattern = r"(?P<fraction>[.,][0-9]+)" + ("?" if text[1] == "9" else "")
        name = re.search(r"\?P<(\w+)>", pattern)
        if name is not None:
            if name.group(1) in used:  # a field twice: match it, keep the first
                pattern = re.sub(r"\?P<\w+>", "?:", pattern)
            used.add(name.group(1))
        parts.append(pattern)
    # Go accepts fractional seconds after the seconds even when the layout has none.
    text = "".join(parts)
    text = text.replace("(?P<second>[0-9]{2})", "(?P<second>[0-9]{2})(?P<fraction>[.,][0-9]+)?")
    if "fraction" in text and text.count("?P<fraction>") > 1:
        text = text.replace("(?P<fraction>[.,][0-9]+)?", "", 1)
    return re.compile(text + r"\Z")


def _offset_seconds(text: str) -> int:
    if text == "Z":
        return 0
    sign = -1 if text[0] == "-" else 1
    digits = text[1:].replace(":", "")
    hh, mm, ss = int(digits[:2]), int(digits[2:4] or 0), int(digits[4:6] or 0)
    return sign * (hh * 3600 + mm * 60 + ss)


def parse_layout(layout: str, value: str, zone: tzinfo | None = None) -> datetime:
    """Parse `value` with a Go layout; the result keeps the zone it was written in.

    Without a zone in `value`, the time is in `zone` (UTC when None). Without a year, the
    year is 1970 (Go's is year 0, which wflow's times, Unix nanoseconds, cannot hold). A zone
    abbreviation other than UTC that `zone` does not use is taken as a zone of that name at
    offset 0, as Go does.

    Raises:
        WflowError: `INVALID` when `value` does not match `layout`.
    """
    match = _pattern(layout).match(value)
    if match is None:
        raise WflowError(
            f"time.parse: {value!r} does not match layout {layout!r}", ErrorKind.INVALID
        )
    fields = match.groupdict()
    try:
        year = int(fields["year"]) if fields.get("year") else 1970
        if fields.get("year2"):
            short = int(fields["year2"])
            year = short + (1900 if short >= 69 else 2000)
        month = int(fields["month"]) if fields.get("month") else 1
        for key, length in (("month_name", None), ("month_abbr", 3)):
            if fields.get(key):
                names = [m if length is None else m[:length] for m in _MONTHS]
                month = names.index(fields[key].capitalize()) + 1
        day = int(fields["day"]) if fields.get("day") else 1
        hour = int(fields["hour"]) if fields.get("hour") else 0
        if fields.get("hour12"):
            after_noon = (fields.get("ampm") or "").upper() == "PM"
            hour = int(fields["hour12"]) % 12 + (12 if after_noon else 0)
        minute = int(fields["minute"]) if fields.get("minute") else 0
        second = int(fields["second"]) if fields.get("second") else 0
        fraction = (fields.get("fraction") or ".")[1:]
        micro = int((fraction + "000000")[:6]) if fraction else 0
        tz: tzinfo = zone or timezone.utc
        if fields.get("offset"):
            seconds = _offset_seconds(fields["offset"])
            tz = timezone.utc if fields["offset"] == "Z" else timezone(timedelta(seconds=seconds))
        elif fields.get("zone"):
            name = fields["zone"]
            if name == "UTC":
                tz = timezone.utc
            elif name[0] in "+-":
                tz = timezone(timedelta(seconds=_offset_seconds(name)))
            elif datetime(year, month, day, tzinfo=tz).tzname() != name:
                tz = timezone(timedelta(0), name)
        return datetime(year, month, day, hour, minute, second, micro, tzinfo=tz)
    except (ValueError, OverflowError) as exc:
        raise WflowError(f"time.parse: {value!r}: {exc}", ErrorKind.INVALID) from None


def load_zone(name: str) -> tzinfo:
    """Return the IANA zone `name` (`"UTC"` and `"Local"` are UTC: see the docs' decision).

    Raises:
        WflowError: `INVALID` for an empty name, `NOT_FOUND` for an unknown one.
    """
    if not name:
        raise WflowError("time.load_location: empty location name", ErrorKind.INVALID)
    if name in ("UTC", "Local"):
        return timezone.utc
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise WflowError(
            f"time.load_location: unknown time zone {name!r}", ErrorKind.NOT_FOUND
        ) from None


def zone_offset(name: str, unix_seconds: int) -> tuple[int, str]:
    """Return the UTC offset in seconds and the abbreviation of zone `name` at an instant."""
    moment = datetime.fromtimestamp(unix_seconds, load_zone(name))
    offset = moment.utcoffset() or timedelta(0)
    return int(offset.total_seconds()), moment.tzname() or name
