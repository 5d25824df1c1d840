"""The run: compose extraction, the destination and the control DB (`run_source`), Test Data
(`preview_source`), and the service functions the CLI and the web UI call (`service`)."""

from pinads.runner.core import RunProgress, RunResult, execute_run
from pinads.runner.prepare import Prepared, effective_period, prepare
from pinads.runner.preview import Diagnosis, PreviewResult, preview_source
from pinads.runner.run import BACKFILL_SCOPE, RunLedger, plan_source, run_source
from pinads.runner.store import RunRecord, SourceStore

__all__ = [
    "BACKFILL_SCOPE",
    "Diagnosis",
    "Prepared",
    "PreviewResult",
    "RunLedger",
    "RunProgress",
    "RunRecord",
    "RunResult",
    "SourceStore",
    "effective_period",
    "execute_run",
    "plan_source",
    "prepare",
    "preview_source",
    "run_source",
]
