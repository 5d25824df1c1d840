"""The run: turn a source into a run request and compose extraction, the destination and the
control DB (`run_source`), Test Data (`preview_source`), and the service functions the CLI and
the web UI call (`service`)."""

from pinads.runner.core import RunResult
from pinads.runner.preview import Diagnosis, PreviewResult, preview_source
from pinads.runner.request import BACKFILL_SCOPE, effective_period, new_request
from pinads.runner.run import RunLedger, plan_source, run_source
from pinads.runner.store import RunRecord, SourceStore

__all__ = [
    "BACKFILL_SCOPE",
    "Diagnosis",
    "PreviewResult",
    "RunLedger",
    "RunRecord",
    "RunResult",
    "SourceStore",
    "effective_period",
    "new_request",
    "plan_source",
    "preview_source",
    "run_source",
]
