"""The one-line schedule forms users write in YAML, turned into the model's mapping.

```text
manual
hourly [at] [:MM] [TZ]
daily [at] [HH:MM] [TZ]
weekly [on] [DAY] [at] [HH:MM] [TZ]
monthly [on] [day] [N | Nth | last] [at] [HH:MM] [TZ]
cron: M H DOM MON DOW [TZ]          (also without "cron:", or @daily / @hourly ...)
```

TZ is an IANA name (it contains a "/", or is UTC). The model then checks every value.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["parse_shorthand"]

_FILLER = frozenset({"at", "on", "day", "every", "in"})
_ORDINAL = re.compile(r"^(\d{1,2})(st|nd|rd|th)?$")
_FREQUENCIES = frozenset({"hourly", "daily", "weekly", "monthly"})
_MANUAL = frozenset({"manual", "none", "off", "never"})
_EXAMPLES = (
    '"daily 06:00", "weekly mon 07:30", "monthly 1 06:00", "hourly :15", '
    '"cron: 0 6 * * *" (each optionally followed by a time zone such as Europe/Prague)'
)


def parse_shorthand(text: str) -> dict[str, Any]:
    """A schedule mapping from one line, or ValueError showing the forms that work."""
    line = " ".join(text.split())
    if not line:
        raise ValueError(f"schedule is empty: write e.g. {_EXAMPLES}, or manual")
    head, _, rest = line.partition(" ")
    word = head.lower().rstrip(":")
    if word in _MANUAL and not rest:
        return {"frequency": "manual"}
    if word == "cron" or (head.startswith("cron:") and head != "cron:"):
        body = rest if word == "cron" else f"{head.removeprefix('cron:')} {rest}"
        return _cron(body.strip())
    if head.startswith("@") or (len(line.split(" ")) >= 5 and word not in _FREQUENCIES):
        return _cron(line)
    if word not in _FREQUENCIES:
        raise ValueError(f"could not read schedule {text.strip()!r}: write e.g. {_EXAMPLES}")
    return _calendar(word, rest.split(" ") if rest else [], original=text.strip())


def _cron(body: str) -> dict[str, Any]:
    parts = body.split(" ") if body else []
    result: dict[str, Any] = {"frequency": "cron"}
    limit = 1 if parts[:1] and parts[0].startswith("@") else 5
    if len(parts) > limit and _is_zone(parts[-1]):
        zone = parts.pop()
        result["timezone"] = zone if "/" in zone else zone.upper()
    result["cron"] = " ".join(parts)
    return result


def _calendar(frequency: str, tokens: list[str], *, original: str) -> dict[str, Any]:
    result: dict[str, Any] = {"frequency": frequency}
    for token in tokens:
        lowered = token.lower()
        if lowered in _FILLER:
            continue
        key, value = _classify(frequency, token)
        if key is None or key in result:
            raise ValueError(
                f"could not read {token!r} in schedule {original!r}: write e.g. {_EXAMPLES}"
            )
        result[key] = value
    return result


def _classify(frequency: str, token: str) -> tuple[str | None, Any]:
    lowered = token.lower()
    if _is_zone(token):
        return "timezone", token.upper() if "/" not in token else token
    if ":" in token:
        return "at", token
    if frequency == "hourly" and token.isdigit():
        return "at", f":{token}"
    if frequency == "weekly" and lowered.isalpha():
        return "weekday", lowered
    match = _ORDINAL.match(lowered)
    if frequency == "monthly" and (match or lowered == "last"):
        return "day_of_month", int(match.group(1)) if match else 31
    return None, None


def _is_zone(token: str) -> bool:
    return "/" in token or token.upper() in {"UTC", "GMT"}
