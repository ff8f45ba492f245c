"""Reading the cells survey tools write — moments, dates, numbers — and keeping a row's problem
so that it is said in the language of whoever reads it later.

Moments come in the forms the tools and spreadsheets write them: DD.MM.YYYY HH:MM (or only the
day, as D.M.YYYY), YYYY-MM-DD HH:MM:SS, ISO 8601 with an offset, Google Forms' YYYY/MM/DD
h:mm:ss PM, SurveyMonkey's US MM/DD/YYYY hh:mm:ss PM (a date with slashes and no 12-hour clock may
be day or month first, and is refused), Excel's serial numbers and an XLSX sheet's own date
cells. A moment without an offset is read in the organisation's time zone (QMS_TIMEZONE).
"""

from __future__ import annotations

import enum
import functools
import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from qms.config import get_settings
from qms.fields import FIRST_DAY, LAST_DAY, in_calendar
from qms.i18n import Code, Either, Text

NOT_A_MOMENT = Text(
    "The date is not in a form we read: write it as DD.MM.YYYY HH:MM, YYYY-MM-DD HH:MM:SS or "
    "ISO 8601 (2026-06-02T16:06:00+02:00)."
)
SLASHED = Text(
    "A date written with slashes may be day first or month first: write it as DD.MM.YYYY or "
    "YYYY-MM-DD."
)
EMPTY_DAY = Text("The date is empty: enter it as YYYY-MM-DD or DD.MM.YYYY.")

_DOTTED = re.compile(
    r"(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ ,T]+(?:kl\.? *)?(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?"
)
_GOOGLE = re.compile(
    r"(\d{4})/(\d{1,2})/(\d{1,2})(?: +(\d{1,2}):(\d{2})(?::(\d{2}))?(?: *([AaPp][Mm]))?"
    r"(?: *(?:GMT|UTC)([+-]\d{1,2})(?::?(\d{2}))?)?)?"
)
# US English (SurveyMonkey): month first, and a 12-hour clock, which tells it from day first.
_US = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4}),? +(\d{1,2}):(\d{2})(?::(\d{2}))? *([AaPp][Mm])")
_SLASHED = re.compile(r"\d{1,2}/\d{1,2}/\d{2,4}\b.*")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_SERIAL = re.compile(r"\d{5}(?:[.,]\d+)?")
# Excel's day 0 (its 1900 system, counting the 29 February 1900 it believes in).
_EXCEL_EPOCH = datetime(1899, 12, 30)


def zone() -> ZoneInfo:
    """Return the organisation's time zone."""
    return ZoneInfo(get_settings().timezone)


def read_moment(value: Any) -> tuple[date, datetime | None]:
    """Return a cell's day (in the organisation's time zone) and its moment in UTC, if it has one.

    Raises ValueError with the problem (a Text) when the cell is not a date."""
    local = zone()
    moment: datetime | None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=local)
    elif isinstance(value, date):
        return _in_calendar(value), None
    elif isinstance(value, int | float) and not isinstance(value, bool):
        moment = _serial(float(value), local)
    else:
        return _text_moment(" ".join(str(value or "").split()), get_settings().timezone)
    day = moment.astimezone(local).date()
    return _in_calendar(day), moment.astimezone(UTC)


@functools.lru_cache(maxsize=4096)
def _text_moment(text: str, zone_name: str) -> tuple[date, datetime | None]:
    # A file repeats the same few dates on many rows: each is read once.
    if not text:
        raise ValueError(EMPTY_DAY)
    local = ZoneInfo(zone_name)
    moment = _moment_of_text(text, local)
    if moment is None:
        return _in_calendar(_day_of_text(text)), None
    day = moment.astimezone(local).date()
    return _in_calendar(day), moment.astimezone(UTC)


def _in_calendar(day: date) -> date:
    try:
        return in_calendar(day)
    except ValueError:
        raise ValueError(
            Text("Enter a date from %(first)s to %(last)s.", first=FIRST_DAY, last=LAST_DAY)
        ) from None


def _serial(number: float, local: ZoneInfo) -> datetime:
    if not 1 <= number < 2_958_466:
        raise ValueError(NOT_A_MOMENT)
    naive = _EXCEL_EPOCH + timedelta(days=number)
    # A serial carries seconds as a fraction of a day: rounded to the second it was typed to.
    naive = (naive + timedelta(microseconds=500_000)).replace(microsecond=0)
    return naive.replace(tzinfo=local)


def _day_of_text(text: str) -> date:
    match = _DOTTED.fullmatch(text)
    try:
        if match:
            return date(int(match[3]), int(match[2]), int(match[1]))
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(NOT_A_MOMENT) from None


