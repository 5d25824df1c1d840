"""schemathesis against our own OpenAPI document: no generated request gets a 5xx.

Bounded and reproducible (derandomized, at most 25 examples per operation, no example
database); in-process over ASGI, authenticated with an API token, on a throwaway home, with
the emulator in-process as Pinterest.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import APIOperation
from schemathesis.checks import not_a_server_error
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok

from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    EmulatorConfig,
    InProcessTransport,
)
from pinads.emulator import create_app as create_app_emulator
from pinads.emulator.tokens import TokenInfo
from pinads.runner import service as runs
from pinads.settings import AppSettings
from pinads.state import open_control_db
from pinads.web.app import create_app
from pinads.web.users import WebUsers

MAX_EXAMPLES = 25
HOME = Path(tempfile.mkdtemp(prefix="pinads-web-fuzz-"))
SETTINGS = AppSettings(home=HOME)
_store = WebUsers(open_control_db(SETTINGS))
_store.set_user("admin", "fuzzing-password")
TOKEN = _store.create_token(name="fuzz", username="admin")
_store.db.close()
# Pinterest is the emulator, in-process (any host reaches it), so calls that go to Pinterest
# get real answers instead of waiting on a network this test does not have.
EMULATOR = create_app_emulator(EmulatorConfig(seed=7))
APP = create_app(SETTINGS, transport=InProcessTransport(EMULATOR))
schema = schemathesis.openapi.from_dict(APP.openapi())


# schemathesis types an operation by its parameter, response and schema classes.
AnyOperation = APIOperation[Any, Any, Any, Any]


def _ok(result: Ok[AnyOperation] | Err[InvalidSchema]) -> AnyOperation:
    """The operation, or the schema error that kept schemathesis from building it."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


_CASES = itertools.count()


def _seed() -> None:
    """An authorizer `demo` and a source `shop`, so pinned cases reach past the 404s."""
    emulator = EMULATOR.state.emulator
    info = TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"}))
    minted = emulator.tokens.mint(info, now=emulator.now())
    with APP.state.web.authorizers() as service:
        service.add_with_refresh_token(
            client_id=DEMO_CLIENT_ID,
            client_secret=DEMO_CLIENT_SECRET,
            refresh_token=minted.refresh_token,
            api_url="http://emulator.test/v5",
            label="demo",
        )
    runs.create_source(
        {
            "name": "shop",
            "dataset": "campaigns",
            "authorizer": "demo",
            "destination": f"duckdb:///{HOME}/fuzz.duckdb",
        },
        settings=SETTINGS,
        opener=APP.state.web.open_client,
    )


_seed()


def test_every_api_operation_is_fuzzed() -> None:
    paths = {_ok(op).path for op in schema.get_all_operations()}
    assert {"/api/sources", "/api/preview", "/api/authorizers/{ref}", "/api/jobs/{job_id}"} <= paths
    assert not any(not path.startswith("/api/") for path in paths)  # pages stay out of the API


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error(case: Any) -> None:
    # Three cases in four name the seeded authorizer or source; the rest keep generated names.
    params = case.path_parameters or {}
    if next(_CASES) % 4:
        for key, value in (("ref", "demo"), ("name", "shop")):
            if key in params:
                params[key] = value
    response = case.call(app=APP, headers={"Authorization": f"Bearer {TOKEN}"})
    case.validate_response(response, checks=[not_a_server_error])
