"""/metrics: the Prometheus text format, for `Authorization: Bearer <INTEGRATIONS_METRICS_TOKEN>`.

Like /healthz it uses no session and no template, so it answers while the rest of the site is in trouble.
"""

from __future__ import annotations

import hmac

from django.http import Http404, HttpRequest, HttpResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from ...conf import conf
from .exposition import exposition


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
    body, content_type = exposition()
    return HttpResponse(body, content_type=content_type)
