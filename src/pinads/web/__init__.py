"""The web UI and JSON API behind `pinads serve`: login, CSRF, API tokens, the Authorizers and
Sources pages, the Create Source wizard, and `/api` (OpenAPI at `/api/openapi.json`).

It adds no logic of its own: every action calls `pinads.auth`, `pinads.catalog`,
`pinads.runner` (sources, preview, runs, backfill) or `pinads.schedule`.
"""

from pinads.web.app import SESSION_COOKIE, create_app
from pinads.web.users import WebUsers

__all__ = ["SESSION_COOKIE", "WebUsers", "create_app"]
