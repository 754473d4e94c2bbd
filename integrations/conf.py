"""The app's settings, read lazily so that override_settings works; every default lives here."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)


def parse_retry_schedule(value: str | list[int] | tuple[int, ...]) -> tuple[float, ...]:
    """Seconds before each retry, from "5,300,1800" (an empty string means: never retry)."""
    if isinstance(value, (list, tuple)):
        items = [str(item) for item in value]
    elif isinstance(value, str):
        items = [item.strip() for item in value.split(",") if item.strip()]
    else:
        raise ImproperlyConfigured(
            f"INTEGRATIONS_RETRY_SCHEDULE must be comma-separated seconds, like '5,300,1800': {value!r}"
        )
    try:
        delays = tuple(float(item) for item in items)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"INTEGRATIONS_RETRY_SCHEDULE must be comma-separated seconds, like '5,300,1800': {value!r}"
        ) from error
    if any(not math.isfinite(delay) for delay in delays):
        raise ImproperlyConfigured(f"INTEGRATIONS_RETRY_SCHEDULE must hold finite delays: {value!r}")
    if any(delay < 0 for delay in delays):
        raise ImproperlyConfigured(f"INTEGRATIONS_RETRY_SCHEDULE cannot hold negative delays: {value!r}")
    return delays


def _not_empty(value: str) -> str | None:
    return None if value.strip() else "cannot be empty"


def _header_value(value: str) -> str | None:
    printable = value.strip() and all(" " <= character <= "~" for character in value)
    return None if printable else "must be printable ASCII (it is an HTTP header's value)"


def _metric_name(value: str) -> str | None:
    return (
        None if re.fullmatch(r"[a-zA-Z_:][a-zA-Z0-9_:]*", value) else "must be a Prometheus metric name, like webhook"
    )


def _url_path(value: str) -> str | None:
    return (
        None if re.fullmatch(r"/(?:[^\s/]+/)*", value) else "must be a URL path starting and ending with /, like /api/"
    )


def _rate(value: str) -> str | None:
    # "5/m", "120/minute", "10/h": a count per second, minute, hour or day (django-ratelimit and DRF both read it).
    return None if re.fullmatch(r"\d+/\d*[smhd][a-z]*", value) else "must be a rate like 5/m or 120/minute"


@dataclass(frozen=True)
class Setting:
    """One setting: its kind ("text", "flag", "whole", "number", "schedule"), default and bounds."""

    kind: str
    default: Any
    low: float | None = None  # the least value allowed
    high: float | None = None  # the greatest
    above: float | None = None  # a value must be greater than this
    check: Callable[[str], str | None] | None = None  # a text's own rule: what is wrong, or None
    parse: Callable[[Any], Any] | None = None
    empty_if_none: bool = False

    def value(self, name: str, raw: Any) -> Any:
        """The setting's value from what settings.py holds; ImproperlyConfigured, naming it, when it is wrong."""
        if self.parse is not None:
            return self.parse(raw)
        if self.kind == "text":
            value = "" if raw is None and self.empty_if_none else raw
            problem = None if isinstance(value, str) else "must be text"
            problem = problem or (self.check(value) if self.check else None)
        elif self.kind == "flag":
            value, problem = raw, None if isinstance(raw, bool) else "must be True or False"
        else:
            value, problem = _number(raw, whole=self.kind == "whole")
            problem = problem or self._out_of_bounds(value)
        if problem:
            raise ImproperlyConfigured(f"INTEGRATIONS_{name} {problem}: {raw!r}")
        return value

    def _out_of_bounds(self, value: float) -> str | None:
        if self.above is not None and not value > self.above:
            return f"must be more than {self.above:g}"
        if self.low is not None and value < self.low:
            return f"must be at least {self.low:g}"
        if self.high is not None and value > self.high:
            return f"must be at most {self.high:g}"
        return None


