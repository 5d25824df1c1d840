"""The in-process transport shared by threads: one loop, and close() never strands a caller."""

from __future__ import annotations

import threading
import time

import httpx

from pinads.emulator import DEFAULT_USER_ID, EmulatorConfig, InProcessTransport, create_app
from pinads.emulator.guards import guards_of

from .conftest import TODAY, checked_client

USER = "/v5/user_account"


def _loop_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "emulator-asgi" and t.is_alive())


def _auth(client: httpx.Client) -> dict[str, str]:
    token = client.post("/_emulator/tokens", json={"user_id": DEFAULT_USER_ID}).json()
    return {"Authorization": f"Bearer {token['access_token']}"}


def test_threads_starting_together_share_one_loop() -> None:
    app = create_app(EmulatorConfig(today=TODAY))
    transport = InProcessTransport(app)
    before = _loop_threads()
    start = threading.Barrier(8)
    statuses: list[int] = []
    failures: list[Exception] = []

    client = checked_client(transport)

    def work() -> None:
        try:
            start.wait()  # every thread makes the transport's first request at once
            auth = _auth(client)
            for _ in range(5):
                response = client.get(USER, headers=auth)
                statuses.append(response.status_code)
        except (httpx.HTTPError, AssertionError) as exc:  # reported in the test thread
            failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        assert not failures
        assert statuses == [200] * 40
        assert _loop_threads() == before + 1
    finally:
        client.close()  # closes the transport
    assert _loop_threads() == before


def test_close_during_a_request_fails_it_instead_of_hanging() -> None:
    app = create_app(EmulatorConfig(today=TODAY))
    transport = InProcessTransport(app)
    client = checked_client(transport)
    auth = _auth(client)
    # A request that takes a minute: it is still in flight when the transport closes.
    client.post(
        "/_emulator/faults", json={"latency_ms": 60_000, "operations": ["user_account/get"]}
    )
    outcome: list[BaseException | int] = []

    def slow() -> None:
        try:
            outcome.append(client.get(USER, headers=auth).status_code)
        except httpx.HTTPError as exc:  # the outcome is what the test checks
            outcome.append(exc)

    caller = threading.Thread(target=slow, daemon=True)  # a regression must not hang pytest
    caller.start()
    for _ in range(1000):  # until the guards have seen it (it is then sleeping in there)
        if guards_of(app).operations["user_account/get"]:
            break
        time.sleep(0.01)
    assert guards_of(app).operations["user_account/get"] == 1
    transport.close()
    caller.join(timeout=30)
    assert not caller.is_alive(), "the caller was left waiting on a closed transport"
    (result,) = outcome
    assert isinstance(result, httpx.TransportError)
    assert "closed during the request" in str(result)
    # The transport starts again on the next request.
    client.post("/_emulator/faults", json={})
    assert client.get(USER, headers=_auth(client)).status_code == 200
    client.close()
    transport.close()
