"""The `complaints` command: run the pipeline locally, publish complaints, run a broker."""

from __future__ import annotations

import os
import shutil
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from complaints_cli import broker as local_broker
from complaints_cli.classify import classify
from complaints_cli.demo import demo_complaints
from complaints_cli.operator import channel_key, console_user, reapply_policy, recompute_calendars
from complaints_cli.partitions import add_partitions_command
from complaints_cli.replay import app as replay_app
from complaints_cli.report import report
from complaints_cli.send import acknowledge, load_file, send_http, send_kafka
from complaints_cli.signals import Stopped, ignoring_signals, stopping_on_signals
from complaints_cli.simulate import simulate
from complaints_cli.sink import WebhookSink
from complaints_cli.stack import Stack
from complaints_cli.topics import topics
from complaints_cli.train import train_classifier
from complaints_kit.kafka import provision_topics
from complaints_kit.settings import KafkaSettings
from complaints_schemas.topics import ALL_TOPICS

app = typer.Typer(help="Complaint escalation pipeline: local run, demo traffic, tools.")
app.command()(classify)
app.command()(simulate)
app.command()(report)
app.command(name="reapply-policy")(reapply_policy)
app.command(name="recompute-calendars")(recompute_calendars)
app.command(name="channel-key")(channel_key)
app.command(name="train-classifier")(train_classifier)
app.command()(topics)
app.command(name="add-partitions")(add_partitions_command)
app.add_typer(replay_app, name="replay")
app.command(name="console-user")(console_user)
console = Console()

LOCAL_DIR = local_broker.REPO_ROOT / ".local"
# Compressed SLAs so the demo shows a breach and a second level within a minute.
DEV_SLAS = {
    "ESCALATION_RESPONSE_SLA_RED": "20",
    "ESCALATION_RESPONSE_SLA_YELLOW": "40",
    "ESCALATION_RESPONSE_SLA_GREEN": "60",
    "ESCALATION_LEVEL_INTERVAL": "30",
}


def _dev_broker(state_dir: Path, fresh: bool) -> local_broker.LocalKafka:
    if fresh:
        shutil.rmtree(state_dir, ignore_errors=True)
    kafka = local_broker.LocalKafka(state_dir=state_dir)
    if local_broker.port_free(9092) and local_broker.port_free(9093):
        kafka.port, kafka.controller_port = 9092, 9093
    return kafka


@app.command()
def dev(
    fresh: Annotated[bool, typer.Option(help="Start from an empty broker and state.")] = False,
    demo: Annotated[bool, typer.Option(help="Send the demo complaints.")] = True,
    exit_after: Annotated[
        float, typer.Option(help="Stop after this many seconds (0: run until Ctrl-C).")
    ] = 0,
    until_delivered: Annotated[
        bool, typer.Option(help="Stop once the sink has received an escalation (exit 1 if none).")
    ] = False,
    workdir: Annotated[
        Path | None, typer.Option(help="Logs, sink log, broker and service data (.local/dev).")
    ] = None,
) -> None:
    """Run everything locally: broker, topics, the four services, a webhook sink, demo traffic.

    Ctrl-C, SIGTERM and SIGHUP stop it all: services, sink and broker, ports released."""
    workdir = workdir or LOCAL_DIR / "dev"
    if fresh:  # escalation keeps its states on local disk, next to the broker's data
        shutil.rmtree(workdir / "data", ignore_errors=True)
        shutil.rmtree(workdir / "console", ignore_errors=True)  # the read model too
    existing = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    kafka = None if existing else _dev_broker(workdir / "kafka", fresh)
    stack: Stack | None = None
    delivered = 0
    with stopping_on_signals():
        try:
            if kafka is not None:
                with console.status("Fetching Apache Kafka with mvn and starting the broker..."):
                    kafka.start()
            bootstrap = existing or (kafka.bootstrap_servers if kafka else "")
            stack = Stack(
                bootstrap=bootstrap,
                workdir=workdir,
                env={"escalation": DEV_SLAS},
                fixed_ports=True,
                sink_port=8099 if local_broker.port_free(8099) else 0,
                console=True,
                database_url=os.environ.get("CONSOLE_DATABASE_URL", ""),
            )
            with console.status(
                "Starting intake, classifier, escalation, notifier, projector and console..."
            ):
                ready = stack.start()
            _print_where_to_look(stack, bootstrap, kafka, ready)
            if demo:
                _send_demo(stack)
            delivered = _follow_sink(stack, exit_after=exit_after, until_delivered=until_delivered)
        except (KeyboardInterrupt, Stopped):
            pass
        finally:
            with ignoring_signals(), console.status("Stopping..."):
                if stack is not None:
                    stack.stop()
                if kafka is not None:
                    kafka.stop()
            console.print("Stopped.")
    if until_delivered and not delivered:
        raise typer.Exit(1)


def _print_where_to_look(
    stack: Stack, bootstrap: str, kafka: local_broker.LocalKafka | None, ready: dict[str, float]
) -> None:
    table = Table(title="Complaint escalation pipeline is up", show_lines=False)
    table.add_column("what")
    table.add_column("where")
    broker_note = (
        f" (Apache Kafka {local_broker.kafka_version()}, log {kafka.log_path})" if kafka else ""
    )
    table.add_row("Kafka broker", bootstrap + broker_note)
    intake = stack.services["intake"].base_url
    table.add_row("Intake API docs", f"{intake}/docs")
    table.add_row("Post a complaint", f"POST {intake}/v1/complaints")
    for name, proc in stack.services.items():
        table.add_row(f"{name} metrics", f"{proc.base_url}/metrics  (ready in {ready[name]:.1f}s)")
    table.add_row("Console (queue, complaints, reports)", f"{stack.console_url}/queue")
    table.add_row(
        "Console demo sign-in",
        "wang / demo (payments owner), zhao / demo (logistics owner), li / demo (agent), "
        "admin / demo",
    )
    table.add_row("Read model", stack.database_url)
    assert stack.sink is not None
    table.add_row("Webhook sink", f"{stack.sink.url}  (GET /deliveries)")
    table.add_row("Sink log", str(stack.workdir / "sink.jsonl"))
    table.add_row("Service logs", str(stack.workdir / "logs"))
    console.print(table)


