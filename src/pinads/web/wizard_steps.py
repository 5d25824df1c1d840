"""The Create Source wizard's steps: what each takes from its form, what blocks "Next", and
what its page shows. The draft is the source's config document, carried in a hidden field and
validated in full by `pinads.runner.service.create_source` at Save."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from pinads.catalog import (
    DATASETS,
    Dataset,
    default_attributes,
    search_datasets,
    validate_selection,
)
from pinads.errors import PinadsError
from pinads.runner import service as runs
from pinads.sources import DEFAULT_METADATA, NAMED_RANGES, MetadataColumn, SourceConfig
from pinads.sources.config import destination_help
from pinads.values import Frequency, Schedule, Weekday, WriteMode
from pinads.web.common import for_web, form_list, form_text
from pinads.web.context import WebContext
from pinads.web.pages_auth import authorizer_warnings
from pinads.web.views import check_destination, match_reason
from pinads.web.wizard_advanced import advanced_values, apply_advanced, check_advanced
from pinads.web.wizard_columns import apply_columns, columns_values
from pinads.web.wizard_secrets import clear_destination

__all__ = [
    "NEW_AUTHORIZER",
    "STEPS",
    "TITLES",
    "apply_step",
    "check_step",
    "step_values",
]

NEW_AUTHORIZER = "__new__"
STEPS = (
    "connector",
    "dataset",
    "account",
    "columns",
    "metadata",
    "snapshot",
    "destination",
    "test",
)
TITLES = {
    "connector": "Connector & name",
    "dataset": "Dataset",
    "account": "Account",
    "columns": "Attributes & metrics",
    "metadata": "Metadata",
    "snapshot": "Snapshot",
    "destination": "Destination",
    "test": "Test Data",
}
METADATA_HELP = {
    MetadataColumn.EXTRACTED_AT: "when the row was read from Pinterest (UTC)",
    MetadataColumn.SOURCE_NAME: "the source that wrote the row",
    MetadataColumn.RUN_ID: "the run that wrote the row",
    MetadataColumn.ACCOUNT_CURRENCY: "ISO 4217 currency of the row's ad account",
    MetadataColumn.ACCOUNT_NAME: "name of the row's ad account",
}
WRITE_MODE_HELP = {
    WriteMode.UPSERT: "insert new rows, overwrite rows with the same key (recommended)",
    WriteMode.APPEND: "keep every snapshot: rows are only added",
    WriteMode.REPLACE: "each run's rows become the whole table",
    WriteMode.INSERT_IGNORE: "insert new keys, keep the rows already there",
}
_SCHEDULE_FIELDS: dict[Frequency, tuple[str, ...]] = {
    Frequency.HOURLY: ("at",),
    Frequency.DAILY: ("at",),
    Frequency.WEEKLY: ("at", "weekday"),
    Frequency.MONTHLY: ("at", "day_of_month"),
    Frequency.CRON: ("cron",),
}


def _dataset(draft: dict[str, Any]) -> Dataset | None:
    return DATASETS.get(str(draft.get("dataset", "")))


# -- taking each step's form into the draft ----------------------------------------------------


def _apply_connector(form: FormData, draft: dict[str, Any]) -> None:
    if "name" in form:
        draft["name"] = form_text(form, "name")


def _apply_dataset(form: FormData, draft: dict[str, Any]) -> None:
    chosen = form_text(form, "dataset")
    if chosen and chosen != draft.get("dataset"):
        draft["dataset"] = chosen
        for key in ("attributes", "metrics", "granularity"):
            draft.pop(key, None)  # columns of another dataset do not carry over


def _apply_account(form: FormData, draft: dict[str, Any]) -> None:
    authorizer = form_text(form, "authorizer")
    if authorizer and authorizer != draft.get("authorizer"):
        draft["authorizer"] = authorizer
        draft["accounts"] = "all"
        return
    # "All" is ticked by default: accounts ticked beside it are what the user meant.
    chosen = [a for a in form_list(form, "accounts") if a != "all"]
    draft["accounts"] = chosen or "all"


def _apply_metadata(form: FormData, draft: dict[str, Any]) -> None:
    draft["metadata"] = form_list(form, "metadata")


def schedule_from_form(form: FormData) -> dict[str, Any] | None:
    frequency = form_text(form, "frequency") or Frequency.MANUAL.value
    if frequency == Frequency.MANUAL.value:
        return None
    document: dict[str, Any] = {"frequency": frequency}
    if frequency == Frequency.CRON.value and form_text(form, "cron"):
        # A cron schedule is its expression: never hidden behind "advanced".
        document["cron"] = form_text(form, "cron")
    if not form_text(form, "show_advanced"):
        return document
    known = {f.value: f for f in Frequency}
    used = _SCHEDULE_FIELDS.get(known[frequency], ()) if frequency in known else ()
    for name in used:
        value = form_text(form, name)
        if value:
            document[name] = value
    if frequency == Frequency.HOURLY.value and "at" in document:
        document["at"] = ":" + str(document["at"]).rpartition(":")[2]
    document["timezone"] = form_text(form, "timezone") or "UTC"
    return document


def _apply_snapshot(form: FormData, draft: dict[str, Any]) -> None:
    draft["schedule"] = schedule_from_form(form)
    draft["allow_empty"] = bool(form_text(form, "allow_empty"))
    draft["date_range"] = form_text(form, "date_range") or "last_30_days"
    draft["show_advanced"] = bool(form_text(form, "show_advanced"))
    apply_advanced(form, draft)


def _apply_destination(form: FormData, draft: dict[str, Any]) -> None:
    draft["destination"] = form_text(form, "destination") or "duckdb"
    mode = form_text(form, "write_mode") or WriteMode.UPSERT.value
    try:  # Dataddo's names (insert, truncate insert...) stored as the mode they mean
        draft["write_mode"] = WriteMode(mode).value
    except ValueError:
        draft["write_mode"] = mode  # validation names it with the modes to choose from


def _apply_test(form: FormData, draft: dict[str, Any]) -> None:
    draft["test_start"] = form_text(form, "test_start")
    draft["test_end"] = form_text(form, "test_end")


_APPLY: dict[str, Callable[[FormData, dict[str, Any]], None]] = {
    "connector": _apply_connector,
    "dataset": _apply_dataset,
    "account": _apply_account,
    "columns": apply_columns,
    "metadata": _apply_metadata,
    "snapshot": _apply_snapshot,
    "destination": _apply_destination,
    "test": _apply_test,
}


def apply_step(step: str, form: FormData, draft: dict[str, Any]) -> None:
    _APPLY[step](form, draft)


# -- what blocks "Next" -------------------------------------------------------------------------


def _field_errors(error: ValidationError, field: str) -> list[str]:
    return [
        e["msg"].removeprefix("Value error, ") for e in error.errors() if e["loc"][:1] == (field,)
    ]


def _check_connector(ctx: WebContext, draft: dict[str, Any], *, editing: bool) -> list[str]:
    name = str(draft.get("name", ""))
    try:
        SourceConfig.model_validate({"name": name, "dataset": "x", "authorizer": "x"})
    except ValidationError as exc:
        return _field_errors(exc, "name") or ["enter a name"]
    if not editing and name in {c.name for c in runs.list_sources(settings=ctx.settings)}:
        return [f"a source named {name!r} exists: choose another name"]
    return []


def _check_dataset(ctx: WebContext, draft: dict[str, Any], *, editing: bool) -> list[str]:
    return [] if _dataset(draft) else ["choose a dataset"]


def _check_account(ctx: WebContext, draft: dict[str, Any], *, editing: bool) -> list[str]:
    authorizer = draft.get("authorizer")
    if not authorizer or authorizer == NEW_AUTHORIZER:
        return ["choose an authorizer, or Add new account"]
    return []


def selection_problems(draft: dict[str, Any]) -> list[str]:
    dataset = _dataset(draft)
    if dataset is None:
        return ["choose a dataset first"]
    problems = validate_selection(
        dataset,
        attributes=draft.get("attributes") or default_attributes(dataset),
        metrics=draft.get("metrics") or (),
        granularity=str(draft.get("granularity") or "DAY"),
    )
    return [p.message for p in problems]


def _check_columns(ctx: WebContext, draft: dict[str, Any], *, editing: bool) -> list[str]:
    return selection_problems(draft)


def _check_metadata(ctx: WebContext, draft: dict[str, Any], *, editing: bool) -> list[str]:
    return []


def _check_snapshot(ctx: WebContext, draft: dict[str, Any], *, editing: bool) -> list[str]:
    problems: list[str] = []
    if draft.get("schedule") is not None:
        try:
            schedule = Schedule.model_validate(draft["schedule"])
        except ValidationError as exc:
            problems += [e["msg"].removeprefix("Value error, ") for e in exc.errors()]
        else:
            draft["schedule"] = schedule.model_dump(mode="json", exclude_none=True)
    try:
        SourceConfig.model_validate(
            {
                "name": "x",
                "dataset": "x",
                "authorizer": "x",
                "date_range": draft.get("date_range") or "last_30_days",
            }
        )
    except ValidationError as exc:
        problems += _field_errors(exc, "date_range")
    return problems + check_advanced(draft)


def _check_destination(ctx: WebContext, draft: dict[str, Any], *, editing: bool) -> list[str]:
    try:
        check_destination(ctx.settings, clear_destination(ctx, draft, editing=editing))
    except PinadsError as exc:
        return [str(exc)]
    return []


_CHECK: dict[str, Callable[..., list[str]]] = {
    "connector": _check_connector,
    "dataset": _check_dataset,
    "account": _check_account,
    "columns": _check_columns,
    "metadata": _check_metadata,
    "snapshot": _check_snapshot,
    "destination": _check_destination,
}


def check_step(ctx: WebContext, step: str, draft: dict[str, Any], *, editing: bool) -> list[str]:
    check = _CHECK.get(step)
    return check(ctx, draft, editing=editing) if check else []


# -- what each step's page shows ------------------------------------------------------------------


@dataclass(frozen=True)
class AccountChoices:
    authorizers: list[Any]
    accounts: list[Any]
    error: str | None


def _values_dataset(ctx: WebContext, draft: dict[str, Any], query: str) -> dict[str, Any]:
    # Every dataset is on the page (the typing filter shows and hides them); the search's
    # matches first, best first, the others hidden until the search changes.
    found = search_datasets(query) if query.strip() else list(DATASETS.values())
    chosen = _dataset(draft)
    if chosen is not None and chosen not in found:
        found = [chosen, *found]
    rest = [d for d in DATASETS.values() if d not in found]
    why = {d.name: match_reason(d, query) for d in found} if query.strip() else {}
    return {"datasets": [*found, *rest], "shown": len(found), "query": query, "why": why}


def _values_account(ctx: WebContext, draft: dict[str, Any], query: str) -> dict[str, Any]:
    now = datetime.now(UTC)
    with ctx.authorizers() as service:
        authorizers = service.list()
        label = draft.get("authorizer")
        accounts: list[Any] = []
        error = None
        if label and label != NEW_AUTHORIZER:
            try:
                accounts = ctx.list_accounts(str(label))
            except PinadsError as exc:
                error = for_web(str(exc))
    warnings = {a.label: authorizer_warnings(a, now=now) for a in authorizers}
    return {"choices": AccountChoices(authorizers, accounts, error), "warnings": warnings}


def _values_metadata(ctx: WebContext, draft: dict[str, Any], query: str) -> dict[str, Any]:
    chosen = draft.get("metadata")
    if chosen is None:
        chosen = [m.value for m in DEFAULT_METADATA]
    return {"metadata": list(MetadataColumn), "help": METADATA_HELP, "chosen": set(chosen)}


@functools.cache
def _timezones() -> tuple[str, ...]:
    return ("UTC", *sorted(z for z in zoneinfo.available_timezones() if "/" in z))


def _values_snapshot(ctx: WebContext, draft: dict[str, Any], query: str) -> dict[str, Any]:
    fields = Schedule.model_fields
    return {
        "frequencies": [f.value for f in Frequency if f is not Frequency.CRON] + ["cron"],
        "weekdays": list(Weekday),
        "ranges": NAMED_RANGES,
        "schedule": draft.get("schedule") or {},
        "help": {name: fields[name].description or "" for name in fields},
        "range_help": SourceConfig.model_fields["date_range"].description,
        "timezones": _timezones(),
        **advanced_values(draft),
    }


def _values_destination(ctx: WebContext, draft: dict[str, Any], query: str) -> dict[str, Any]:
    return {
        "modes": list(WriteMode),
        "mode_help": WRITE_MODE_HELP,
        "destination_help": destination_help(),
    }


_VALUES: dict[str, Callable[[WebContext, dict[str, Any], str], dict[str, Any]]] = {
    "dataset": _values_dataset,
    "account": _values_account,
    "columns": columns_values,
    "metadata": _values_metadata,
    "snapshot": _values_snapshot,
    "destination": _values_destination,
}


def step_values(
    ctx: WebContext, step: str, draft: dict[str, Any], *, query: str = ""
) -> dict[str, Any]:
    values = _VALUES.get(step)
    return values(ctx, draft, query) if values else {}
