"""The visitor's address behind the TLS proxy, for login throttling (django-axes).

Behind a proxy every request comes from the proxy's address: counting failed logins by that
address would let anyone lock an admin out for everyone. The proxy says who it serves in X-Real-IP,
which is believed only from the proxy's own addresses (TRUSTED_PROXIES): anyone else could forge it.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    peer = request.META.get("REMOTE_ADDR")
    if peer not in getattr(settings, "TRUSTED_PROXIES", ()):
        return peer
    forwarded = str(request.META.get("HTTP_X_REAL_IP", "")).strip()
    try:
        return str(ipaddress.ip_address(forwarded))
    except ValueError:
        return peer  # no address, or not one: the proxy's own, as without a proxy