def _send_demo(stack: Stack) -> None:
    intake = stack.services["intake"].base_url
    run_id = uuid.uuid4().hex[:8]
    answers = send_http(demo_complaints(run_id=run_id, now=datetime.now(UTC)), base_url=intake)
    accepted = [a for a in answers if a["status"] == 202]
    console.print(f"Sent {len(answers)} demo complaints, {len(accepted)} accepted.")
    if accepted:
        # The last one is acknowledged at once: its clock stops and it never escalates.
        acknowledge(accepted[-1]["complaint_id"], base_url=intake)
        console.print(f"Acknowledged {accepted[-1]['complaint_id']}: it will not escalate.")
    console.print(
        "Response SLAs are compressed for the demo (red 20 s, yellow 40 s, green 60 s); "
        "escalations appear below as the sink receives them. Ctrl-C stops everything."
    )


def _follow_sink(stack: Stack, *, exit_after: float, until_delivered: bool) -> int:
    """Print escalations as the sink receives them; return how many arrived."""
    assert stack.sink is not None
    shown = 0
    started = time.monotonic()
    while exit_after <= 0 or time.monotonic() - started < exit_after:
        if until_delivered and shown:
            break
        received = stack.sink.received()
        for entry in received[shown:]:
            data = (entry.get("payload") or {}).get("data", {})
            console.print(
                f"[bold]webhook[/] {data.get('kind')} level {data.get('level')} "
                f"{data.get('severity')}/{data.get('scope')} {data.get('department')}: "
                f"{data.get('title')}  signature "
                + ("[green]valid[/]" if entry["signature_valid"] else "[red]INVALID[/]")
            )
        shown = len(received)
        time.sleep(0.5)
    return shown


@app.command()
def send(
    file: Annotated[
        Path | None, typer.Argument(help="JSON array or JSON Lines of complaints.")
    ] = None,
    demo: Annotated[bool, typer.Option(help="Send the built-in demo complaints.")] = False,
    via: Annotated[
        str, typer.Option(help="http (intake API) or kafka (submitted topic).")
    ] = "http",
    url: Annotated[str, typer.Option(help="Intake base URL.")] = "http://127.0.0.1:8080",
) -> None:
    """Publish complaints from FILE, or the demo set, through intake."""
    if file is not None and not demo:
        items = load_file(file)
    elif file is None and demo:
        items = demo_complaints(run_id=uuid.uuid4().hex[:8], now=datetime.now(UTC))
    else:
        raise typer.BadParameter("give either FILE or --demo")
    if via == "kafka":
        count = send_kafka(items, bootstrap=KafkaSettings().bootstrap_servers)
        console.print(f"Published {count} complaints to complaints.submitted.v1.")
        return
    for answer in send_http(items, base_url=url):
        console.print(answer)


@app.command()
def broker(
    state_dir: Annotated[Path, typer.Option(help="Where the broker keeps its data.")] = LOCAL_DIR
    / "kafka",
    port: Annotated[int, typer.Option(help="Client port.")] = 9092,
) -> None:
    """Run a local single-node Kafka broker (KRaft) in the foreground until Ctrl-C."""
    kafka = local_broker.LocalKafka(state_dir=state_dir, port=port)
    with console.status("Fetching Apache Kafka with mvn and starting the broker..."):
        kafka.start()
    provision_topics(KafkaSettings(bootstrap_servers=kafka.bootstrap_servers), ALL_TOPICS)
    console.print(
        f"Kafka {local_broker.kafka_version()} at {kafka.bootstrap_servers}; Ctrl-C stops it."
    )
    with stopping_on_signals():
        try:
            while kafka.process is not None and kafka.process.poll() is None:
                time.sleep(1)
        except (KeyboardInterrupt, Stopped):
            pass
        finally:
            with ignoring_signals():
                kafka.stop()


@app.command()
def sink(
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8099,
    host: Annotated[str, typer.Option(help="Address to bind.")] = "127.0.0.1",
    secret: Annotated[
        str, typer.Option(envvar="NOTIFIER_WEBHOOK_SECRET", help="The whsec_ signing secret.")
    ] = "",
) -> None:
    """Run the webhook sink alone: verify and print each escalation it receives."""
    if not secret:
        raise typer.BadParameter("set --secret or NOTIFIER_WEBHOOK_SECRET")
    receiver = WebhookSink(secret=secret, host=host, port=port).start()
    console.print(
        f"Webhook sink on http://{host}:{receiver.port}/hooks/escalations; Ctrl-C stops it."
    )
    shown = 0
    with stopping_on_signals():
        try:
            while True:
                received = receiver.received()
                for entry in received[shown:]:
                    console.print_json(data=entry)
                shown = len(received)
                time.sleep(0.5)
        except (KeyboardInterrupt, Stopped):
            pass
        finally:
            receiver.stop()


if __name__ == "__main__":
    app()
