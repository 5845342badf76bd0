"""Asana-shaped errors: `{"errors": [{"message", "help"(, "phrase")}]}` with the matching status."""

from __future__ import annotations

import json
import random

from starlette.responses import Response

HELP = (
    "For more information on API status codes and how to handle them, read the docs on errors: "
    "https://developers.asana.com/docs/errors"
)
RATE_LIMIT_MESSAGE = (
    "You've made too many requests and hit a rate limit. Please retry after the given amount of time."
)

_PHRASE_WORDS = (
    ("6", "7", "12", "21", "30"),
    ("sad", "brave", "quiet", "lucky", "sleepy"),
    ("squid", "otters", "herons", "pandas", "yaks"),
    ("snuggle", "wander", "juggle", "whistle", "ponder"),
    ("softly", "boldly", "gently", "swiftly", "calmly"),
)


class ApiError(Exception):
    """Raised by handlers; rendered by the app's exception handler."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


def not_found(what: str = "Unknown object") -> ApiError:
    return ApiError(
        404,
        f"{what}: Not Found"
        if what != "Unknown object"
        else "Unknown object: The object you are looking for does not exist.",
    )


def forbidden(message: str = "You do not have access to the requested object.") -> ApiError:
    return ApiError(403, message)


def error_phrase(rng: random.Random | None = None) -> str:
    pick = rng or random.Random()
    return " ".join(pick.choice(words) for words in _PHRASE_WORDS)


def error_body(status: int, message: str, rng: random.Random | None = None) -> dict[str, object]:
    entry: dict[str, str] = {"message": message, "help": HELP}
    if status >= 500:
        entry["phrase"] = error_phrase(rng)
    return {"errors": [entry]}


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None, extra: dict[str, object] | None = None
) -> Response:
    body = error_body(status, message)
    if extra:
        body.update(extra)
    return Response(
        json.dumps(body), status_code=status, headers=headers, media_type="application/json; charset=utf-8"
    )
