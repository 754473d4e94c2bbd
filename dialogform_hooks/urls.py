"""URL configuration of DialogForm Hooks."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from accounts import views as account_views

from . import queue_dashboard

urlpatterns = [
    path("", account_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("integrations/", include("integrations.urls")),
    path("", include("chats.urls")),
    path("admin/django-rq/", include((queue_dashboard.urlpatterns(), "django_rq"))),
    path("admin/", admin.site.urls),
]
