"""django-rq's queue dashboard, for superusers and holders of its "Access admin page" permission only.

django-rq lets any staff user in, and its pages can empty the webhook queue, delete and requeue
jobs: a staff user who may only view chats must not. Deliveries are safe in the database either
way (the sweeper re-queues what is due), but the dashboard is an operator's tool.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern
from django_rq.urls import get_admin_urlpatterns, get_api_urlpatterns
from redis.exceptions import RedisError

PERMISSION = "django_rq.admin"


def queue_dashboard_view(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not (user.is_active and user.is_staff):  # as Django admin: its login page
            return redirect_to_login(request.get_full_path(), "admin:login")
        if not (user.is_superuser or user.has_perm(PERMISSION)):
            raise PermissionDenied("The queue dashboard is for superusers.")
        try:
            return view(request, *args, **kwargs)
        except RedisError as error:  # the dashboard is Redis's own pages: say so, rather than a 500
            response = HttpResponse(
                f"The queue's Redis cannot be reached ({type(error).__name__}). Deliveries wait in the database "
                "and are sent once it is back; /healthz says what else is down.\n",
                content_type="text/plain; charset=utf-8",
                status=503,
            )
            response["Retry-After"] = "30"
            return response

    return guarded


def urlpatterns() -> list[URLPattern]:
    """Every page of the dashboard, its JSON and metrics views included, behind the check."""
    patterns = [*get_api_urlpatterns(), *get_admin_urlpatterns()]
    for pattern in patterns:
        pattern.callback = queue_dashboard_view(pattern.callback)
    return patterns
