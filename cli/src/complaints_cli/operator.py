"""Operator tools: re-apply the policy or recompute calendars on open complaints (chosen by
id or by a query over the escalation state); make channel API keys."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime
from typing import Annotated

import typer
from confluent_kafka import Producer

from complaints_escalation.app import state_changelog
from complaints_escalation.domain.selection import Selection
from complaints_escalation.domain.state import ComplaintState
from complaints_escalation.outbound import state_codec
from complaints_intake.domain.channels import hash_key
from complaints_kit.kafka import producer_config, read_topic
from complaints_kit.settings import KafkaSettings
from complaints_schemas import cloudevents
from complaints_schemas.events import ComplaintLifecycleEvent, LifecycleAction
from complaints_schemas.topics import LIFECYCLE


def operator_steps(
    complaint_ids: list[str],
    action: LifecycleAction,
    *,
    operator: str,
    note: str | None,
    now: datetime,
) -> list[ComplaintLifecycleEvent]:
    """One operator step per complaint; the id names the instant, so a rerun is a new decision."""
    stamp = int(now.timestamp() * 1000)
    prefix = "reapply" if action is LifecycleAction.POLICY_REAPPLIED else "recompute"
    return [
        ComplaintLifecycleEvent(
            event_id=f"{prefix}-{cid}-{stamp}",
            complaint_id=cid,
            action=action,
            occurred_at=now,
            actor=operator,
            note=note,
        )
        for cid in complaint_ids
    ]


def stored_states(kafka: KafkaSettings, *, app_id: str) -> dict[str, ComplaintState]:
    """Every complaint's latest escalation state, read from the state table's changelog."""
    states: dict[str, ComplaintState] = {}
    for _, _, key, value, _ in read_topic(kafka, state_changelog(app_id), timeout=120):
        if key is None:
            continue
        complaint_id = str(json.loads(key))
        if value is None:  # a tombstone: the state was removed
            states.pop(complaint_id, None)
            continue
        states[complaint_id] = state_codec.decode(value)[1]
    return states


def select(states: dict[str, ComplaintState], selection: Selection) -> list[str]:
    return sorted(cid for cid, state in states.items() if selection.matches(state))


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


Ids = Annotated[
    list[str] | None, typer.Argument(help="Complaint ids; or select them with the options.")
]
Operator = Annotated[str, typer.Option(help="Who decided; kept in each complaint's ledger.")]
Note = Annotated[str | None, typer.Option(help="Why; kept in the ledger.")]
Provisional = Annotated[
    bool, typer.Option("--provisional", help="Open complaints with a provisional clock.")
]
CalendarName = Annotated[str | None, typer.Option(help="... with a running clock on it.")]
Department = Annotated[str | None, typer.Option(help="... of this department.")]
AcceptedFrom = Annotated[
    datetime | None, typer.Option(help="... accepted at or after (ISO 8601, with zone).")
]
AcceptedUntil = Annotated[datetime | None, typer.Option(help="... accepted before.")]
DryRun = Annotated[bool, typer.Option("--dry-run", help="List the complaints; publish nothing.")]
AppId = Annotated[str, typer.Option(help="The escalation service's ESCALATION_APP_ID.")]


def _operator_step(
    action: LifecycleAction,
    complaint_ids: list[str] | None,
    *,
    operator: str,
    note: str | None,
    selection: Selection,
    dry_run: bool,
    app_id: str,
) -> None:
    kafka = KafkaSettings()
    if complaint_ids:
        chosen = complaint_ids
    elif selection == Selection():
        typer.echo("name complaint ids, or select them (--provisional, --calendar, ...)")
        raise typer.Exit(2)
    else:
        chosen = select(stored_states(kafka, app_id=app_id), selection)
    for cid in chosen[:20]:
        typer.echo(cid)
    if len(chosen) > 20:
        typer.echo(f"... and {len(chosen) - 20} more")
    if dry_run:
        typer.echo(f"{len(chosen)} complaint(s) selected; --dry-run: nothing published.")
        return
    events = operator_steps(chosen, action, operator=operator, note=note, now=datetime.now(UTC))
    publish(events, kafka=kafka)
    typer.echo(f"Published {len(events)} {action.value} step(s) to {LIFECYCLE.name}.")


def reapply_policy(
    complaint_ids: Ids = None,
    *,
    operator: Operator,
    note: Note = None,
    provisional: Provisional = False,
    calendar: CalendarName = None,
    department: Department = None,
    accepted_from: AcceptedFrom = None,
    accepted_until: AcceptedUntil = None,
    dry_run: DryRun = False,
    app_id: AppId = "complaints-escalation",
) -> None:
    """Move open complaints' clocks to the escalation policy now in force.

    A policy change never moves an open deadline by itself: each complaint keeps the policy
    and calendars frozen when it arrived. This records the decision in each complaint's
    ledger and recomputes its open clocks (time already used carries over).
    """
    _operator_step(
        LifecycleAction.POLICY_REAPPLIED,
        complaint_ids,
        operator=operator,
        note=note,
        selection=Selection(provisional, calendar, department, accepted_from, accepted_until),
        dry_run=dry_run,
        app_id=app_id,
    )


def recompute_calendars(
    complaint_ids: Ids = None,
    *,
    operator: Operator,
    note: Note = None,
    provisional: Provisional = False,
    calendar: CalendarName = None,
    department: Department = None,
    accepted_from: AcceptedFrom = None,
    accepted_until: AcceptedUntil = None,
    dry_run: DryRun = False,
    app_id: AppId = "complaints-escalation",
) -> None:
    """Recompute open deadlines on the holiday data now loaded (after a holiday file was
    added or chinese-calendar upgraded, and escalation restarted).

    Each complaint keeps its policy and calendars; only the holidays are newer. Each
    recomputation is a step in the complaint's ledger with the operator and note.
    """
    _operator_step(
        LifecycleAction.CALENDAR_RECOMPUTED,
        complaint_ids,
        operator=operator,
        note=note,
        selection=Selection(provisional, calendar, department, accepted_from, accepted_until),
        dry_run=dry_run,
        app_id=app_id,
    )


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
