"""The operator's two URLs: /healthz for load balancers and uptime checks, /metrics for Prometheus.

Thin: the figures come from integrations.status and integrations.metrics. Neither page uses the
session or a template, so they answer while the rest of the site is in trouble.
"""

from __future__ import annotations

import hmac

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import status
from .conf import conf


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 with the figures when all is well; 503 with the same figures and the problems when not."""
    system = status.system_status()
    return JsonResponse(system.as_json(), status=200 if system.healthy else 503)


def _bearer_token(request: HttpRequest) -> str:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" else ""


@require_safe
@never_cache
def metrics_view(request: HttpRequest) -> HttpResponse:
    """The Prometheus text format, for `Authorization: Bearer <METRICS_TOKEN>`; no such page without a token set."""
    expected = conf.METRICS_TOKEN
    if not expected:
        raise Http404("Metrics are off: set a metrics token to serve them.")
    if not hmac.compare_digest(_bearer_token(request).encode(), expected.encode()):
        refused = HttpResponse("A valid bearer token is required.\n", status=401, content_type="text/plain")
        refused["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return refused
    body, content_type = status.exposition()
    return HttpResponse(body, content_type=content_type)
