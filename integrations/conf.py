"""The app's settings, read lazily so that override_settings works; every default lives here."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

DEFAULT_RETRY_SCHEDULE = (5, 300, 1800, 7200, 18000, 36000, 36000)


def parse_retry_schedule(value: str | list[int] | tuple[int, ...]) -> tuple[float, ...]:
    """Seconds before each retry, from "5,300,1800" (an empty string means: never retry)."""
    if isinstance(value, (list, tuple)):
        items = [str(item) for item in value]
    else:
        items = [item.strip() for item in value.split(",") if item.strip()]
    try:
        delays = tuple(float(item) for item in items)
    except ValueError as error:
        raise ImproperlyConfigured(
            f"INTEGRATIONS_RETRY_SCHEDULE must be comma-separated seconds, like '5,300,1800': {value!r}"
        ) from error
    if any(delay < 0 for delay in delays):
        raise ImproperlyConfigured(f"INTEGRATIONS_RETRY_SCHEDULE cannot hold negative delays: {value!r}")
    return delays


class Settings:
    @property
    def ACCOUNT_MODEL(self) -> str:
        """The host's account model, as "app_label.ModelName": webhooks belong to accounts (required)."""
        return str(getattr(settings, "INTEGRATIONS_ACCOUNT_MODEL", ""))

    @property
    def ADAPTER(self) -> str:
        """Dotted path of the host's adapter (a subclass of integrations.adapter.BaseAdapter): required."""
        return str(getattr(settings, "INTEGRATIONS_ADAPTER", ""))

    @property
    def PRODUCT_NAME(self) -> str:
        """What the pages and e-mails call the product that sends the notifications."""
        return str(getattr(settings, "INTEGRATIONS_PRODUCT_NAME", "the product"))

    @property
    def USER_AGENT(self) -> str:
        """The User-Agent of every request to an endpoint, before "/<the app's version>"."""
        return str(getattr(settings, "INTEGRATIONS_USER_AGENT", "Django-Webhooks"))

    @property
    def METRICS_PREFIX(self) -> str:
        """What the names of the metrics at /metrics start with (an operator's dashboards and alerts use them)."""
        return str(getattr(settings, "INTEGRATIONS_METRICS_PREFIX", "webhook"))

    @property
    def BASE_TEMPLATE(self) -> str:
        """The template the Integrations pages extend; a host may name its own (it needs a `content` block)."""
        return str(getattr(settings, "INTEGRATIONS_BASE_TEMPLATE", "integrations/base.html"))

    @property
    def QUEUE(self) -> str:
        """The name of the RQ queue (in RQ_QUEUES) the webhook jobs go to."""
        return str(getattr(settings, "INTEGRATIONS_QUEUE", "webhooks"))

    @property
    def ALLOW_PRIVATE_URLS(self) -> bool:
        return bool(getattr(settings, "INTEGRATIONS_ALLOW_PRIVATE_URLS", False))

    @property
    def RETRY_SCHEDULE(self) -> tuple[float, ...]:
        return parse_retry_schedule(getattr(settings, "INTEGRATIONS_RETRY_SCHEDULE", DEFAULT_RETRY_SCHEDULE))

    @property
    def RETRY_JITTER(self) -> float:
        """Each retry delay varies by this fraction either way, so retries of many events spread out."""
        return float(getattr(settings, "INTEGRATIONS_RETRY_JITTER", 0.2))

    @property
    def CONNECT_TIMEOUT(self) -> float:
        return float(getattr(settings, "INTEGRATIONS_CONNECT_TIMEOUT", 5.0))

    @property
    def ATTEMPT_TIMEOUT(self) -> float:
        """Wall-clock bound of one attempt: connect, send, and read the response."""
        return float(getattr(settings, "INTEGRATIONS_ATTEMPT_TIMEOUT", 15.0))

    @property
    def TROUBLED_ATTEMPT_TIMEOUT(self) -> float:
        """The bound of an attempt to an endpoint whose last attempt timed out: less patience while it hangs."""
        return float(getattr(settings, "INTEGRATIONS_TROUBLED_ATTEMPT_TIMEOUT", 5.0))

    @property
    def ENDPOINT_CONCURRENCY(self) -> int:
        """Attempts in flight to one healthy endpoint at once, across every worker (one at a time while in trouble)."""
        return max(1, int(getattr(settings, "INTEGRATIONS_ENDPOINT_CONCURRENCY", 4)))

    @property
    def SENDER_MAX_IN_FLIGHT(self) -> int:
        """Attempts in flight at once in one worker process to endpoints answering in time (the healthy lane)."""
        return max(1, int(getattr(settings, "INTEGRATIONS_SENDER_MAX_IN_FLIGHT", 1000)))

    @property
    def SENDER_TROUBLED_IN_FLIGHT(self) -> int:
        """Attempts in flight at once in one worker process to endpoints failing, probing or slow (their own lane)."""
        return max(1, int(getattr(settings, "INTEGRATIONS_SENDER_TROUBLED_IN_FLIGHT", 1000)))

    @property
    def SLOW_ATTEMPT_SECONDS(self) -> float:
        """An attempt still unanswered after this long moves its endpoint to the troubled lane."""
        return float(getattr(settings, "INTEGRATIONS_SLOW_ATTEMPT_SECONDS", 1.0))

    @property
    def DESTINATION_CACHE_SECONDS(self) -> float:
        """How long a host's vetted address is reused at send time before DNS is asked and the answer vetted again."""
        return float(getattr(settings, "INTEGRATIONS_DESTINATION_CACHE_SECONDS", 10.0))

    @property
    def RESPONSE_READ_LIMIT(self) -> int:
        return int(getattr(settings, "INTEGRATIONS_RESPONSE_READ_LIMIT", 64 * 1024))

    @property
    def RESPONSE_STORE_LIMIT(self) -> int:
        return int(getattr(settings, "INTEGRATIONS_RESPONSE_STORE_LIMIT", 4 * 1024))

    @property
    def BATCH_SIZE(self) -> int:
        """Most deliveries claimed for one endpoint at a time (fewer for an endpoint in trouble or slow)."""
        return int(getattr(settings, "INTEGRATIONS_BATCH_SIZE", 100))

    @property
    def LEDGER_SIZE(self) -> int:
        """Most attempts written in one transaction (those answered while the last write ran are written together)."""
        return max(1, int(getattr(settings, "INTEGRATIONS_LEDGER_SIZE", 500)))

    @property
    def JOB_MAX_DELIVERIES(self) -> int:
        """Attempts one job makes when no worker engine runs (a plain rq worker); the rest goes to a fresh job."""
        return int(getattr(settings, "INTEGRATIONS_JOB_MAX_DELIVERIES", 500))

    @property
    def JOB_MAX_SECONDS(self) -> float:
        """Likewise, the seconds such a job sends for before it hands the rest to a fresh job."""
        return float(getattr(settings, "INTEGRATIONS_JOB_MAX_SECONDS", 10.0))

    @property
    def CLAIM_LEASE_SECONDS(self) -> float:
        """How long a claim holds; longer than one job can run, so only a dead worker's claim expires."""
        return float(getattr(settings, "INTEGRATIONS_CLAIM_LEASE_SECONDS", 60.0))

    @property
    def CLAIMS_WITHOUT_ATTEMPT_MAX(self) -> int:
        """Claims that may expire with no attempt on record (a worker died mid-attempt) before the delivery fails."""
        return int(getattr(settings, "INTEGRATIONS_CLAIMS_WITHOUT_ATTEMPT_MAX", 3))

    @property
    def BREAKER_FAILURES(self) -> int:
        """Consecutive failures after which a webhook's deliveries wait for a cool-down."""
        return int(getattr(settings, "INTEGRATIONS_BREAKER_FAILURES", 5))

    @property
    def BREAKER_TIMEOUTS(self) -> int:
        """Consecutive timeouts after which the breaker opens: a hanging endpoint costs a slot per attempt."""
        return int(getattr(settings, "INTEGRATIONS_BREAKER_TIMEOUTS", 2))

    @property
    def BREAKER_COOLDOWN_MIN(self) -> float:
        return float(getattr(settings, "INTEGRATIONS_BREAKER_COOLDOWN_MIN", 60.0))

    @property
    def BREAKER_COOLDOWN_MAX(self) -> float:
        return float(getattr(settings, "INTEGRATIONS_BREAKER_COOLDOWN_MAX", 3600.0))

    @property
    def DISABLE_AFTER_DAYS(self) -> float:
        """A webhook whose deliveries all failed for this long is disabled."""
        return float(getattr(settings, "INTEGRATIONS_DISABLE_AFTER_DAYS", 5.0))

    @property
    def RETENTION_DAYS(self) -> float:
        return float(getattr(settings, "INTEGRATIONS_RETENTION_DAYS", 30.0))

    @property
    def SWEEP_INTERVAL(self) -> float:
        return float(getattr(settings, "INTEGRATIONS_SWEEP_INTERVAL", 5.0))

    @property
    def SWEEP_GRACE(self) -> float:
        """How long a due delivery may wait for its job before the sweeper looks into it."""
        return float(getattr(settings, "INTEGRATIONS_SWEEP_GRACE", 5.0))

    @property
    def QUEUED_JOB_STALE_SECONDS(self) -> float:
        """A webhook's job still queued after this long while its deliveries are due is queued again."""
        return float(getattr(settings, "INTEGRATIONS_QUEUED_JOB_STALE_SECONDS", 30.0))

    @property
    def PRUNE_BATCH(self) -> int:
        return int(getattr(settings, "INTEGRATIONS_PRUNE_BATCH", 1000))

    @property
    def SECRET_OVERLAP_HOURS(self) -> float:
        """How long a rotated-out secret keeps signing, so receivers can switch without losing events."""
        return float(getattr(settings, "INTEGRATIONS_SECRET_OVERLAP_HOURS", 24.0))

    @property
    def RETIRED_SECRETS_MAX(self) -> int:
        """Rotated-out secrets that sign at once; rotating past this drops the one that expires first."""
        return int(getattr(settings, "INTEGRATIONS_RETIRED_SECRETS_MAX", 3))

    @property
    def API_RATE(self) -> str:
        """Requests one API key may make to the details API (Django REST framework's syntax); 429 beyond."""
        return str(getattr(settings, "INTEGRATIONS_API_RATE", "120/minute"))

    @property
    def API_BODY_MAX_BYTES(self) -> int:
        """The largest request body the details API reads (its bodies are a few kilobytes); 400 beyond."""
        return int(getattr(settings, "INTEGRATIONS_API_BODY_MAX_BYTES", 65_536))

    @property
    def API_PAGE_SIZE(self) -> int:
        """Items per page of the details API's lists."""
        return int(getattr(settings, "INTEGRATIONS_API_PAGE_SIZE", 50))

    @property
    def ACTION_RATE(self) -> str:
        """How often a user may "Send test" or "Resend" (django-ratelimit syntax), as GitLab allows."""
        return str(getattr(settings, "INTEGRATIONS_ACTION_RATE", "5/m"))

    @property
    def ACCOUNT_SESSION_KEY(self) -> str:
        """The session key holding the account an admin of several chose in the switcher."""
        return str(getattr(settings, "INTEGRATIONS_ACCOUNT_SESSION_KEY", "account_id"))

    @property
    def ENDPOINTS_MAX(self) -> int:
        """Webhook endpoints one account may have."""
        return int(getattr(settings, "INTEGRATIONS_ENDPOINTS_MAX", 20))

    @property
    def ALERT_AFTER_FAILURES(self) -> int:
        """Failed attempts in a row after which the account's admins are told an endpoint is failing."""
        return int(getattr(settings, "INTEGRATIONS_ALERT_AFTER_FAILURES", 4))

    @property
    def SECRET_OVERLAP_MAX_HOURS(self) -> float:
        """The longest overlap an admin may choose when rotating a secret."""
        return float(getattr(settings, "INTEGRATIONS_SECRET_OVERLAP_MAX_HOURS", 168.0))

    @property
    def TEST_WAIT_SECONDS(self) -> float:
        """How long "Send test" waits for the first attempt's outcome, to show it in place."""
        return float(getattr(settings, "INTEGRATIONS_TEST_WAIT_SECONDS", 3.0))

    @property
    def SIGNALS_QUEUE_MAX(self) -> int:
        """Signals a process keeps waiting for its signals' thread; past this one is dropped, with an error logged."""
        return int(getattr(settings, "INTEGRATIONS_SIGNALS_QUEUE_MAX", 10_000))

    @property
    def SIGNALS_EXIT_WAIT(self) -> float:
        """Seconds a stopping process waits for its signals (the admins' e-mails) still to be sent."""
        return float(getattr(settings, "INTEGRATIONS_SIGNALS_EXIT_WAIT", 10.0))

    @property
    def HEALTHZ_MAX_DUE_AGE(self) -> float:
        """Seconds the oldest due delivery may wait before /healthz answers 503 (workers too few or stopped)."""
        return float(getattr(settings, "INTEGRATIONS_HEALTHZ_MAX_DUE_AGE", 300.0))

    @property
    def METRICS_TOKEN(self) -> str:
        """The bearer token /metrics asks for; empty: /metrics does not exist."""
        return str(getattr(settings, "INTEGRATIONS_METRICS_TOKEN", "") or "")


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
