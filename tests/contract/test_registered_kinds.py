"""The contract suite covers every kind of destination the registry lists."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from contract_helpers import KIND_OF_TARGET, target_url

from pinads.load.registry import KINDS, kind_of_scheme


def test_every_registered_kind_is_a_contract_target(tmp_path: Path) -> None:
    assert set(KIND_OF_TARGET.values()) == {kind.name for kind in KINDS}
    for target, kind in KIND_OF_TARGET.items():
        named = kind_of_scheme(urlsplit(target_url(target, tmp_path, "s")).scheme)
        assert named is not None and named.name == kind, target