def _number(raw: Any, *, whole: bool) -> tuple[Any, str | None]:
    """A number from a number, or from text (settings read from the environment)."""
    wanted = "a whole number" if whole else "a number"
    if isinstance(raw, bool) or not isinstance(raw, int | float | str):
        return raw, f"must be {wanted}"
    try:
        number = int(raw) if whole and not isinstance(raw, float) else float(raw)
    except ValueError:
        return raw, f"must be {wanted}"
    if whole and isinstance(raw, float) and not raw.is_integer():
        return raw, f"must be {wanted}"
    if not math.isfinite(number):
        return raw, f"must be {wanted}, and finite"
    return (int(number) if whole else float(number)), None


# Every setting of the app: its kind, default and bounds. `check` validates them all (integrations.E001);
# reading one that is wrong raises ImproperlyConfigured naming it, never a bare ValueError in a worker.
SETTINGS: dict[str, Setting] = {
    "ACCOUNT_MODEL": Setting("text", ""),
    "ADAPTER": Setting("text", ""),
    "PRODUCT_NAME": Setting("text", "the product", check=_not_empty),
    "USER_AGENT": Setting("text", "Django-Webhooks", check=_header_value),
    "METRICS_PREFIX": Setting("text", "webhook", check=_metric_name),
    "BASE_TEMPLATE": Setting("text", "integrations/base.html", check=_not_empty),
    "QUEUE": Setting("text", "webhooks", check=_not_empty),
    "ALLOW_PRIVATE_URLS": Setting("flag", False),
    "RETRY_SCHEDULE": Setting("schedule", DEFAULT_RETRY_SCHEDULE, parse=parse_retry_schedule),
    "RETRY_JITTER": Setting("number", 0.2, low=0, high=1),
    "CONNECT_TIMEOUT": Setting("number", 5.0, above=0),
    "ATTEMPT_TIMEOUT": Setting("number", 15.0, above=0),
    "TROUBLED_ATTEMPT_TIMEOUT": Setting("number", 5.0, above=0),
    "ENDPOINT_CONCURRENCY": Setting("whole", 4, low=1),
    "SENDER_MAX_IN_FLIGHT": Setting("whole", 1000, low=1),
    "SENDER_TROUBLED_IN_FLIGHT": Setting("whole", 1000, low=1),
    "SLOW_ATTEMPT_SECONDS": Setting("number", 1.0, above=0),
    "DESTINATION_CACHE_SECONDS": Setting("number", 10.0, low=0),
    "RESPONSE_READ_LIMIT": Setting("whole", 64 * 1024, low=1),
    "RESPONSE_STORE_LIMIT": Setting("whole", 4 * 1024, low=0),
    "BATCH_SIZE": Setting("whole", 100, low=1),
    "LEDGER_SIZE": Setting("whole", 500, low=1),
    "JOB_MAX_DELIVERIES": Setting("whole", 500, low=1),
    "JOB_MAX_SECONDS": Setting("number", 10.0, low=0),
    "CLAIM_LEASE_SECONDS": Setting("number", 60.0, above=0),
    "CLAIMS_WITHOUT_ATTEMPT_MAX": Setting("whole", 3, low=1),
    "BREAKER_FAILURES": Setting("whole", 5, low=1),
    "BREAKER_TIMEOUTS": Setting("whole", 2, low=1),
    "BREAKER_COOLDOWN_MIN": Setting("number", 60.0, low=0),
    "BREAKER_COOLDOWN_MAX": Setting("number", 3600.0, low=0),
    "DISABLE_AFTER_DAYS": Setting("number", 5.0, low=0),
    "RETENTION_DAYS": Setting("number", 30.0, low=0),
    "SWEEP_INTERVAL": Setting("number", 5.0, above=0),
    "SWEEP_GRACE": Setting("number", 5.0, low=0),
    "QUEUED_JOB_STALE_SECONDS": Setting("number", 30.0, above=0),
    "PRUNE_BATCH": Setting("whole", 1000, low=1),
    "SECRET_OVERLAP_HOURS": Setting("number", 24.0, low=0),
    "RETIRED_SECRETS_MAX": Setting("whole", 3, low=0),
    "API_PREFIX": Setting("text", "/api/", check=_url_path),
    "API_RATE": Setting("text", "120/minute", check=_rate),
    "API_BODY_MAX_BYTES": Setting("whole", 65_536, low=1),
    "API_PAGE_SIZE": Setting("whole", 50, low=1),
    "ACTION_RATE": Setting("text", "5/m", check=_rate),
    "ACCOUNT_SESSION_KEY": Setting("text", "account_id", check=_not_empty),
    "ENDPOINTS_MAX": Setting("whole", 20, low=1),
    "ALERT_AFTER_FAILURES": Setting("whole", 4, low=1),
    "SECRET_OVERLAP_MAX_HOURS": Setting("number", 168.0, above=0),
    "TEST_WAIT_SECONDS": Setting("number", 3.0, low=0),
    "SIGNALS_QUEUE_MAX": Setting("whole", 10_000, low=1),
    "SIGNALS_EXIT_WAIT": Setting("number", 10.0, low=0),
    "HEALTHZ_MAX_DUE_AGE": Setting("number", 300.0, low=0),
    "METRICS_TOKEN": Setting("text", "", empty_if_none=True),
}


