"""A department owner works a red complaint in a real browser, against the running stack."""

from __future__ import annotations

import os
import re
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from complaints_cli.demo import demo_complaints
from complaints_cli.send import send_http
from complaints_cli.stack import Stack
from tests.console_e2e.conftest import LEVEL_INTERVAL_SECONDS, RED_SLA_SECONDS

pytestmark = pytest.mark.e2e
# RENDER_CONSOLE_TO=docs/console writes the README's screenshots from this run.
SCREENSHOTS = os.environ.get("RENDER_CONSOLE_TO")


def red_payment_complaint() -> dict[str, Any]:
    return {
        "channel": "app",
        "channel_event_id": f"console-e2e-{uuid.uuid4().hex}",
        "customer": {
            "id": f"cust-{uuid.uuid4().hex[:8]}",
            "name": "王小明",
            "phone": "13812341234",
        },
        "title": "支付失败但银行卡已扣款",
        "description": "提示支付失败，但是银行卡已经扣款 399 元，请尽快处理。电话 13812341234",
        "occurred_at": datetime.now(UTC).isoformat(),
    }


def post(stack: Stack, complaint: dict[str, Any]) -> str:
    answer = httpx.post(
        f"{stack.services['intake'].base_url}/v1/complaints", json=complaint, timeout=10
    )
    assert answer.status_code == 202, answer.text
    location = answer.headers["location"]
    followed = httpx.get(f"{stack.services['intake'].base_url}{location}", timeout=10)
    assert followed.status_code == 303  # Location resolves: to the console's page
    assert (
        followed.headers["location"]
        == f"{stack.console_url}/complaints/{answer.json()['complaint_id']}"
    )
    return str(answer.json()["complaint_id"])


def sign_in(page: Any, stack: Stack, username: str) -> None:
    page.goto(f"{stack.console_url}/login?lang=en")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(re.compile(r".*/queue.*"))


def deliveries(stack: Stack, complaint_id: str) -> list[dict[str, Any]]:
    assert stack.sink is not None
    return [
        d
        for d in stack.sink.received()
        if (d["payload"] or {}).get("data", {}).get("complaint_id") == complaint_id
    ]


