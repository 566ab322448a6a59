"""What every Toloka-compatible route shares: Toloka's error body, search paging, the crowd.

Toloka answers errors with ``{"code", "message", "payload"}``; toloka-kit picks its exception
class from ``code``. ``TolokaRoute`` turns every crowdline error and request-validation error
raised under /api/v1 into that body, so these routes look like Toloka whatever the app-wide
handlers of the rest of the server do.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Coroutine, Iterable, Mapping
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError

from crowdline.crowd.operations import Operations
from crowdline.crowd.search import Search
from crowdline.errors import (
    AlreadyExists,
    AuthenticationFailed,
    BackendUnavailable,
    Conflict,
    CrowdlineError,
    InvalidInput,
    NotFound,
    PermissionDenied,
    Unsupported,
)

# Codes toloka-kit knows; any other crowdline code is mapped to its category's Toloka code.
TOLOKA_CODES = frozenset({
    "ACCESS_DENIED", "AUTHENTICATION_ERROR", "CONFLICT_STATE", "DOES_NOT_EXIST",
    "INTERNAL_ERROR", "REMOTE_SERVICE_UNAVAILABLE", "TOO_MANY_REQUESTS", "VALIDATION_ERROR",
    "OPERATION_ALREADY_EXISTS", "POOL_INAPPROPRIATE_STATUS", "INAPPROPRIATE_STATUS",
})
_CATEGORY_CODES: tuple[tuple[type[CrowdlineError], str, int], ...] = (
    (InvalidInput, "VALIDATION_ERROR", 400),
    (NotFound, "DOES_NOT_EXIST", 404),
    (AlreadyExists, "CONFLICT_STATE", 409),
    (Conflict, "CONFLICT_STATE", 409),
    (AuthenticationFailed, "AUTHENTICATION_ERROR", 401),
    (PermissionDenied, "ACCESS_DENIED", 403),
    (BackendUnavailable, "REMOTE_SERVICE_UNAVAILABLE", 503),
)


def toloka_error(status: int, code: str, message: str, payload: Any = None) -> JSONResponse:
    body: dict[str, Any] = {"code": code, "message": message}
    if payload is not None:
        body["payload"] = payload
    return JSONResponse(body, status_code=status)


def error_response(exc: CrowdlineError) -> JSONResponse:
    response = _error_response(exc)
    response.headers.update(getattr(exc, "headers", None) or {})  # e.g. Retry-After on 429
    return response


def _error_response(exc: CrowdlineError) -> JSONResponse:
    message = str(exc)
    payload = exc.payload
    if isinstance(exc, Unsupported):
        # toloka-kit raises ValidationApiError for this code; the message names the field.
        return toloka_error(400, "VALIDATION_ERROR", message,
                            payload if payload is not None else {"unsupported": message})
    if exc.code in TOLOKA_CODES:
        return toloka_error(exc.http_status, exc.code, message, payload)
    for category, code, status in _CATEGORY_CODES:
        if isinstance(exc, category):
            return toloka_error(status, code, message, payload)
    return toloka_error(500, "INTERNAL_ERROR", message, payload)


def validation_payload(errors: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, str]]:
    """Pydantic errors as Toloka's ``{field: {code, message}}`` payload."""
    payload: dict[str, dict[str, str]] = {}
    for error in errors:
        location = [str(part) for part in error.get("loc", ()) if part not in ("body", "query")]
        name = ".".join(location) or "body"
        code = "UNSUPPORTED_FIELD" if error.get("type") == "extra_forbidden" else "VALUE_INVALID"
        message = ("crowdline does not support this field; remove it"
                   if code == "UNSUPPORTED_FIELD" else str(error.get("msg", "invalid value")))
        payload[name] = {"code": code, "message": message}
    return payload


def validation_error(errors: Iterable[Mapping[str, Any]]) -> JSONResponse:
    payload = validation_payload(errors)
    fields = ", ".join(f"{name} ({detail['message']})" for name, detail in payload.items())
    return toloka_error(400, "VALIDATION_ERROR", f"invalid request: {fields}", payload)


class TolokaRoute(APIRoute):
    """An APIRoute whose errors come out in Toloka's shape."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def toloka_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except CrowdlineError as exc:
                return error_response(exc)
            except (RequestValidationError, ValidationError) as exc:
                return validation_error(exc.errors())

        return toloka_handler


# -- shared request helpers ----------------------------------------------------------------


def crowd_of(request: Request) -> Any:
    return request.app.state.workspace.crowd


def operations_of(request: Request) -> Operations:
    return Operations(request.app.state.workspace.engine)


def parse_body(model: type[BaseModel], data: Any) -> Any:
    """Validate a JSON body against a request schema (extra fields are named and refused)."""
    return model.model_validate(data)


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw:
        return None
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"the request body is not JSON: {exc}",
                           hint="send a JSON document with Content-Type: application/json") \
            from exc


def without(data: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in data.items() if k not in keys}


def iso(value: Any) -> Any:
    """A datetime as Toloka writes it (UTC, no offset); anything else unchanged."""
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(timespec="milliseconds")
    return value


def toloka_json(obj: Any) -> dict[str, Any]:
    """A crowd object's ``to_dict()`` with datetimes as Toloka strings and None dropped."""
    data = obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)
    return _clean(data)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return iso(value)


# -- searching: Toloka's filters, sort, limit and has_more ---------------------------------

