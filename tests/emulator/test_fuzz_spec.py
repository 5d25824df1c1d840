"""Spec-driven fuzzing: schemathesis generates requests from Pinterest's OpenAPI description for
every operation the emulator implements; no answer may be a 5xx or break its response schema.

Bounded and reproducible: at most 30 examples per operation, derandomized, no example database.
Requests go in-process (no sockets). Quotas are off so generated traffic reaches the handlers;
`ad_account_id` is mostly pinned to an account the token's user can read, so the fuzzing gets
past the account check into parameter validation and data generation.
"""

from __future__ import annotations

import base64
import itertools
import json
from typing import Any

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import APIOperation, BaseSchema
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.errors import InvalidSchema
from schemathesis.core.result import Err, Ok
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from starlette.applications import Starlette
from starlette.routing import Route

from pinads.emulator import (
    DEFAULT_USER_ID,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    LARGE_ADVERTISER_ID,
    EmulatorConfig,
    create_app,
)
from pinads.emulator.guards import install
from pinads.emulator.limits import RateLimitConfig
from pinads.emulator.spec import extract
from pinads.emulator.tokens import TokenInfo

from .conftest import TODAY
from .schema import SPEC_PATH

MAX_EXAMPLES = 30
CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
# The coverage phase (every boundary of every parameter, other HTTP methods) sends ~20 times
# more requests than the generation phase; generated examples already reach every enum and
# limit check here, and the whole emulator suite must stay quick on two cores.
FUZZ_CONFIG = SchemathesisConfig.from_dict({"phases": {"coverage": {"enabled": False}}})
BASIC_AUTH_OPERATIONS = frozenset({"oauth/token", "token/revoke"})


def _app() -> Starlette:
    config = EmulatorConfig(seed=7, today=TODAY, rate_limits=RateLimitConfig(enabled=False))
    app = create_app(config)
    install(app)
    return app


APP = _app()
_STATE = APP.state.emulator
ACCESS_TOKEN = _STATE.tokens.mint(
    TokenInfo(DEFAULT_USER_ID, DEMO_CLIENT_ID, frozenset({"ads:read", "user_accounts:read"})),
    now=_STATE.now(),
).access_token
_CASE_NUMBER = itertools.count()
_BASIC = base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()


def implemented_operations(app: Starlette) -> list[str]:
    """operationIds of the extract that the app routes (new handlers join automatically)."""
    routed = {
        (method, route.path)
        for route in app.routes
        if isinstance(route, Route)
        for method in route.methods or ()
    }
    return sorted(
        op_id
        for op_id, op in extract()["operations"].items()
        if (op["method"].upper(), "/v5" + op["path"]) in routed
    )


def _schema() -> BaseSchema:
    raw = json.loads(SPEC_PATH.read_text("utf-8"))
    raw["servers"] = [{"url": "http://emulator.test/v5"}]
    loaded = schemathesis.openapi.from_dict(raw, config=FUZZ_CONFIG)
    return loaded.include(operation_id=implemented_operations(APP))


schema = _schema()


# schemathesis types an operation by its parameter, response and schema classes.
AnyOperation = APIOperation[Any, Any, Any, Any]


def _ok(result: Ok[AnyOperation] | Err[InvalidSchema]) -> AnyOperation:
    """The operation, or the schema error that kept schemathesis from building it."""
    if isinstance(result, Err):
        raise result.err()
    return result.ok()


def _headers(operation_id: str) -> dict[str, str]:
    if operation_id in BASIC_AUTH_OPERATIONS:
        return {"Authorization": f"Basic {_BASIC}"}
    return {"Authorization": f"Bearer {ACCESS_TOKEN}"}


def test_the_fuzzed_operations_cover_the_implemented_ones() -> None:
    implemented = implemented_operations(APP)
    # The entity lists and accounts are there from the start; the rest as they are routed.
    assert {"user_account/get", "ad_accounts/list", "campaigns/list", "ads/list"} <= set(
        implemented
    )
    fuzzed = {_ok(op).definition.raw.get("operationId") for op in schema.get_all_operations()}
    assert fuzzed == set(implemented)


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
def test_no_server_error_and_no_schema_violation(case: Any) -> None:
    operation_id = case.operation.definition.raw.get("operationId", "")
    # Three cases in four use a readable account; the rest keep the generated id.
    if "ad_account_id" in (case.path_parameters or {}) and next(_CASE_NUMBER) % 4:
        case.path_parameters["ad_account_id"] = LARGE_ADVERTISER_ID
    response = case.call(app=APP, headers=_headers(operation_id))
    case.validate_response(response, checks=CHECKS)
