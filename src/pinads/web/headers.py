"""Security headers on every response: pages, the JSON API, static files, errors, redirects.

The pages load only their own stylesheet and script (no inline code), so the policy can be
strict: nothing from elsewhere, no plugins, no <base>, forms post only here, and no other
site may frame a page (clickjacking). Answers carry private data, so none may be stored by a
browser or a proxy; static files may be cached, revalidated so an upgrade shows at once.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CONTENT_SECURITY_POLICY", "SecurityHeadersMiddleware", "security_headers"]

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'self'",
        "frame-ancestors 'none'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
    )
)
_ALWAYS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
STATIC_PREFIX = "/static/"


def security_headers(path: str, *, status_code: int = 200) -> dict[str, str]:
    """The headers for an answer to `path` (a static file may be cached, nothing else)."""
    cacheable = path.startswith(STATIC_PREFIX) and status_code < 400
    return {**_ALWAYS, "Cache-Control": "no-cache" if cacheable else "no-store"}


class SecurityHeadersMiddleware:
    """Sets `security_headers` on every HTTP response the app below it sends."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in security_headers(path, status_code=message["status"]).items():
                    headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