def shoot(page: Any, name: str) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_owner_acknowledges_a_red_complaint_and_the_next_escalation_is_not_sent(
    console_stack: Stack, browser: Any
) -> None:
    stack = console_stack
    if SCREENSHOTS:  # a fuller queue for the README's pictures
        send_http(
            demo_complaints(run_id=uuid.uuid4().hex[:8], now=datetime.now(UTC)),
            base_url=stack.services["intake"].base_url,
        )
    complaint_id = post(stack, red_payment_complaint())
    posted = time.monotonic()
    context = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    sign_in(page, stack, "wang")

    # The red complaint is in the payments owner's queue (reload until the projector has it).
    row = page.locator(f"tr[data-complaint='{complaint_id}']")
    deadline = time.monotonic() + 30
    while not row.count():
        assert time.monotonic() < deadline, "complaint never reached the queue"
        page.goto(f"{stack.console_url}/queue?severity=red")
        time.sleep(0.5)
    assert "red" in (row.get_attribute("class") or "")

    # Its first breach alert arrives and shows in the timeline with its delivery.
    row.locator("[data-testid=open-complaint]").click()
    page.wait_for_url(f"**/complaints/{complaint_id}")
    # (The first alert may be another clock's than response: a surge of alike complaints
    # in the session makes this one a risk, and the risk clock alerts instead.)
    page.locator("li[data-kind=breach]").first.wait_for(timeout=30_000)
    page.locator("li[data-kind=breach] ul.deliveries li.delivered").first.wait_for(timeout=30_000)
    assert "138****1234" in page.content()
    assert "13812341234" not in page.content()

    # Acknowledge with a note: the step is in the timeline at once, then confirmed.
    page.fill("[data-testid=note]", "已电话联系客户 13812341234，退款处理中")
    page.click("[data-testid=action-acknowledged]")
    ack = page.locator("li[data-kind=acknowledged]")
    ack.wait_for(timeout=10_000)
    assert "console:wang" in ack.inner_text()
    assert "138****1234" in ack.inner_text()
    page.wait_for_function(
        "() => { const s = document.querySelector('li[data-kind=acknowledged]');"
        " return s && !s.classList.contains('pending'); }",
        timeout=20_000,
    )
    page.locator("[data-testid=clock-response] [data-testid=no-next-step]").wait_for(timeout=20_000)
    assert page.locator("[data-testid=status]").inner_text().strip().lower() == "acknowledged"
    time.sleep(1)  # anything already on its way has arrived
    page.reload()
    alerts_at_ack = page.locator("li[data-kind=breach]").count()
    sent_at_ack = len(deliveries(stack, complaint_id))
    acked_after = time.monotonic() - posted
    assert acked_after < RED_SLA_SECONDS + LEVEL_INTERVAL_SECONDS - 3, (
        f"acknowledged {acked_after:.0f}s after posting: too late to show the second level held"
    )

    # Past the moment the second level was due: nothing more was sent.
    level_two_due = RED_SLA_SECONDS + LEVEL_INTERVAL_SECONDS
    time.sleep(max(0.0, posted + level_two_due + 4 - time.monotonic()))
    page.reload()
    assert page.locator("li[data-kind=breach]").count() == alerts_at_ack
    assert len(deliveries(stack, complaint_id)) == sent_at_ack
    shoot(page, "complaint")

    today = datetime.now(UTC).date().isoformat()
    page.goto(f"{stack.console_url}/reports?from={today}&to={today}")
    assert page.locator("[data-testid=kpi-response]").inner_text().strip() != ""
    context.close()
    if SCREENSHOTS:  # every department's queue and reports: the admin's view
        admin = browser.new_context(locale="en-US", viewport={"width": 1400, "height": 900})
        view = admin.new_page()
        sign_in(view, stack, "admin")
        view.goto(f"{stack.console_url}/queue")
        shoot(view, "queue")
        view.goto(f"{stack.console_url}/reports?from={today}&to={today}")
        shoot(view, "reports")
        view.goto(f"{stack.console_url}/queue?lang=zh")
        shoot(view, "queue-zh")
        admin.close()


def test_another_department_owner_cannot_see_the_complaint(
    console_stack: Stack, browser: Any
) -> None:
    stack = console_stack
    complaint_id = post(stack, red_payment_complaint())
    admin = browser.new_context(locale="en-US")
    admin_page = admin.new_page()
    sign_in(admin_page, stack, "admin")
    deadline = time.monotonic() + 30
    while True:  # the projector has it: the admin sees it
        response = admin_page.goto(f"{stack.console_url}/complaints/{complaint_id}")
        if response is not None and response.status == 200:
            break
        assert time.monotonic() < deadline, "complaint never projected"
        time.sleep(0.5)
    admin.close()

    other = browser.new_context(locale="en-US")
    page = other.new_page()
    sign_in(page, stack, "zhao")  # logistics
    response = page.goto(f"{stack.console_url}/complaints/{complaint_id}")
    assert response is not None
    assert response.status == 404
    page.goto(f"{stack.console_url}/queue?f=overdue")
    assert page.locator(f"tr[data-complaint='{complaint_id}']").count() == 0
    # Nor can they act on it.
    token = page.locator("input[name=csrf]").first.get_attribute("value")
    answer = page.request.post(
        f"{stack.console_url}/complaints/{complaint_id}/actions",
        form={"action": "acknowledged", "csrf": token or ""},
    )
    assert answer.status == 404
    other.close()


def test_console_metrics_are_catalogued_and_conventional(console_stack: Stack) -> None:
    from tests.e2e.test_metrics_catalogue import check_catalogue, check_conventions

    check_catalogue(console_stack, ("projector", "console"))
    check_conventions(console_stack, ("projector", "console"))
