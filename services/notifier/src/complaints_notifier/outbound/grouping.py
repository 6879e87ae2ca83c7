"""Groups notifications within a window and keeps a robot under its rate limit with digests.

Wraps a channel. Escalations with one group key (receiver, channel, department, cluster)
arriving within `window` become one message. Messages leave one per token of the bucket; when
the bucket is empty, everything that queues up meanwhile leaves as ONE digest at the next token,
so a burst over the robot's limit is folded, never dropped. Every member gets the message's
outcome, so the handler records (and dedupes) each escalation step on its own.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from complaints_kit.clock import Clock
from complaints_notifier.domain.notification import Notification
from complaints_notifier.domain.outcome import Outcome, Retryable, transport_failure
from complaints_notifier.domain.throttle import TokenBucket, group_key
from complaints_notifier.metrics import NotifierMetrics
from complaints_notifier.outbound.channel import Channel

log = logging.getLogger(__name__)


@dataclass(eq=False)
class _Group:
    members: list[Notification]
    future: asyncio.Future[Outcome]
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


def fold(members: list[Notification]) -> Notification:
    """One notification standing for several: the first, with all escalations and mentions."""
    first = members[0]
    if len(members) == 1:
        return first
    mentions = tuple(dict.fromkeys(m for n in members for m in n.context.mentions))
    owners = tuple(dict.fromkeys(o for n in members for o in n.context.owners))
    context = replace(
        first.context,
        mentions=mentions,
        owners=owners,
        folded=tuple(n.escalation for n in members),
    )
    return replace(first, context=context)


class GroupingChannel:
    def __init__(
        self,
        inner: Channel,
        *,
        clock: Clock,
        metrics: NotifierMetrics,
        window: timedelta = timedelta(0),
        bucket: TokenBucket | None = None,
    ) -> None:
        self.name = inner.name
        self._inner = inner
        self._clock = clock
        self._metrics = metrics
        self._window = window
        self._bucket = bucket
        self._open: dict[tuple[str, str, str, str], _Group] = {}
        self._queue: list[_Group] = []
        self._wake = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._timers: set[asyncio.Task[None]] = set()

    async def send(self, notification: Notification, *, now: datetime) -> Outcome:
        key = group_key(notification)
        group = self._open.get(key)
        if group is None:
            group = _Group([notification], asyncio.get_running_loop().create_future())
            self._open[key] = group
            timer = asyncio.create_task(self._close(key, group, now + self._window))
            self._timers.add(timer)
            timer.add_done_callback(self._timers.discard)
        else:
            group.members.append(notification)
            self._metrics.grouped.labels(self.name).inc()
        # Shielded: one member giving up (shutdown) must not cancel the others' message.
        return await asyncio.shield(group.future)

    async def _close(self, key: tuple[str, str, str, str], group: _Group, at: datetime) -> None:
        await self._clock.sleep_until(at)
        if self._open.get(key) is group:
            del self._open[key]
        self._queue.append(group)
        self._metrics.queue_depth.labels(self.name).set(len(self._queue))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._drain())

    async def _drain(self) -> None:
        starved = False
        while self._queue:
            now = self._clock.now()
            if self._bucket is not None and not self._bucket.take(now):
                if not starved:
                    self._metrics.rate_limited.labels(self.name).inc()
                starved = True
                await self._clock.sleep_until(self._bucket.next_token_at(now))
                continue
            if starved:  # everything that waited for this token leaves as one digest
                batch, self._queue = self._queue, []
                self._metrics.digested.labels(self.name).inc(sum(len(g.members) for g in batch))
                self._metrics.digests.labels(self.name).inc()
                starved = False
            else:
                batch = [self._queue.pop(0)]
            self._metrics.queue_depth.labels(self.name).set(len(self._queue))
            await self._send(batch)

    async def _send(self, batch: list[_Group]) -> None:
        members = [n for g in batch for n in g.members]
        try:
            outcome = await self._inner.send(fold(members), now=self._clock.now())
        except Exception as exc:  # a channel must not raise; if one does, retry later
            log.exception("channel raised", extra={"channel": self.name})
            outcome = transport_failure("channel error", type(exc).__name__)
        if isinstance(outcome, Retryable) and outcome.rate_limited and self._bucket is not None:
            self._bucket.drain(self._clock.now())
        for group in batch:
            if not group.future.done():
                group.future.set_result(outcome)

    async def aclose(self) -> None:
        for task in (*self._timers, *([self._pump] if self._pump else [])):
            task.cancel()
        await self._inner.aclose()
