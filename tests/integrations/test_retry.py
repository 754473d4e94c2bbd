"""The retry decision over the published schedule."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given, settings
from hypothesis import strategies as st

from integrations.conf import DEFAULT_RETRY_SCHEDULE, parse_retry_schedule
from integrations.retry import parse_retry_after, retry_delay


def test_default_schedule_is_the_published_one() -> None:
    assert DEFAULT_RETRY_SCHEDULE == (5, 300, 1800, 7200, 18000, 36000, 36000)
    # 8 attempts over about 28 hours.
    assert sum(DEFAULT_RETRY_SCHEDULE) / 3600 == pytest.approx(27.6, abs=0.1)


def test_delays_follow_the_schedule_then_stop() -> None:
    schedule = (5, 300, 1800)
    assert [retry_delay(attempts_made=n, schedule=schedule, jitter=0) for n in (1, 2, 3, 4)] == [5, 300, 1800, None]


def test_jitter_stays_within_twenty_percent() -> None:
    rng = random.Random(1)
    delays = [retry_delay(attempts_made=2, schedule=(300,) * 2, jitter=0.2, rng=rng) for _ in range(500)]
    assert all(240 <= delay <= 360 for delay in delays if delay is not None)
    assert max(d for d in delays if d) - min(d for d in delays if d) > 60  # it does spread


def test_attempts_made_starts_at_one() -> None:
    with pytest.raises(ValueError, match="starts at 1"):
        retry_delay(attempts_made=0, schedule=(5,), jitter=0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5,300", (5.0, 300.0)), (" 1 , 2 ,", (1.0, 2.0)), ("", ()), ([1, 2], (1.0, 2.0)), ("0.5", (0.5,))],
)
def test_schedule_setting_parses(value: object, expected: tuple[float, ...]) -> None:
    assert parse_retry_schedule(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["5,abc", "-1", "5;300"])
def test_bad_schedule_setting_is_refused_clearly(value: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="INTEGRATIONS_RETRY_SCHEDULE"):
        parse_retry_schedule(value)


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [(None, 300), (10, 300), (450, 450), (3600, 600), (0, 300)],
)
def test_retry_after_is_kept_between_the_scheduled_delay_and_twice_it(
    retry_after: float | None, expected: float
) -> None:
    delay = retry_delay(attempts_made=2, schedule=(5, 300), jitter=0, retry_after=retry_after)
    assert delay == expected


def test_retry_after_does_not_extend_an_exhausted_schedule() -> None:
    assert retry_delay(attempts_made=3, schedule=(5, 300), jitter=0, retry_after=10) is None


NOW = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Fri, 27 Nov 2026 12:01:30 GMT", 90.0),
        ("Fri, 27 Nov 2026 11:00:00 GMT", 0.0),
        ("", None),
        (None, None),
        ("soon", None),
        ("-5", None),
        ("1.5", None),
    ],
)
def test_retry_after_header_parses(header: str | None, expected: float | None) -> None:
    assert parse_retry_after(header, now=NOW) == expected


@pytest.mark.parametrize("header", ["²", "³", "¹", "٣", "\uff15", "1²", "߁0", "1_000", "+5", "5.5", "0x10", "1\x00"])
def test_retry_after_is_ascii_digits_only(header: str) -> None:
    # "²".isdigit() is true and float("²") raises: such a header once crashed the job that read it.
    assert parse_retry_after(header, now=NOW) is None


def test_retry_after_of_very_many_digits_is_a_long_wait_not_an_error() -> None:
    # int() refuses more than 4,300 digits; the wait is bounded by the schedule anyway.
    assert parse_retry_after("9" * 5000, now=NOW) == 1e12


@settings(max_examples=500, deadline=None)
@given(header=st.one_of(st.text(max_size=60), st.binary(max_size=60).map(lambda raw: raw.decode("latin-1"))))
def test_any_retry_after_header_is_none_or_a_wait(header: str) -> None:
    seconds = parse_retry_after(header, now=NOW)
    assert seconds is None or (0 <= seconds < math.inf)
