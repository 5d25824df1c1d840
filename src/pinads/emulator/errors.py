"""Pinterest's error bodies: `{"code": int, "message": str}` with the HTTP status."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = [
    "AUTH_FAILED",
    "FORBIDDEN",
    "MISSING_SCOPE",
    "ApiProblemError",
    "problem_handler",
]


class ApiProblemError(Exception):
    """Raised by handlers; rendered as Pinterest's error body with `status`."""

    def __init__(self, status: int, code: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


AUTH_FAILED = (401, 2, "Authentication failed.")
MISSING_SCOPE = (
    401,
    3,
    "Your token does not have sufficient permissions to perform this operation. "
    "Please ensure your token is authorized with the correct set of scopes.",
)
FORBIDDEN = (403, 29, "You are not permitted to access that resource.")


async def problem_handler(request: Request, exc: Exception) -> Response:
    """Starlette exception handler for `ApiProblemError`."""
    assert isinstance(exc, ApiProblemError)
    return JSONResponse({"code": exc.code, "message": exc.message}, status_code=exc.status)
