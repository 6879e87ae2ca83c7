"""Outbound: the console's actions become lifecycle events through intake's API."""

from __future__ import annotations

from datetime import datetime

import httpx


class IntakeError(RuntimeError):
    """Intake refused or could not be reached; `status` is its HTTP status (0: unreachable)."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail


class IntakeClient:
    def __init__(
        self,
        base_url: str,
        *,
        api_key: str,
        timeout: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.AsyncClient(
            base_url=base_url.rstrip("/"), headers=headers, timeout=timeout, transport=transport
        )

    async def record(
        self,
        complaint_id: str,
        *,
        action: str,
        event_id: str,
        occurred_at: datetime,
        actor: str,
        note: str | None,
        to_department: str | None,
        severity: str | None = None,
        scope: str | None = None,
        category: str | None = None,
    ) -> None:
        """POST /v1/complaints/{id}/events; returns once intake has it on the broker (202)."""
        body = {
            "action": action,
            "event_id": event_id,
            "occurred_at": occurred_at.isoformat(),
            "actor": actor,
            "note": note,
            "to_department": to_department,
            "severity": severity,
            "scope": scope,
            "category": category,
        }
        try:
            response = await self._client.post(
                f"/v1/complaints/{complaint_id}/events",
                json={k: v for k, v in body.items() if v is not None},
            )
        except httpx.HTTPError as exc:
            raise IntakeError(0, str(exc)) from exc
        if response.status_code != 202:
            try:
                detail = str(response.json().get("detail") or response.text)
            except ValueError:
                detail = response.text
            raise IntakeError(response.status_code, detail[:500])

    async def aclose(self) -> None:
        await self._client.aclose()
