"""The turn gate (rasa_ext/admission.py): at most `limit` turns at once, the rest in arrival order,
each for at most its wait; an emergency does not queue."""

from __future__ import annotations

import asyncio

import pytest

from rasa_ext import admission
from rasa_ext.admission import TurnGate


def run(coro):
    return asyncio.run(coro)


def test_holders_beyond_the_limit_wait_and_go_in_arrival_order():
    async def scenario():
        gate = TurnGate(2)
        order = []
        assert await gate.acquire(1.0) and await gate.acquire(1.0)

        async def waiter(name):
            assert await gate.acquire(5.0)
            order.append(name)

        tasks = []
        for name in "abc":
            tasks.append(asyncio.ensure_future(waiter(name)))
            await asyncio.sleep(0)  # each arrives before the next
        await asyncio.sleep(0.01)
        assert order == [] and gate.waiting == 3 and gate.active == 2
        for _ in range(3):
            gate.release()
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)
        assert order == ["a", "b", "c"]
        assert gate.active == 2  # the three waiters' slots were handed over, not added
        gate.release(), gate.release()
        assert gate.active == 0
        with pytest.raises(RuntimeError):
            gate.release()  # more releases than holders is a bug, not a free slot

    run(scenario())


def test_a_wait_that_runs_out_is_refused_and_leaks_no_slot():
    async def scenario():
        gate = TurnGate(1)
        assert await gate.acquire(1.0)
        assert await gate.acquire(0.05) is False
        assert gate.refused == 1 and gate.waiting == 0
        gate.release()
        assert gate.active == 0
        # the refused waiter is not handed the freed slot later: a newcomer gets it at once
        assert await gate.acquire(0.0)
        assert gate.active == 1

    run(scenario())


def test_a_zero_wait_is_refused_at_once_when_busy():
    async def scenario():
        gate = TurnGate(1)
        assert await gate.acquire(0.0)
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        assert await gate.acquire(0.0) is False
        assert loop.time() - t0 < 0.5

    run(scenario())


def test_an_emergency_is_admitted_over_the_limit_without_waiting():
    async def scenario():
        gate = TurnGate(1)
        asked = []

        async def urgent_yes():
            asked.append("yes")
            return True

        async def urgent_no():
            asked.append("no")
            return False

        # not busy: the screen is not even asked
        assert await gate.acquire(1.0, urgent_yes)
        assert asked == []
        assert await gate.acquire(10.0, urgent_yes)
        assert gate.active == 2 and gate.urgent == 1
        assert await gate.acquire(0.05, urgent_no) is False
        assert asked == ["yes", "no"]
        gate.release(), gate.release()
        assert gate.active == 0

    run(scenario())


def test_a_cancelled_waiter_gives_back_nothing_it_did_not_get():
    async def scenario():
        gate = TurnGate(1)
        assert await gate.acquire(1.0)
        task = asyncio.ensure_future(gate.acquire(10.0))
        await asyncio.sleep(0.01)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert gate.waiting == 0
        gate.release()
        assert gate.active == 0

    run(scenario())


def test_a_slot_handed_over_as_the_wait_ends_is_kept():
    async def scenario():
        gate = TurnGate(1)
        assert await gate.acquire(1.0)
        task = asyncio.ensure_future(gate.acquire(0.05))
        await asyncio.sleep(0.01)
        # hand the slot over, then block the loop past the waiter's deadline before it runs again
        gate.release()
        import time

        time.sleep(0.1)
        assert await task is True
        assert gate.active == 1
        gate.release()
        assert gate.active == 0

    run(scenario())


def test_settings_from_the_environment(monkeypatch):
    monkeypatch.setenv("CLONUS_TURN_WAIT_SECONDS", "12.5")
    monkeypatch.setenv("CLONUS_SMS_TURN_WAIT_SECONDS", "3")
    assert admission.turn_wait_seconds("widget") == 12.5
    assert admission.turn_wait_seconds("twilio_sms") == 3.0
    monkeypatch.setenv("CLONUS_TURN_WAIT_SECONDS", "soon")
    with pytest.raises(SystemExit):
        admission.turn_wait_seconds("widget")
    monkeypatch.delenv("CLONUS_TURN_WAIT_SECONDS")
    assert admission.turn_wait_seconds("widget") == admission.DEFAULT_TURN_WAIT_SECONDS
    with pytest.raises(ValueError):
        TurnGate(0)
    monkeypatch.delenv("CLONUS_TURN_DEADLINE_SECONDS", raising=False)  # tests/conftest.py sets 120 for the test servers
    monkeypatch.setenv("CLONUS_SMS_TURN_DEADLINE_SECONDS", "9")
    assert admission.turn_deadline_seconds("twilio_sms") == 9.0
    assert admission.turn_deadline_seconds("widget") == admission.DEFAULT_TURN_DEADLINE_SECONDS
    # a person's wait inside the channels' own limits: Twilio 15 s, widget.js 30 s
    assert admission.DEFAULT_SMS_TURN_DEADLINE_SECONDS < 14 and admission.DEFAULT_TURN_DEADLINE_SECONDS < 30
