"""RFC 9457 problem details: every error the API returns is `application/problem+json`."""

from __future__ import annotations

import json
from typing import Any

from flask import Response, request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

PROBLEM_MIMETYPE = "application/problem+json"

# Problem types of this API. Tag URIs (RFC 4151) name them without pretending to be pages;
# a plain HTTP error uses "about:blank" and the status phrase as its title (RFC 9457, 4.2.1).
TYPE_PREFIX = "tag:tenant-reseller-bss,2026:problems/"
VALIDATION = TYPE_PREFIX + "validation-error"
NOT_READY = TYPE_PREFIX + "account-not-ready"
ALREADY_TENANT = TYPE_PREFIX + "already-a-tenant-reseller"
IDEMPOTENCY_MISMATCH = TYPE_PREFIX + "idempotency-key-reused"
INVALID_TOKEN = TYPE_PREFIX + "invalid-token"
DISTRIBUTOR_ONLY = TYPE_PREFIX + "distributor-only"

# Plain-language details for the HTTP errors Werkzeug raises (its own are written for HTML).
DETAILS = {
    400: "The request could not be understood.",
    401: "Send a valid API token: Authorization: Bearer <token>.",
    403: "This token may not do this.",
    404: "There is nothing here, or it belongs to another organization.",
    405: "This resource does not accept that method; see the Allow header.",
    413: "The request body is too large.",
    415: "Send the body as JSON with Content-Type: application/json.",
    500: "Something went wrong on our side. Nothing was changed; try again later.",
}


def dumps(body: Any) -> str:
    """The one JSON serialisation of the API, so that a replayed body is byte-identical."""
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def json_response(body: Any, status: int = 200, headers: dict | None = None) -> Response:
    return Response(dumps(body), status=status, headers=headers, mimetype="application/json")


def problem_body(
    status: int,
    title: str | None = None,
    detail: str | None = None,
    type_: str = "about:blank",
    **extensions: Any,
) -> dict[str, Any]:
    phrase = HTTP_STATUS_CODES.get(status, "Error")
    if type_ == "about:blank":
        title = phrase  # RFC 9457, 4.2.1: about:blank's title is the status phrase
    body = {
        "type": type_,
        "title": title or phrase,
        "status": status,
        "detail": detail or DETAILS.get(status, phrase),
        "instance": request.path,
    }
    body.update(extensions)
    return body


def problem_response(body: dict[str, Any], headers: dict | None = None) -> Response:
    return Response(dumps(body), status=body["status"], headers=headers, mimetype=PROBLEM_MIMETYPE)


class ApiProblem(Exception):
    """Raised anywhere in an API view; the blueprint turns it into a problem response."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str | None = None,
        type_: str = "about:blank",
        headers: dict | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or str(status))
        self.status = status
        self.title = title
        self.detail = detail
        self.type_ = type_
        self.headers = headers or {}
        self.extensions = extensions

    def response(self) -> Response:
        body = problem_body(self.status, self.title, self.detail, self.type_, **self.extensions)
        return problem_response(body, self.headers)


def from_http_exception(error: HTTPException) -> Response:
    """A Werkzeug HTTP error (404, 405, 400, 415, 500…) as a problem."""
    status = error.code or 500
    headers = {}
    if isinstance(error, MethodNotAllowed) and error.valid_methods:
        headers["Allow"] = ", ".join(sorted(error.valid_methods))
    return problem_response(problem_body(status), headers)
