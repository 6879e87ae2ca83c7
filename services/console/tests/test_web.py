"""The console in process (ASGI) over a SQLite read model; intake is a recording fake."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine

from complaints_console.settings import ConsoleSettings
from complaints_console.users_file import load_users
from complaints_console.web.app import build_app
from complaints_console.web.intake import IntakeClient
from complaints_kit.clock import FakeClock
from complaints_schemas.events import LifecycleAction, Severity

from .factories import MIN, T0, breach, classified, delivered, project, response_clock, step

USERS = Path(__file__).resolve().parents[3] / "config" / "console" / "users.example.yaml"


class Intake:
    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []
        self.status = 202

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.posted.append(
            {"path": request.url.path, "auth": request.headers.get("authorization"), **body}
        )
        return httpx.Response(self.status, json={"event_id": body["event_id"]})


@pytest.fixture
def intake() -> Intake:
    return Intake()


@pytest.fixture
async def client(tmp_path: Path, intake: Intake) -> AsyncIterator[tuple[httpx.AsyncClient, Engine]]:
    from .factories import sqlite_engine

    engine = sqlite_engine(tmp_path)
    esc = breach("P-1", at=T0 + 10 * MIN)
    project(
        engine,
        classified("P-1"),
        response_clock("P-1", as_of=T0 + 10 * MIN),
        esc,
        delivered("P-1", esc.escalation_id, at=T0 + 10 * MIN),
        classified("P-2", severity=Severity.GREEN, at=T0 + MIN),
        response_clock("P-2", started=T0 + MIN, budget=120 * MIN),
        classified("L-1", department="logistics", category="logistics_delay"),
        response_clock("L-1", department="logistics"),
    )
    settings = ConsoleSettings(users_file=USERS, intake_api_key="console-key")
    app = build_app(
        settings,
        engine=engine,
        users=load_users(USERS),
        intake=IntakeClient(
            "http://intake", api_key="console-key", transport=httpx.MockTransport(intake.handler)
        ),
        clock=FakeClock(T0 + 12 * MIN),
        registry=CollectorRegistry(),
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://console"
    ) as http:
        yield http, engine


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', html)
    assert found, html[:500]
    return found.group(1)


async def sign_in(http: httpx.AsyncClient, username: str, password: str = "demo") -> httpx.Response:
    page = await http.get("/login")
    return await http.post(
        "/login",
        data={
            "username": username,
            "password": password,
            "csrf": csrf_of(page.text),
            "next": "/queue",
        },
    )


async def test_pages_need_sign_in_and_wrong_passwords_are_refused(client: Any) -> None:
    http, _ = client
    assert (await http.get("/queue")).status_code == 303
    assert (await sign_in(http, "wang", "wrong")).status_code == 401
    assert (await sign_in(http, "nobody")).status_code == 401
    assert (await sign_in(http, "wang")).status_code == 303
    assert (await http.get("/queue")).status_code == 200


async def test_owner_queue_is_sorted_by_next_step_and_scoped(client: Any) -> None:
    http, _ = client
    await sign_in(http, "wang")
    html = (await http.get("/queue?lang=en")).text
    rows = re.findall(r'data-complaint="([^"]+)"', html)
    assert rows == ["P-1", "P-2"]  # P-1 overdue first; logistics' L-1 not shown
    assert "-2m" in html  # P-1 two minutes past its deadline
    overdue = re.findall(r'data-complaint="([^"]+)"', (await http.get("/queue?f=overdue")).text)
    assert overdue == ["P-1"]
    assert (await http.get("/complaints/L-1")).status_code == 404
    page = await http.get("/complaints/P-1")
    assert page.status_code == 200
    assert "138****5678" in page.text
    assert "13812345678" not in page.text
    assert "payments-owner" in page.text  # the alert's receiver and its delivery
    assert "money_at_stake" in page.text


async def test_admin_sees_every_department(client: Any) -> None:
    http, _ = client
    await sign_in(http, "admin")
    rows = re.findall(r'data-complaint="([^"]+)"', (await http.get("/queue")).text)
    assert sorted(rows) == ["L-1", "P-1", "P-2"]


async def test_acknowledge_goes_through_intake_and_shows_at_once(
    client: Any, intake: Intake
) -> None:
    http, engine = client
    await sign_in(http, "wang")
    page = await http.get("/complaints/P-1")
    token = csrf_of(page.text)
    refused = await http.post(
        "/complaints/P-1/actions", data={"action": "acknowledged", "csrf": "forged"}
    )
    assert refused.status_code == 403
    assert intake.posted == []
    done = await http.post(
        "/complaints/P-1/actions",
        data={"action": "acknowledged", "note": "called 13812345678", "csrf": token},
        headers={"HX-Request": "true"},
    )
    assert done.status_code == 200
    [posted] = intake.posted
    assert posted["path"] == "/v1/complaints/P-1/events"
    assert posted["auth"] == "Bearer console-key"
    assert posted["action"] == "acknowledged"
    assert posted["actor"] == "console:wang"
    assert 'data-kind="acknowledged"' in done.text
    assert "138****5678" in done.text
    # The projector reads the event back: the pending step becomes the step, applied once.
    project(
        engine,
        step(
            "P-1",
            LifecycleAction.ACKNOWLEDGED,
            at=T0 + 12 * MIN,
            actor="console:wang",
            event_id=posted["event_id"],
        ),
    )
    page = await http.get("/complaints/P-1")
    assert page.text.count('data-kind="acknowledged"') == 1
    assert "(pending)" not in page.text
    assert "处理中" not in page.text


async def test_agent_may_not_close_and_intake_failure_is_shown(client: Any, intake: Intake) -> None:
    http, _ = client
    await sign_in(http, "li")
    token = csrf_of((await http.get("/complaints/P-1")).text)
    closed = await http.post(
        "/complaints/P-1/actions",
        data={"action": "closed", "csrf": token},
        headers={"HX-Request": "1"},
    )
    assert closed.status_code == 403
    intake.status = 503
    failed = await http.post(
        "/complaints/P-1/actions",
        data={"action": "acknowledged", "csrf": token},
        headers={"HX-Request": "1"},
    )
    assert failed.status_code == 502
    assert (await http.get("/reports")).status_code == 403


async def test_reports_page_and_csv(client: Any) -> None:
    http, _ = client
    await sign_in(http, "wang")
    page = await http.get("/reports?from=2025-03-01&to=2025-03-31")
    assert page.status_code == 200
    assert "<svg" in page.text
    csv_text = (await http.get("/reports.csv?from=2025-03-01&to=2025-03-31")).text
    assert "complaints,all,,,,2" in csv_text  # payments' two, not logistics'


async def test_language_switch(client: Any) -> None:
    http, _ = client
    await sign_in(http, "wang")
    assert "工作队列" in (await http.get("/queue?lang=zh")).text
    assert "Work queue" in (await http.get("/queue?lang=en")).text
    assert "Work queue" in (await http.get("/queue")).text  # remembered in a cookie


async def test_owner_reclassifies_with_a_note(client: Any, intake: Intake) -> None:
    http, engine = client
    await sign_in(http, "wang")
    token = csrf_of((await http.get("/complaints/P-1")).text)
    unchanged = await http.post(
        "/complaints/P-1/actions",
        data={"action": "reclassified", "severity": "red", "csrf": token},
        headers={"HX-Request": "1"},
    )
    assert unchanged.status_code == 403  # nothing would change
    done = await http.post(
        "/complaints/P-1/actions",
        data={"action": "reclassified", "severity": "green", "note": "not urgent", "csrf": token},
        headers={"HX-Request": "1"},
    )
    assert done.status_code == 200
    [posted] = intake.posted
    assert (posted["action"], posted["severity"]) == ("reclassified", "green")
    assert "category" not in posted
    project(
        engine,
        step(
            "P-1",
            LifecycleAction.RECLASSIFIED,
            at=T0 + 12 * MIN,
            event_id=posted["event_id"],
            severity=Severity.GREEN,
        ),
    )
    page = await http.get("/complaints/P-1?lang=en")
    assert 'data-kind="reclassified"' in page.text
    assert "red payment_failure → green" in page.text


async def test_cluster_page_and_triage_list(client: Any) -> None:
    http, engine = client
    for i in range(3):
        project(
            engine, classified(f"K-{i}", at=T0 + i * MIN, cluster_id="CL-9", cluster_size=i + 1)
        )
    project(engine, classified("K-L", department="logistics", cluster_id="CL-9", cluster_size=4))
    await sign_in(http, "wang")
    page = await http.get("/clusters/CL-9?lang=en")
    assert page.status_code == 200
    members = re.findall(r'href="/complaints/(K-[^"]+)"', page.text)
    assert members == ["K-0", "K-1", "K-2"]  # the logistics member is not shown to payments
    assert "<svg" in page.text
    assert (await http.get("/clusters/nope")).status_code == 404
    triage = await http.get("/triage", follow_redirects=True)
    assert triage.status_code == 200
