"""Operator tools: re-apply the policy to open complaints; make channel API keys."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Annotated

import typer
from confluent_kafka import Producer

from complaints_intake.domain.channels import hash_key
from complaints_kit.kafka import producer_config
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import ComplaintLifecycleEvent, LifecycleAction
from complaints_schemas.topics import LIFECYCLE


def reapply_events(
    complaint_ids: list[str], *, operator: str, note: str | None, now: datetime
) -> list[ComplaintLifecycleEvent]:
    """One re-apply step per complaint; the id names the instant, so a rerun is a new decision."""
    stamp = int(now.timestamp() * 1000)
    return [
        ComplaintLifecycleEvent(
            event_id=f"reapply-{cid}-{stamp}",
            complaint_id=cid,
            action=LifecycleAction.POLICY_REAPPLIED,
            occurred_at=now,
            actor=operator,
            note=note,
        )
        for cid in complaint_ids
    ]


def publish(events: list[ComplaintLifecycleEvent], *, kafka: KafkaSettings) -> None:
    producer = Producer(producer_config(kafka))
    for event in events:
        record = cloudevents.encode(
            event, source="/operators", id=event.event_id, time=event.occurred_at
        )
        producer.produce(LIFECYCLE.name, key=record.key, value=record.value, headers=record.headers)
    if producer.flush(30):
        typer.echo(f"the broker did not take every step in 30 s ({kafka.bootstrap_servers})")
        raise typer.Exit(1)


def reapply_policy(
    complaint_ids: Annotated[list[str], typer.Argument(help="Complaint ids.")],
    operator: Annotated[str, typer.Option(help="Who decided; kept in the complaint's ledger.")],
    note: Annotated[str | None, typer.Option(help="Why; kept in the ledger.")] = None,
) -> None:
    """Move open complaints' clocks to the escalation policy now in force.

    A policy change never moves an open deadline by itself: each complaint keeps the policy
    frozen when it arrived. This records the decision in each complaint's ledger and
    recomputes its open clocks (time already used carries over; stopped clocks stay).
    """
    events = reapply_events(complaint_ids, operator=operator, note=note, now=datetime.now(UTC))
    publish(events, kafka=KafkaSettings())
    typer.echo(f"Published {len(events)} policy re-apply step(s) to {LIFECYCLE.name}.")


def channel_key(
    channel: Annotated[str, typer.Argument(help="The channel the key is for, e.g. app.")],
    key_id: Annotated[str, typer.Option(help="A name for the key (rotation).")] = "",
) -> None:
    """Make a new API key for an upstream channel: the key for the channel, the hash for intake.

    Give the key to the channel (once; it is not stored anywhere) and add the printed entry
    under `channels.<channel>.keys` in INTAKE_CHANNELS_FILE. Rotate by adding a second key,
    moving the channel over, then deleting the first.
    """
    key = f"{channel}_{secrets.token_urlsafe(32)}"
    name = key_id or f"{channel}-{datetime.now(UTC):%Y%m%d}"
    typer.echo(f"key (give to the channel): {key}")
    typer.echo(f'channels file entry:       {{id: {name}, sha256: "{hash_key(key)}"}}')


def console_user(
    username: Annotated[str, typer.Argument(help="The sign-in name (letters, digits, ._@-).")],
    role: Annotated[str, typer.Option(help="agent, owner or admin.")] = "owner",
    department: Annotated[
        list[str], typer.Option(help="A department the user works for (repeat).")
    ] = [],  # noqa: B006 - typer needs a literal default
    name: Annotated[str, typer.Option(help="Shown in the console.")] = "",
    password: Annotated[
        str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True)
    ] = "",
) -> None:
    """Print a CONSOLE_USERS_FILE entry with the password's argon2 hash (paste it under users:)."""
    from complaints_console.domain.access import Role
    from complaints_console.users_file import user_entry

    try:
        chosen = Role(role)
    except ValueError:
        raise typer.BadParameter("role is agent, owner or admin") from None
    if chosen is not Role.ADMIN and not department:
        raise typer.BadParameter("an agent or owner needs --department")
    if len(password) < 8:
        raise typer.BadParameter("use at least 8 characters")
    typer.echo(
        user_entry(
            username,
            name=name or username,
            role=chosen,
            departments=tuple(department),
            password=password,
        )
    )
