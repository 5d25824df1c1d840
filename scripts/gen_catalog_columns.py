"""Generate `src/pinads/catalog/_spec_columns.py`: the column names Pinterest's spec allows.

The catalog types, describes and groups these columns itself (`pinads.catalog.metrics`); this
file only pins down the raw name lists so that the package needs no I/O at import and a stale
list is caught: `--check` exits 1 when the committed module differs from what the spec gives
(`tests/catalog/test_contract.py` calls it).

Usage: python scripts/gen_catalog_columns.py [--check]
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SPEC_PATH = ROOT / "spec" / "pinterest-openapi.json"
MODULE_PATH = ROOT / "src" / "pinads" / "catalog" / "_spec_columns.py"

_HEADER = '''"""Column names allowed by Pinterest's OpenAPI description (generated, do not edit).

Regenerate with `python scripts/gen_catalog_columns.py` after updating the vendored spec.
"""

__all__ = ["ASYNC_COLUMNS", "SPEC_VERSION", "SYNC_COLUMNS"]

SPEC_VERSION = "{version}"

# components.parameters.query_columns: the `columns` of every synchronous analytics endpoint.
SYNC_COLUMNS: tuple[str, ...] = (
{sync}
)

# components.schemas.ReportingColumnAsync: the `columns` of POST /ad_accounts/{{id}}/reports.
ASYNC_COLUMNS: tuple[str, ...] = (
{async_}
)
'''


def _lines(names: list[str]) -> str:
    return "\n".join(f'    "{name}",' for name in names)


def render(spec: dict[str, Any]) -> str:
    sync = spec["components"]["parameters"]["query_columns"]["schema"]["items"]["enum"]
    async_ = spec["components"]["schemas"]["ReportingColumnAsync"]["enum"]
    return _HEADER.format(
        version=spec["info"]["version"], sync=_lines(list(sync)), async_=_lines(list(async_))
    )


def main(argv: list[str]) -> int:
    text = render(json.loads(SPEC_PATH.read_text()))
    if "--check" in argv:
        current = MODULE_PATH.read_text() if MODULE_PATH.exists() else ""
        if current != text:
            print(f"{MODULE_PATH} is stale: run python scripts/gen_catalog_columns.py")
            return 1
        return 0
    MODULE_PATH.write_text(text)
    print(f"wrote {MODULE_PATH} ({len(text)} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
