"""The operator's URL: /healthz, for load balancers and uptime checks (/metrics is the Prometheus part's).

Thin: the figures come from integrations.status. It uses no session and no template, so it answers
while the rest of the site is in trouble.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from . import status


@require_safe
@never_cache
def healthz(request: HttpRequest) -> HttpResponse:
    """200 with the figures when all is well; 503 with the same figures and the problems when not."""
    system = status.system_status()
    return JsonResponse(system.as_json(), status=200 if system.healthy else 503)
