"""`complaints report` prints the read model's figures (the console's reports page's)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from complaints_cli.main import app
from complaints_console.projector import apply
from complaints_console.readmodel.database import engine_for, migrate
from complaints_schemas.events import (
    Channel,
    ClockState,
    ClockView,
    ComplaintAccepted,
    ComplaintClassified,
    ComplaintClocksUpdated,
    Customer,
    Scope,
    Severity,
)

T0 = datetime(2025, 3, 3, 1, 0, tzinfo=UTC)


def test_report_from_the_read_model(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/rm.db"
    engine = engine_for(url)
    migrate(engine)
    accepted = ComplaintAccepted(
        channel=Channel.APP,
        channel_event_id="c-1",
        customer=Customer(id="u-1"),
        title="支付失败",
        description="扣款两次",
        occurred_at=T0,
        complaint_id="R-1",
        accepted_at=T0,
        language="zh",
    )
    event = ComplaintClassified(
        complaint_id="R-1",
        classified_at=T0,
        severity=Severity.RED,
        scope=Scope.INDIVIDUAL,
        category="payment",
        department="payments",
        fingerprint="fp",
        reasons=(),
        complaint=accepted,
    )
    clock = ClockView(
        name="response",
        state=ClockState.STOPPED,
        calendar="24x7",
        target_amount=10,
        target_unit="minutes",
        started_at=T0,
        deadline=T0 + timedelta(minutes=10),
        stopped_at=T0 + timedelta(minutes=3),
        budget_s=600,
        used_s=180,
    )
    with engine.begin() as conn:
        apply.classified(conn, event, {})
        apply.clocks_updated(
            conn,
            ComplaintClocksUpdated(
                complaint_id="R-1", version=1, updated_at=T0, status="open", clocks=(clock,)
            ),
        )
    engine.dispose()
    runner = CliRunner()
    shown = runner.invoke(
        app, ["report", "--database", url, "--from", "2025-03-01", "--to", "2025-04-01"]
    )
    assert shown.exit_code == 0, shown.output
    assert "response within SLA: 100.0%" in shown.output
    as_csv = runner.invoke(
        app, ["report", "--database", url, "--from", "2025-03-01", "--to", "2025-04-01", "--csv"]
    )
    assert "clock,response,1,0,0,1.0000" in as_csv.output
