"""The web UI and JSON API behind `pinads serve`: login, CSRF, API tokens, the Authorizers and
Sources pages, the Create Source wizard, and `/api` (OpenAPI at `/api/openapi.json`).

It adds no logic of its own: every action calls `pinads.auth`, `pinads.catalog`,
`pinads.runner` (sources, preview, runs, backfill) or `pinads.schedule`.

The package imports nothing itself (`create_app` is in `pinads.web.app`): the CLI's user
commands use `pinads.web.users`, and importing them must not load FastAPI and the pages into
every `pinads run`.
"""
