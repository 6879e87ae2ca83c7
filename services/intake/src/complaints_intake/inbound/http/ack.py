"""Acknowledge from the alert: GET /v1/ack/{token} confirms, POST records `acknowledged`."""

from __future__ import annotations

from collections import OrderedDict
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import HTMLResponse

from complaints_intake.domain.ack_pages import acknowledged_page, confirm_page, refusal_page
from complaints_intake.inbound.http.routes import Handlers, clock, settings
from complaints_intake.settings import IntakeSettings
from complaints_kit.clock import Clock
from complaints_schemas.ack_links import AckClaims, InvalidAckToken, ack_event_id, verify_ack_token
from complaints_schemas.events import ComplaintLifecycleEvent, LifecycleAction

router = APIRouter(prefix="/v1/ack", include_in_schema=True)

Token = Annotated[str, Path(min_length=1, max_length=2048)]
MAX_REMEMBERED = 100_000


class UsedLinks:
    """Links redeemed by this process (bounded). Across processes the lifecycle event id, derived
    from the token, makes a second redemption a resend the escalation engine ignores."""

    def __init__(self, max_entries: int = MAX_REMEMBERED) -> None:
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._max = max_entries

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._seen

    def add(self, event_id: str) -> None:
        self._seen[event_id] = None
        while len(self._seen) > self._max:
            self._seen.popitem(last=False)


def used_links(request: Request) -> UsedLinks:
    state = request.app.state
    if getattr(state, "used_ack_links", None) is None:
        state.used_ack_links = UsedLinks()
    value: UsedLinks = state.used_ack_links
    return value


def _check(
    token: str, config: IntakeSettings, now: Clock, used: UsedLinks
) -> AckClaims | HTMLResponse:
    secret = config.ack_link_secret.get_secret_value()
    if not secret:
        return _refuse("disabled")
    try:
        claims = verify_ack_token(token, secret=secret, now=now.now())
    except InvalidAckToken as exc:
        return _refuse(exc.problem)
    if ack_event_id(token) in used:
        return _refuse("reused")
    return claims


def _refuse(problem: str) -> HTMLResponse:
    status, page = refusal_page(problem)
    return HTMLResponse(page, status_code=status, headers={"cache-control": "no-store"})


Config = Annotated[IntakeSettings, Depends(settings)]
Now = Annotated[Clock, Depends(clock)]
Used = Annotated[UsedLinks, Depends(used_links)]


@router.get("/{token}", response_class=HTMLResponse)
async def confirm(
    token: Token, request: Request, config: Config, now: Now, used: Used
) -> HTMLResponse:
    """A confirmation page (chat apps prefetch links: a GET must not acknowledge)."""
    checked = _check(token, config, now, used)
    if isinstance(checked, HTMLResponse):
        return checked
    page = confirm_page(
        complaint_id=checked.complaint_id,
        escalation_id=checked.escalation_id,
        action=str(request.url.path),
        clock=checked.clock,
    )
    return HTMLResponse(page, headers={"cache-control": "no-store"})


@router.post("/{token}", response_class=HTMLResponse)
async def acknowledge(
    token: Token, handlers: Handlers, config: Config, now: Now, used: Used
) -> HTMLResponse:
    """Publish `acknowledged` for the link's complaint and clock, once; that clock's chain stops."""
    checked = _check(token, config, now, used)
    if isinstance(checked, HTMLResponse):
        return checked
    event_id = ack_event_id(token)
    event = ComplaintLifecycleEvent(
        event_id=event_id,
        complaint_id=checked.complaint_id,
        action=LifecycleAction.ACKNOWLEDGED,
        occurred_at=now.now(),
        actor=checked.actor[:128],
        note=f"acknowledged from the alert of escalation {checked.escalation_id}",
        clock=checked.clock,
    )
    await handlers.record_lifecycle(event)
    used.add(event_id)
    return HTMLResponse(
        acknowledged_page(complaint_id=checked.complaint_id, clock=checked.clock),
        headers={"cache-control": "no-store"},
    )