def read(name: str) -> Any:
    """The value of INTEGRATIONS_<name>, or its default: checked against SETTINGS."""
    setting = SETTINGS[name]
    return setting.value(name, getattr(settings, f"INTEGRATIONS_{name}", setting.default))


class Settings:
    """Each of the app's settings, typed, read through SETTINGS (so that a wrong value fails `check`)."""

    @property
    def ACCOUNT_MODEL(self) -> str:
        """The host's account model, as "app_label.ModelName": webhooks belong to accounts (required)."""
        return cast(str, read("ACCOUNT_MODEL"))

    @property
    def ADAPTER(self) -> str:
        """Dotted path of the host's adapter (a subclass of integrations.adapter.BaseAdapter): required."""
        return cast(str, read("ADAPTER"))

    @property
    def PRODUCT_NAME(self) -> str:
        """What the pages and e-mails call the product that sends the notifications."""
        return cast(str, read("PRODUCT_NAME"))

    @property
    def USER_AGENT(self) -> str:
        """The User-Agent of every request to an endpoint, before "/<the app's version>"."""
        return cast(str, read("USER_AGENT"))

    @property
    def METRICS_PREFIX(self) -> str:
        """What the names of the metrics at /metrics start with (an operator's dashboards and alerts use them)."""
        return cast(str, read("METRICS_PREFIX"))

    @property
    def BASE_TEMPLATE(self) -> str:
        """The template the Integrations pages extend; a host may name its own (it needs a `content` block)."""
        return cast(str, read("BASE_TEMPLATE"))

    @property
    def QUEUE(self) -> str:
        """The name of the RQ queue (in RQ_QUEUES) the webhook jobs go to."""
        return cast(str, read("QUEUE"))

    @property
    def ALLOW_PRIVATE_URLS(self) -> bool:
        return cast(bool, read("ALLOW_PRIVATE_URLS"))

    @property
    def RETRY_SCHEDULE(self) -> tuple[float, ...]:
        return cast("tuple[float, ...]", read("RETRY_SCHEDULE"))

    @property
    def RETRY_JITTER(self) -> float:
        """Each retry delay varies by this fraction either way, so retries of many events spread out."""
        return cast(float, read("RETRY_JITTER"))

    @property
    def CONNECT_TIMEOUT(self) -> float:
        return cast(float, read("CONNECT_TIMEOUT"))

    @property
    def ATTEMPT_TIMEOUT(self) -> float:
        """Wall-clock bound of one attempt: connect, send, and read the response."""
        return cast(float, read("ATTEMPT_TIMEOUT"))

    @property
    def TROUBLED_ATTEMPT_TIMEOUT(self) -> float:
        """The bound of an attempt to an endpoint whose last attempt timed out: less patience while it hangs."""
        return cast(float, read("TROUBLED_ATTEMPT_TIMEOUT"))

    @property
    def ENDPOINT_CONCURRENCY(self) -> int:
        """Attempts in flight to one healthy endpoint at once, across every worker (one at a time while in trouble)."""
        return cast(int, read("ENDPOINT_CONCURRENCY"))

    @property
    def SENDER_MAX_IN_FLIGHT(self) -> int:
        """Attempts in flight at once in one worker process to endpoints answering in time (the healthy lane)."""
        return cast(int, read("SENDER_MAX_IN_FLIGHT"))

    @property
    def SENDER_TROUBLED_IN_FLIGHT(self) -> int:
        """Attempts in flight at once in one worker process to endpoints failing, probing or slow (their own lane)."""
        return cast(int, read("SENDER_TROUBLED_IN_FLIGHT"))

    @property
    def SLOW_ATTEMPT_SECONDS(self) -> float:
        """An attempt still unanswered after this long moves its endpoint to the troubled lane."""
        return cast(float, read("SLOW_ATTEMPT_SECONDS"))

    @property
    def DESTINATION_CACHE_SECONDS(self) -> float:
        """How long a host's vetted address is reused at send time before DNS is asked and the answer vetted again."""
        return cast(float, read("DESTINATION_CACHE_SECONDS"))

    @property
    def RESPONSE_READ_LIMIT(self) -> int:
        return cast(int, read("RESPONSE_READ_LIMIT"))

    @property
    def RESPONSE_STORE_LIMIT(self) -> int:
        return cast(int, read("RESPONSE_STORE_LIMIT"))

    @property
    def BATCH_SIZE(self) -> int:
        """Most deliveries claimed for one endpoint at a time (fewer for an endpoint in trouble or slow)."""
        return cast(int, read("BATCH_SIZE"))

    @property
    def LEDGER_SIZE(self) -> int:
        """Most attempts written in one transaction (those answered while the last write ran are written together)."""
        return cast(int, read("LEDGER_SIZE"))

    @property
    def JOB_MAX_DELIVERIES(self) -> int:
        """Attempts one job makes when no worker engine runs (a plain rq worker); the rest goes to a fresh job."""
        return cast(int, read("JOB_MAX_DELIVERIES"))

    @property
    def JOB_MAX_SECONDS(self) -> float:
        """Likewise, the seconds such a job sends for before it hands the rest to a fresh job."""
        return cast(float, read("JOB_MAX_SECONDS"))

    @property
    def CLAIM_LEASE_SECONDS(self) -> float:
        """How long a claim holds; longer than one job can run, so only a dead worker's claim expires."""
        return cast(float, read("CLAIM_LEASE_SECONDS"))

    @property
    def CLAIMS_WITHOUT_ATTEMPT_MAX(self) -> int:
        """Claims that may expire with no attempt on record (a worker died mid-attempt) before the delivery fails."""
        return cast(int, read("CLAIMS_WITHOUT_ATTEMPT_MAX"))

    @property
    def BREAKER_FAILURES(self) -> int:
        """Consecutive failures after which a webhook's deliveries wait for a cool-down."""
        return cast(int, read("BREAKER_FAILURES"))

    @property
    def BREAKER_TIMEOUTS(self) -> int:
        """Consecutive timeouts after which the breaker opens: a hanging endpoint costs a slot per attempt."""
        return cast(int, read("BREAKER_TIMEOUTS"))

    @property
    def BREAKER_COOLDOWN_MIN(self) -> float:
        return cast(float, read("BREAKER_COOLDOWN_MIN"))

    @property
    def BREAKER_COOLDOWN_MAX(self) -> float:
        return cast(float, read("BREAKER_COOLDOWN_MAX"))

    @property
    def DISABLE_AFTER_DAYS(self) -> float:
        """A webhook whose deliveries all failed for this long is disabled."""
        return cast(float, read("DISABLE_AFTER_DAYS"))

    @property
    def RETENTION_DAYS(self) -> float:
        return cast(float, read("RETENTION_DAYS"))

    @property
    def SWEEP_INTERVAL(self) -> float:
        return cast(float, read("SWEEP_INTERVAL"))

    @property
    def SWEEP_GRACE(self) -> float:
        """How long a due delivery may wait for its job before the sweeper looks into it."""
        return cast(float, read("SWEEP_GRACE"))

    @property
    def QUEUED_JOB_STALE_SECONDS(self) -> float:
        """A webhook's job still queued after this long while its deliveries are due is queued again."""
        return cast(float, read("QUEUED_JOB_STALE_SECONDS"))

    @property
    def PRUNE_BATCH(self) -> int:
        return cast(int, read("PRUNE_BATCH"))

    @property
    def SECRET_OVERLAP_HOURS(self) -> float:
        """How long a rotated-out secret keeps signing, so receivers can switch without losing events."""
        return cast(float, read("SECRET_OVERLAP_HOURS"))

    @property
    def RETIRED_SECRETS_MAX(self) -> int:
        """Rotated-out secrets that sign at once; rotating past this drops the one that expires first."""
        return cast(int, read("RETIRED_SECRETS_MAX"))

    @property
    def API_PREFIX(self) -> str:
        """The path the host serves its API under: every answer under it is JSON, errors included."""
        return cast(str, read("API_PREFIX"))

    @property
    def API_RATE(self) -> str:
        """Requests one API key may make to the details API (Django REST framework's syntax); 429 beyond."""
        return cast(str, read("API_RATE"))

    @property
    def API_BODY_MAX_BYTES(self) -> int:
        """The largest request body the details API reads (its bodies are a few kilobytes); 400 beyond."""
        return cast(int, read("API_BODY_MAX_BYTES"))

    @property
    def API_PAGE_SIZE(self) -> int:
        """Items per page of the details API's lists."""
        return cast(int, read("API_PAGE_SIZE"))

    @property
    def ACTION_RATE(self) -> str:
        """How often a user may "Send test" or "Resend" (django-ratelimit syntax), as GitLab allows."""
        return cast(str, read("ACTION_RATE"))

    @property
    def ACCOUNT_SESSION_KEY(self) -> str:
        """The session key holding the account an admin of several chose in the switcher."""
        return cast(str, read("ACCOUNT_SESSION_KEY"))

    @property
    def ENDPOINTS_MAX(self) -> int:
        """Webhook endpoints one account may have."""
        return cast(int, read("ENDPOINTS_MAX"))

    @property
    def ALERT_AFTER_FAILURES(self) -> int:
        """Failed attempts in a row after which the account's admins are told an endpoint is failing."""
        return cast(int, read("ALERT_AFTER_FAILURES"))

    @property
    def SECRET_OVERLAP_MAX_HOURS(self) -> float:
        """The longest overlap an admin may choose when rotating a secret."""
        return cast(float, read("SECRET_OVERLAP_MAX_HOURS"))

    @property
    def TEST_WAIT_SECONDS(self) -> float:
        """How long "Send test" waits for the first attempt's outcome, to show it in place."""
        return cast(float, read("TEST_WAIT_SECONDS"))

    @property
    def SIGNALS_QUEUE_MAX(self) -> int:
        """Signals a process keeps waiting for its signals' thread; past this one is dropped, with an error logged."""
        return cast(int, read("SIGNALS_QUEUE_MAX"))

    @property
    def SIGNALS_EXIT_WAIT(self) -> float:
        """Seconds a stopping process waits for its signals (the admins' e-mails) still to be sent."""
        return cast(float, read("SIGNALS_EXIT_WAIT"))

    @property
    def HEALTHZ_MAX_DUE_AGE(self) -> float:
        """Seconds the oldest due delivery may wait before /healthz answers 503 (workers too few or stopped)."""
        return cast(float, read("HEALTHZ_MAX_DUE_AGE"))

    @property
    def METRICS_TOKEN(self) -> str:
        """The bearer token /metrics asks for; empty: /metrics does not exist."""
        return cast(str, read("METRICS_TOKEN"))


class _Remembered:
    """The settings, each read once and kept: the sender reads some for every attempt, and a Django
    setting costs a lazy object's lookup each time. Forgotten when a setting changes (tests)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._values: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            value = self._values[name] = getattr(self._settings, name)
            return value

    def forget(self, **kwargs: Any) -> None:
        self._values.clear()


conf: Settings = _Remembered(Settings())  # type: ignore[assignment]
setting_changed.connect(conf.forget, dispatch_uid="integrations.conf")  # type: ignore[attr-defined]
