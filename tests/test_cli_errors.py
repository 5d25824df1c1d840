"""The CLI's top level: whatever fails, the user sees one line on stderr and a non-zero exit
code, never a traceback (without --debug), even when printing itself fails."""

from __future__ import annotations

import sys

import pytest
from rich.console import Console

from pinads.cli import main


def _run(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    monkeypatch.setattr(sys, "argv", ["pinads", *args])
    with pytest.raises(SystemExit) as stopped:
        main()
    return int(stopped.value.code or 0)


def test_a_memory_error_in_richs_renderer_is_one_line(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def out_of_memory(self: Console, *objects: object, **options: object) -> None:
        raise MemoryError

    monkeypatch.setattr(Console, "print", out_of_memory)  # every render fails, errors too
    assert _run(monkeypatch, "sources", "list") == 1
    err = capfd.readouterr().err
    assert err == "error: unexpected MemoryError (rerun with --debug for details)\n"


def test_an_unexpected_error_with_a_huge_message_is_one_bounded_line(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    def os_error(self: Console, *objects: object, **options: object) -> None:
        raise OSError(28, "No space left on device\n" + "x" * 100_000)

    original = Console.print
    monkeypatch.setattr(Console, "print", os_error)
    monkeypatch.setattr(
        sys.modules["pinads.cli"]._err, "print", original.__get__(sys.modules["pinads.cli"]._err)
    )
    assert _run(monkeypatch, "sources", "list") == 1
    err = capfd.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: unexpected OSError: [Errno 28] No sp")
    assert len(err) < 2_200