SEARCH_CONTROL = frozenset({"sort", "limit"})
ID_AND_CREATED: dict[str, type] = {"id": str, "created": dt.datetime}
COMPARISONS = {"lt": lambda a, b: a < b, "lte": lambda a, b: a <= b,
               "gt": lambda a, b: a > b, "gte": lambda a, b: a >= b}


def _as_comparable(value: Any, kind: type) -> Any:
    if kind is int:
        return int(value)
    if kind is dt.datetime:
        text = str(value).replace("Z", "")
        parsed = dt.datetime.fromisoformat(text)
        return parsed.astimezone(dt.UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    return str(value)  # ids compare as strings, exactly as toloka-kit pages them


def search(
    items: list[dict[str, Any]],
    query: Mapping[str, str],
    *,
    equal: Iterable[str] = (),
    compare: Mapping[str, type] | None = None,
    consumed: Iterable[str] = (),
    default_sort: str = "id",
    default_limit: int = 50,
    max_limit: int = 100_000,
) -> dict[str, Any]:
    """Filter, sort and page Toloka JSON objects the way Toloka's search endpoints do.

    ``equal`` names query parameters matched for equality against the item's field;
    ``compare`` names fields allowed in ``<field>_gt/_gte/_lt/_lte``; ``consumed`` names
    parameters the route handled itself. Any other parameter is refused by name.
    """
    compare = dict(compare or {"id": str})
    allowed = set(SEARCH_CONTROL) | set(equal) | set(consumed)
    allowed |= {f"{f}_{op}" for f in compare for op in COMPARISONS}
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise Unsupported(f"search parameter(s) {', '.join(unknown)} are not supported here",
                          hint=f"supported: {', '.join(sorted(allowed))}",
                          payload={name: {"code": "UNSUPPORTED_FIELD",
                                          "message": "not supported by crowdline"}
                                   for name in unknown})
    result = items
    for name in equal:
        if name in query:
            wanted = str(query[name])
            result = [item for item in result if str(item.get(name)) == wanted]
    for name, value in query.items():
        field, _, op = name.rpartition("_")
        if field in compare and op in COMPARISONS:
            kind = compare[field]
            try:
                bound = _as_comparable(value, kind)
            except ValueError as exc:
                raise InvalidInput(f"{name}={value!r} is not a valid {kind.__name__}") from exc
            result = [item for item in result if item.get(field) is not None
                      and COMPARISONS[op](_as_comparable(item[field], kind), bound)]
    sort_keys = [key.strip() for key in query.get("sort", default_sort).split(",") if key.strip()]
    for key in reversed(sort_keys):
        field = key.lstrip("-")
        if field not in compare and field not in equal:
            raise Unsupported(f"sorting by {field!r} is not supported here",
                              hint=f"sort by one of: {', '.join(sorted(compare))}")
        kind = compare.get(field, str)
        result = sorted(
            result,
            key=lambda item, f=field, k=kind: (item.get(f) is None,
                                               _as_comparable(item.get(f) or "", k)
                                               if item.get(f) is not None else ""),
            reverse=key.startswith("-"),
        )
    try:
        limit = int(query.get("limit", default_limit))
    except ValueError as exc:
        raise InvalidInput(f"limit={query.get('limit')!r} is not a number") from exc
    if not 1 <= limit <= max_limit:
        raise InvalidInput(f"limit must be between 1 and {max_limit}, not {limit}")
    return {"items": result[:limit], "has_more": len(result) > limit}


def parse_search(
    query: Mapping[str, str],
    *,
    equal: Iterable[str] = (),
    compare: Iterable[str] = ("id",),
    consumed: Iterable[str] = (),
    default_sort: str = "id",
    default_limit: int = 50,
    max_limit: int = 100_000,
) -> Search:
    """Toloka's search parameters as a ``crowdline.crowd.search.Search`` (run in SQL); any
    parameter not named here is refused by name, as ``search`` does."""
    compare = set(compare)
    allowed = set(SEARCH_CONTROL) | set(equal) | set(consumed)
    allowed |= {f"{f}_{op}" for f in compare for op in COMPARISONS}
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise Unsupported(f"search parameter(s) {', '.join(unknown)} are not supported here",
                          hint=f"supported: {', '.join(sorted(allowed))}",
                          payload={name: {"code": "UNSUPPORTED_FIELD",
                                          "message": "not supported by crowdline"}
                                   for name in unknown})
    found = Search(equal={name: query[name] for name in equal if name in query})
    for name, value in query.items():
        field, _, op = name.rpartition("_")
        if field in compare and op in COMPARISONS:
            found.ranges.append((field, op, value))
    sort = []
    for item in query.get("sort", default_sort).split(","):
        name = item.strip().lstrip("-")
        if not name:
            continue
        if name not in compare and name not in equal:
            raise Unsupported(f"sorting by {name!r} is not supported here",
                              hint=f"sort by one of: {', '.join(sorted(compare))}")
        sort.append((name, item.strip().startswith("-")))
    found.sort = sort or [("id", False)]
    try:
        found.limit = int(query.get("limit", default_limit))
    except ValueError as exc:
        raise InvalidInput(f"limit={query.get('limit')!r} is not a number") from exc
    if not 1 <= found.limit <= max_limit:
        raise InvalidInput(f"limit must be between 1 and {max_limit}, not {found.limit}")
    return found


def parse_bool(query: Mapping[str, str], name: str, default: bool) -> bool:
    if name not in query:
        return default
    value = str(query[name]).lower()
    if value in ("true", "1"):
        return True
    if value in ("false", "0"):
        return False
    raise InvalidInput(f"query parameter {name}={query[name]!r} is not true or false")
