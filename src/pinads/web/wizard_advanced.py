"""The snapshot step's Advanced section: attribution windows, conversion report time, lookback
and archived entities (the source config's fields, with their descriptions as help)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.datastructures import FormData

from pinads.catalog import ATTRIBUTION_WINDOW_DAYS, DATASETS, DatasetKind
from pinads.sources import SourceConfig
from pinads.web.common import form_text

__all__ = ["ADVANCED_FIELDS", "advanced_values", "apply_advanced", "check_advanced"]

WINDOW_FIELDS = ("click_window_days", "engagement_window_days", "view_window_days")
ADVANCED_FIELDS = (*WINDOW_FIELDS, "conversion_report_time", "lookback_days", "include_archived")
_REPORT_TIMES = {
    "TIME_OF_AD_ACTION": "the day of the ad action (as Ads Manager shows them)",
    "TIME_OF_CONVERSION": "the day of the conversion",
}
# Marks the section as posted: an unticked box sends nothing, which must read as "no".
PRESENT = "advanced_present"


def _number(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        return text  # validation names the field and what it takes


def apply_advanced(form: FormData, draft: dict[str, Any]) -> None:
    if not form_text(form, PRESENT):
        return
    for name in WINDOW_FIELDS:
        if form_text(form, name):
            draft[name] = _number(form_text(form, name))
    if form_text(form, "conversion_report_time"):
        draft["conversion_report_time"] = form_text(form, "conversion_report_time")
    lookback = form_text(form, "lookback_days")
    draft["lookback_days"] = _number(lookback) if lookback else None
    draft["include_archived"] = bool(form_text(form, "include_archived"))


def check_advanced(draft: dict[str, Any]) -> list[str]:
    values = {k: draft[k] for k in ADVANCED_FIELDS if draft.get(k) is not None}
    try:
        SourceConfig.model_validate({"name": "x", "dataset": "x", "authorizer": "x", **values})
    except ValidationError as exc:
        return [
            f"{e['loc'][0]}: {e['msg'].removeprefix('Value error, ')}"
            for e in exc.errors()
            if e["loc"][:1] and e["loc"][0] in ADVANCED_FIELDS
        ]
    return []


def _is_default(draft: dict[str, Any]) -> bool:
    fields = SourceConfig.model_fields
    return all(draft.get(k, fields[k].default) == fields[k].default for k in ADVANCED_FIELDS)


def advanced_values(draft: dict[str, Any]) -> dict[str, Any]:
    fields = SourceConfig.model_fields
    dataset = DATASETS.get(str(draft.get("dataset", "")))
    return {
        "advanced": {k: draft.get(k, fields[k].default) for k in ADVANCED_FIELDS},
        "advanced_help": {k: fields[k].description or "" for k in ADVANCED_FIELDS},
        "advanced_open": not _is_default(draft),
        "windows": list(ATTRIBUTION_WINDOW_DAYS),
        "report_times": _REPORT_TIMES,
        "has_attribution": dataset is None or dataset.kind is DatasetKind.ANALYTICS,
    }
