"""The SSRF guard: hostile URLs are refused at save, and a send re-checks the DNS answer of its moment."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from integrations.models import Delivery, DeliveryAttempt, Webhook
from integrations.validators import validate_webhook_url
from tests.helpers import FakeDNS
from tests.testhost.models import Team, Ticket
from tests.testhost.objects import close

PUBLIC = "93.184.215.14"

HOSTILE_URLS = [
    # schemes other than http(s)
    "ftp://example.org/hook",
    "file:///etc/passwd",
    "gopher://127.0.0.1:6379/_FLUSHALL",
    "dict://127.0.0.1:6379/info",
    "javascript:alert(1)",
    "data:text/plain,hello",
    "ws://example.org/socket",
    # user info
    "http://user@public.example/hook",
    "http://user:password@public.example/hook",
    "http://@public.example/hook",
    # IPv4 loopback, private, link-local (cloud metadata), CGNAT, this-network, multicast, broadcast,
    # reserved, documentation and benchmark ranges
    "http://127.0.0.1/",
    "http://127.255.255.254:8080/",
    "http://10.0.0.1/",
    "http://10.255.255.255/",
    "http://172.16.0.1/",
    "http://172.31.255.254/",
    "http://192.168.0.1/",
    "http://192.168.255.255/",
    "http://169.254.169.254/latest/meta-data/",
    "http://169.254.170.2/v2/credentials",
    "http://100.64.0.1/",
    "http://100.127.255.254/",
    "http://0.0.0.0/",
    "http://0.1.2.3/",
    "http://224.0.0.1/",
    "http://239.255.255.250/",
    "http://255.255.255.255/",
    "http://240.0.0.1/",
    "http://192.0.0.8/",
    "http://192.0.2.10/",
    "http://198.51.100.7/",
    "http://203.0.113.9/",
    "http://198.18.0.1/",
    "http://198.19.255.254/",
    "http://192.88.99.1/",
    # odd IPv4 spellings
    "http://2130706433/",
    "http://0x7f.1/",
    "http://0177.0.0.1/",
    "http://127.1/",
    "http://127.0.1/",
    "http://0x7f000001/",
    "http://017700000001/",
    "http://0x7f.0.0.1/",
    "http://2852039166/",  # 169.254.169.254
    "http://0xa9fea9fe/",  # 169.254.169.254
    "http://012.0.0.1/",  # 10.0.0.1
    # IPv6 loopback, unspecified, link-local, unique-local, multicast, site-local, documentation
    "http://[::1]/",
    "http://[0:0:0:0:0:0:0:1]/",
    "http://[::]/",
    "http://[fe80::1]/",
    "http://[fc00::1]/",
    "http://[fd12:3456:789a::1]/",
    "http://[ff02::1]/",
    "http://[fec0::1]/",
    "http://[2001:db8::1]/",
    "http://[100::1]/",
    "http://[5f00::1]/",
    "http://[64:ff9b:1::1]/",
    # IPv6 forms that embed a forbidden IPv4 address
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:7f00:1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:10.0.0.1]/",
    "http://[::127.0.0.1]/",  # IPv4-compatible
    "http://[::a9fe:a9fe]/",
    "http://[64:ff9b::127.0.0.1]/",  # NAT64
    "http://[64:ff9b::a9fe:a9fe]/",
    "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
    "http://[2002:a9fe:a9fe::1]/",  # 6to4 of 169.254.169.254
    "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/",  # Teredo
    # names that resolve to forbidden addresses, alone or among several
    "http://localhost/",
    "http://localhost:8000/admin/",
    "http://metadata.internal/computeMetadata/v1/",
    "http://intranet.example/",
    "http://mixed.example/",
    "http://mixed-v6.example/",
    "http://unresolvable.example/",
    # malformed
    "http://[::1/",
    "http://public.example:99999/",
    "http://public.example:port/",
    "http:///no-host",
    "http://public.example/with space",
]


@pytest.fixture
def hostile_dns(dns: FakeDNS, settings: Any) -> FakeDNS:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = False
    dns.names.update(
        {
            "public.example": [PUBLIC],
            "metadata.internal": ["169.254.169.254"],
            "intranet.example": ["10.1.2.3"],
            "mixed.example": [PUBLIC, "127.0.0.1"],
            "mixed-v6.example": ["2606:4700:4700::1111", "fd00::5"],
        }
    )
    return dns


def test_the_table_holds_every_class_of_hostile_url() -> None:
    assert len(HOSTILE_URLS) >= 60
    assert len(set(HOSTILE_URLS)) == len(HOSTILE_URLS)


@pytest.mark.parametrize("url", HOSTILE_URLS)
def test_hostile_urls_are_refused_at_save(url: str, hostile_dns: FakeDNS, account: Team) -> None:
    webhook = Webhook(account=account, url=url)
    with pytest.raises(ValidationError) as refused:
        webhook.full_clean()
    assert "url" in refused.value.message_dict
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://public.example/hooks",
        "http://public.example:8080/hooks?token=abc",
        f"https://{PUBLIC}/",
        "https://[2606:4700:4700::1111]/",
        "https://[::ffff:93.184.215.14]/",  # the embedded address is public
        "https://[2002:5db8:d70e::1]/",  # 6to4 of a public address
    ],
)
def test_public_destinations_are_accepted(url: str, hostile_dns: FakeDNS, account: Team) -> None:
    Webhook(account=account, url=url).full_clean()


def test_the_refusal_says_why(hostile_dns: FakeDNS, account: Team) -> None:
    with pytest.raises(ValidationError) as refused:
        Webhook(account=account, url="http://mixed.example/").full_clean()
    [message] = refused.value.message_dict["url"]
    assert message == (
        "The host 'mixed.example' points into a private or reserved network (127.0.0.1); "
        "webhooks can only go to public addresses."
    )


@pytest.mark.django_db(transaction=True)
def test_a_name_that_now_resolves_to_loopback_is_not_sent_to(
    hostile_dns: FakeDNS, account: Team, receiver: Any, run_worker: Callable[[], None]
) -> None:
    # Saved while the name pointed at a public address...
    url = f"http://rebind.example:{receiver.port}/hook"
    hostile_dns.names["rebind.example"] = [PUBLIC]
    webhook = Webhook(account=account, url=url)
    webhook.full_clean()
    webhook.save()
    # ...then its DNS answer turns to the loopback receiver (DNS rebinding).
    hostile_dns.names["rebind.example"] = ["127.0.0.1"]
    close(Ticket.objects.create(team=account, reference="r"))
    run_worker()

    assert receiver.log == []  # nothing reached the loopback receiver
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.status_code is None
    assert attempt.error == (
        "Not sent: The host 'rebind.example' points into a private or reserved network (127.0.0.1); "
        "webhooks can only go to public addresses."
    )
    assert attempt.delivery.status == "pending"  # retried on the schedule: the answer may change back


@pytest.mark.django_db(transaction=True)
def test_the_connection_goes_to_the_vetted_address_with_the_original_host(
    dns: FakeDNS, account: Team, receiver: Any, run_worker: Callable[[], None]
) -> None:
    dns.names["hooks.customer.example"] = ["127.0.0.1"]
    Webhook.objects.create(account=account, url=f"http://hooks.customer.example:{receiver.port}/hook")
    close(Ticket.objects.create(team=account, reference="h"))
    run_worker()
    [(request, _)] = receiver.log
    assert request.headers["Host"] == f"hooks.customer.example:{receiver.port}"


@pytest.mark.django_db(transaction=True)
def test_environment_proxies_cannot_route_around_the_guard(
    monkeypatch: pytest.MonkeyPatch, account: Team, receiver: Any, run_worker: Callable[[], None]
) -> None:
    proxied: list[str] = []

    class Proxy(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            proxied.append(self.path)
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    proxy = ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    proxy_url = f"http://127.0.0.1:{proxy.server_address[1]}"
    for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(name, proxy_url)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    try:
        Webhook.objects.create(account=account, url=receiver.url_for("/hook"))
        close(Ticket.objects.create(team=account, reference="p"))
        run_worker()
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert proxied == []
    assert len(receiver.log) == 1


@pytest.fixture
def silent_dns(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """A DNS that never answers. Stands in for the system resolver (getaddrinfo), which these machines
    cannot point at a nameserver of ours: a lookup blocks until the test ends."""
    released = threading.Event()

    def never_answers(host: str, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        released.wait(60)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")

    monkeypatch.setattr("integrations.destinations.resolver", never_answers)
    yield
    released.set()


@pytest.mark.django_db(transaction=True)
def test_a_dns_lookup_that_never_answers_counts_against_the_attempt(
    silent_dns: None, account: Team, run_worker: Callable[[], None], settings: Any
) -> None:
    settings.INTEGRATIONS_ATTEMPT_TIMEOUT = 1.0
    Webhook.objects.create(account=account, url="http://silent.example/hook")  # saved before DNS went silent
    close(Ticket.objects.create(team=account, reference="s"))
    started = time.monotonic()
    run_worker()
    # Within the attempt's bound (with room for a busy machine), not the resolver's own retries.
    assert time.monotonic() - started < 5
    [attempt] = DeliveryAttempt.objects.all()
    assert attempt.error == "Not sent: The host 'silent.example' could not be looked up in time (DNS did not answer)."
    assert 900 <= attempt.duration_ms < 5000
    assert attempt.delivery.status == "pending"  # retried on the schedule, like any failed attempt


def test_a_url_whose_dns_never_answers_is_refused_at_save_in_bounded_time(silent_dns: None, settings: Any) -> None:
    settings.INTEGRATIONS_ALLOW_PRIVATE_URLS = False
    settings.INTEGRATIONS_CONNECT_TIMEOUT = 0.5
    started = time.monotonic()
    with pytest.raises(ValidationError, match="could not be looked up in time"):
        validate_webhook_url("https://silent.example/hook")
    assert time.monotonic() - started < 5


class CountingDNS(FakeDNS):
    def __init__(self) -> None:
        super().__init__()
        self.lookups: list[str] = []

    def __call__(self, host: str, port: Any, *args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        self.lookups.append(host)
        return super().__call__(host, port, *args, **kwargs)


@pytest.fixture
def counting_dns(monkeypatch: pytest.MonkeyPatch) -> CountingDNS:
    fake = CountingDNS()
    monkeypatch.setattr("integrations.destinations.resolver", fake)
    return fake


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("cache_seconds", "lookups"), [(10.0, 1), (0.0, 5)])
def test_a_hosts_vetted_address_is_reused_for_a_few_seconds_then_vetted_again(
    counting_dns: CountingDNS,
    account: Team,
    receiver: Any,
    run_worker: Callable[[], None],
    settings: Any,
    cache_seconds: float,
    lookups: int,
) -> None:
    settings.INTEGRATIONS_DESTINATION_CACHE_SECONDS = cache_seconds
    counting_dns.names["hooks.customer.example"] = ["127.0.0.1"]
    Webhook.objects.create(account=account, url=f"http://hooks.customer.example:{receiver.port}/hook")
    for number in range(5):
        close(Ticket.objects.create(team=account, reference=f"c{number}"))
    run_worker()
    assert len(receiver.log) == 5
    assert counting_dns.lookups.count("hooks.customer.example") == lookups


@pytest.mark.django_db(transaction=True)
def test_a_refusal_is_not_remembered(
    counting_dns: CountingDNS, account: Team, receiver: Any, run_worker: Callable[[], None]
) -> None:
    url = f"http://flaky.example:{receiver.port}/hook"
    Webhook.objects.create(account=account, url=url)  # saved while it resolved; now it does not
    close(Ticket.objects.create(team=account, reference="first"))
    run_worker()
    assert receiver.log == []
    counting_dns.names["flaky.example"] = ["127.0.0.1"]  # the answer came back
    Delivery.objects.update(next_attempt_at=timezone.now())
    from integrations.queue import webhook_wake

    webhook_wake(webhook_id=Webhook.objects.get().pk)
    run_worker()
    assert len(receiver.log) == 1
