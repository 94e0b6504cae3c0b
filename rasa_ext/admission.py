"""Admission control: how many turns one Rasa server runs at once, and how long a message waits
for its turn before the person is told honestly that the assistant is busy.

A Rasa server runs a turn's NLU, policies and tracker-store calls on one event loop: turns
admitted beyond what the process can do are not served faster, they all get slower together,
until every one of them passes the channel's deadline (Twilio waits 15 s for a webhook) or the
load balancer's. Here a server runs at most `CLONUS_MAX_CONCURRENT_TURNS` turns at once; the
others wait in arrival order, each for at most its channel's wait (`CLONUS_TURN_WAIT_SECONDS`,
`CLONUS_SMS_TURN_WAIT_SECONDS`); a message whose wait runs out is not processed and gets the
fail-safe answer (rasa_ext.failsafe: the emergency instructions when the message is one, the
numbers to call, and "your message could not be saved, please send it again").

A message that has to wait is screened first (the triage engine, off the event loop, bounded in
time): an emergency does not queue, it is admitted at once, over the limit.

One gate per process, shared by the widget and SMS channels (the Rasa HTTP API's own endpoint
does not go through it). asyncio.Semaphore is not used: a waiter that times out at the moment a
slot is handed to it must keep that slot or give it back, and Python 3.10's Semaphore can lose
such a wake-up (CPython gh-90155, fixed in 3.11.1); the gate below hands each freed slot to the
oldest waiter that still waits.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import os
from typing import Awaitable, Callable, Deque, Optional

logger = logging.getLogger(__name__)

DEFAULT_MAX_CONCURRENT_TURNS = 8
DEFAULT_TURN_WAIT_SECONDS = 20.0
# Twilio gives up on a webhook after 15 s: the wait and the turn itself must fit in that.
DEFAULT_SMS_TURN_WAIT_SECONDS = 8.0


# How long a person waits for an answer at most, from the request's arrival: the widget gives up at
# 30 s (widget.js timeoutMs), Twilio at 15 s (and the load balancer's SMS backend at 14 s). Past it
# the fail-safe path answers (an emergency gets its instructions) and the turn goes on.
DEFAULT_TURN_DEADLINE_SECONDS = 25.0
DEFAULT_SMS_TURN_DEADLINE_SECONDS = 12.0


class TurnBusy(Exception):
    """The message waited its channel's whole wait for a turn and was not processed (nor stored)."""


class TurnTooSlow(Exception):
    """The turn did not end by the channel's deadline; it goes on (and may be stored)."""


def _env_number(name: str, default: float, minimum: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SystemExit(f"error: {name} must be a number, not {raw!r}") from None
    if value < minimum:
        raise SystemExit(f"error: {name} must be at least {minimum:g}")
    return value


def turn_wait_seconds(channel: str) -> float:
    if channel == "twilio_sms":
        return _env_number("CLONUS_SMS_TURN_WAIT_SECONDS", DEFAULT_SMS_TURN_WAIT_SECONDS, 0.0)
    return _env_number("CLONUS_TURN_WAIT_SECONDS", DEFAULT_TURN_WAIT_SECONDS, 0.0)


def turn_deadline_seconds(channel: str) -> float:
    if channel == "twilio_sms":
        return _env_number("CLONUS_SMS_TURN_DEADLINE_SECONDS", DEFAULT_SMS_TURN_DEADLINE_SECONDS, 0.0)
    return _env_number("CLONUS_TURN_DEADLINE_SECONDS", DEFAULT_TURN_DEADLINE_SECONDS, 0.0)


class TurnGate:
    """At most `limit` holders at once; the others wait in arrival order for at most a timeout."""

    def __init__(self, limit: int) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        self.limit = limit
        self.active = 0
        self._waiters: Deque["asyncio.Future[None]"] = collections.deque()
        # figures for the logs and benchmarks: turns admitted, admitted over the limit, timed out
        self.admitted = self.urgent = self.refused = 0

    @property
    def waiting(self) -> int:
        return sum(1 for f in self._waiters if not f.done())

    def busy(self) -> bool:
        return self.active >= self.limit or self.waiting > 0

    async def acquire(self, timeout: float, urgent: Optional[Callable[[], Awaitable[bool]]] = None) -> bool:
        """True when the caller holds a slot (it must `release()` it), False when `timeout` seconds
        passed first. `urgent`, called only when the caller would have to wait: when it answers
        True the caller is admitted at once, over the limit."""
        if not self.busy():
            self.active += 1
            self.admitted += 1
            return True
        if urgent is not None and await urgent():
            self.active += 1
            self.urgent += 1
            return True
        future: "asyncio.Future[None]" = asyncio.get_running_loop().create_future()
        self._waiters.append(future)
        try:
            await asyncio.wait_for(asyncio.shield(future), timeout)
        except asyncio.TimeoutError:
            if future.done() and not future.cancelled():
                # A slot was handed over just as the time ran out: it is ours.
                self.admitted += 1
                return True
            future.cancel()
            self.refused += 1
            return False
        except asyncio.CancelledError:
            # The request itself was cancelled (the client went away): give back a slot handed over.
            if future.done() and not future.cancelled():
                self.release()
            else:
                future.cancel()
            raise
        finally:
            self._forget_done()
        self.admitted += 1
        return True

    def release(self) -> None:
        """Hand the slot to the oldest waiter still waiting, or free it."""
        while self._waiters:
            future = self._waiters.popleft()
            if not future.done():
                future.set_result(None)  # the slot passes on: `active` is unchanged
                return
        if self.active <= 0:
            raise RuntimeError("released a turn slot that was not held")
        self.active -= 1

    def _forget_done(self) -> None:
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()


_gate: Optional[TurnGate] = None


def gate() -> TurnGate:
    """This process's gate (`CLONUS_MAX_CONCURRENT_TURNS`, default 8), made on first use."""
    global _gate
    if _gate is None:
        _gate = TurnGate(int(_env_number("CLONUS_MAX_CONCURRENT_TURNS", DEFAULT_MAX_CONCURRENT_TURNS, 1)))
    return _gate