def _moment_of_text(text: str, local: ZoneInfo) -> datetime | None:
    """Return the moment a text names, or None when it names a day only."""
    try:
        match = _DOTTED.fullmatch(text)
        if match:
            if match[4] is None:
                return None
            day = date(int(match[3]), int(match[2]), int(match[1]))
            at = time(int(match[4]), int(match[5]), int(match[6] or 0))
            return datetime.combine(day, at, tzinfo=local)
        match = _GOOGLE.fullmatch(text)
        if match:
            day = date(int(match[1]), int(match[2]), int(match[3]))
            if match[4] is None:
                return None
            hour = int(match[4])
            if match[7]:
                if not 1 <= hour <= 12:
                    raise ValueError(NOT_A_MOMENT)
                hour = hour % 12 + (12 if match[7].lower() == "pm" else 0)
            at = time(hour, int(match[5]), int(match[6] or 0))
            if match[8] is None:
                return datetime.combine(day, at, tzinfo=local)
            sign = -1 if match[8].startswith("-") else 1
            offset = timedelta(hours=abs(int(match[8])), minutes=int(match[9] or 0)) * sign
            return datetime.combine(day, at, tzinfo=UTC) - offset
        match = _US.fullmatch(text)
        if match:
            hour = int(match[4])
            if not 1 <= hour <= 12:
                raise ValueError(NOT_A_MOMENT)
            hour = hour % 12 + (12 if match[7].lower() == "pm" else 0)
            day = date(int(match[3]), int(match[1]), int(match[2]))
            return datetime.combine(day, time(hour, int(match[5]), int(match[6] or 0)), local)
        if _SERIAL.fullmatch(text):
            return _serial(float(text.replace(",", ".")), local)
        if _SLASHED.fullmatch(text):
            raise ValueError(SLASHED)
        if len(text) <= 10:
            return None
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00").replace(" T", "T"))
    except ValueError as problem:
        if problem.args and isinstance(problem.args[0], Text):
            raise
        raise ValueError(NOT_A_MOMENT) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=local)


def read_number(value: Any) -> float:
    """Read a number as people write it: 2.5, 2,5, 1 234,5 (spaces, no-break or thin, between
    thousands). Raises ValueError."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    text = str(value).strip()
    if _PLAIN_NUMBER.fullmatch(text):  # as most files write it, read at once
        return float(text)
    cleaned = re.sub(r"[\s\u00a0\u202f\u2009']", "", text).replace("\u2212", "-")
    if cleaned.count(",") == 1 and "." not in cleaned:
        cleaned = cleaned.replace(",", ".")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", cleaned):
        raise ValueError(text)
    return float(cleaned)


# A problem kept with its batch ------------------------------------------------------------------


def stored(message: str) -> dict[str, Any]:
    """Return a row's problem as JSON: the catalogue's sentence and its parameters, so that it is
    said in the reader's language when shown (a plain string stays as it is)."""
    if isinstance(message, Text):
        return {"msgid": message.msgid, "params": {k: _value(v) for k, v in message.params.items()}}
    return {"text": str(message)}


def _value(value: object) -> Any:
    if isinstance(value, Text):
        return {"message": stored(value)}
    if isinstance(value, Either):
        return {"either": [_value(v) for v in value]}
    if isinstance(value, Code):
        return {"code": str(value)}
    if isinstance(value, enum.Enum):
        return {"code": str(value.value)}
    if isinstance(value, datetime):
        return {"moment": value.isoformat()}
    if isinstance(value, date):
        return {"day": value.isoformat()}
    if isinstance(value, list | tuple | set | frozenset):
        return {"list": [_value(v) for v in value]}
    if isinstance(value, bool | int | float) or value is None:
        return value
    return str(value)


def restored(data: Any) -> str:
    """Return a problem kept by `stored` as a Text again (a string kept from before as itself)."""
    if isinstance(data, str):
        return data
    if not isinstance(data, dict):
        return str(data)
    if "msgid" in data:
        params = {k: _param(v) for k, v in (data.get("params") or {}).items()}
        return Text(str(data["msgid"]), **params)
    return str(data.get("text", ""))


def _param(value: Any) -> object:
    if not isinstance(value, dict):
        return value
    if "message" in value:
        return restored(value["message"])
    if "either" in value:
        return Either(_param(v) for v in value["either"])
    if "code" in value:
        return Code(value["code"])
    if "moment" in value:
        return datetime.fromisoformat(value["moment"])
    if "day" in value:
        return date.fromisoformat(value["day"])
    if "list" in value:
        return [_param(v) for v in value["list"]]
    return str(value)
