"""RFC 9457 problem details, built from pydantic validation errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic import ValidationError

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:complaints:problem:"
ROOT = "(body)"

Problem = dict[str, Any]


def problem(
    *, kind: str, title: str, status: int, detail: str, errors: Sequence[Mapping[str, str]] = ()
) -> Problem:
    """A problem details object; `errors` (location, message) is our extension member."""
    body: Problem = {"type": TYPE_BASE + kind, "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = [dict(e) for e in errors]
    return body


def location(loc: Sequence[str | int], *, drop_prefix: Sequence[str] = ()) -> str:
    """A dotted path to the bad field ("customer.phone"), without framework prefixes like "body"."""
    parts = list(loc)
    if parts[: len(drop_prefix)] == list(drop_prefix):
        parts = parts[len(drop_prefix) :]
    return ".".join(str(p) for p in parts) or ROOT


def field_errors(
    errors: Iterable[Mapping[str, Any]], *, drop_prefix: Sequence[str] = ()
) -> list[dict[str, str]]:
    """One {location, message} per pydantic error; malformed JSON names the body and position."""
    out: list[dict[str, str]] = []
    for err in errors:
        if err.get("type") == "json_invalid":
            ctx = err.get("ctx") or {}
            where = [p for p in err.get("loc", ()) if isinstance(p, int)]
            at = f" at character {where[-1]}" if where else ""
            reason = f": {ctx['error']}" if "error" in ctx else ""
            out.append({"location": ROOT, "message": f"Invalid JSON{at}{reason}"})
            continue
        out.append(
            {
                "location": location(err.get("loc", ()), drop_prefix=drop_prefix),
                "message": str(err.get("msg", "invalid")),
            }
        )
    return out


def validation_problem(
    errors: Iterable[Mapping[str, Any]], *, drop_prefix: Sequence[str] = ()
) -> Problem:
    """422 problem details naming each bad field."""
    listed = field_errors(errors, drop_prefix=drop_prefix)
    malformed = any(
        e["location"] == ROOT and e["message"].startswith("Invalid JSON") for e in listed
    )
    if malformed:
        return problem(
            kind="malformed-json",
            title="Request body is not valid JSON",
            status=422,
            detail="The request body could not be parsed as JSON.",
            errors=listed,
        )
    return invalid_fields(listed)


def invalid_fields(listed: Sequence[Mapping[str, str]]) -> Problem:
    """422 problem details naming each bad field ({location, message} each)."""
    return problem(
        kind="validation-error",
        title="Request has invalid fields",
        status=422,
        detail=f"{len(listed)} invalid field(s): " + ", ".join(e["location"] for e in listed),
        errors=listed,
    )


def problem_from_validation_error(exc: ValidationError) -> Problem:
    return validation_problem(exc.errors())
