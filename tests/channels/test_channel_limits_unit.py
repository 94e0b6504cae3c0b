"""The channels' limit helpers (rasa_ext.channels): the rate limiter, rates, JSON depth, client keys."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from rasa_ext.channels import RateLimiter, client_ip, json_depth_exceeds, parse_rate


def test_rate_limiter_allows_the_burst_then_refills_at_the_rate():
    limiter = RateLimiter("3/minute")
    assert [limiter.hit("a", now=0) for _ in range(4)] == [True, True, True, False]
    assert limiter.hit("b", now=0)  # keys are independent
    assert not limiter.hit("a", now=19.9)
    assert limiter.hit("a", now=20.1) and not limiter.hit("a", now=20.2)
    assert limiter.retry_after("a", now=20.2) == 20


def test_rate_limiter_keeps_a_bounded_number_of_keys():
    limiter = RateLimiter("1/hour", max_keys=100)
    for i in range(1000):
        limiter.hit(f"k{i}", now=0)
    assert len(limiter._tat) == 100


@pytest.mark.parametrize(
    "text,rate", [("20/minute", (20, 60.0)), ("60/hour", (60, 3600.0)), ("5/10s", (5, 10.0)), ("1/day", (1, 86400.0))]
)
def test_parse_rate(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "many", "0/minute", "5/fortnight", "-1/s"])
def test_parse_rate_refuses_nonsense(text):
    with pytest.raises(ValueError):
        parse_rate(text)


@pytest.mark.parametrize(
    "body,depth,exceeds",
    [
        (b'{"a": "b"}', 1, False),
        (b'{"a": {"b": []}}', 2, True),
        (b'{"a": "[[[[[[[[["}', 1, False),  # brackets inside a string do not count
        (b'{"a": "\\"[[[["}', 1, False),  # nor after an escaped quote
        (b"[" * 100_000, 4, True),
    ],
)
def test_json_depth(body, depth, exceeds):
    assert json_depth_exceeds(body, depth) is exceeds


@pytest.mark.parametrize(
    "ip,key",
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
    ],
)
def test_client_key(ip, key):
    assert client_ip(SimpleNamespace(remote_addr="", ip=ip)) == key
    assert client_ip(SimpleNamespace(remote_addr=ip, ip="10.0.0.1")) == key  # a trusted proxy's header wins
