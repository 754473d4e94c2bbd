"""Account API keys on the details API: `Authorization: Api-Key <key>`, one account per key, a rate per key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from redis.exceptions import RedisError
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed, NotAuthenticated
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.throttling import SimpleRateThrottle
from rest_framework_api_key.permissions import KeyParser

from ...conf import conf
from ...ratelimits import limiter_down
from .models import AccountAPIKey

KEYWORD = "Api-Key"
# last_used_at is written at most this often per key.
LAST_USED_PRECISION = timedelta(minutes=1)


class AccountAPIKeyAuthentication(BaseAuthentication):
    """The key names its account; `request.auth` is the key, `request.user` stays anonymous."""

    def authenticate(self, request: Request) -> tuple[Any, AccountAPIKey] | None:
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None  # no key at all: the permission answers 401 with WWW-Authenticate
        key = KeyParser().get_from_authorization(request)
        if not key or "." not in key:
            raise AuthenticationFailed(f"Send the key as 'Authorization: {KEYWORD} <key>'.", code="malformed_key")
        try:
            api_key = AccountAPIKey.objects.get_from_key(key)
            assert isinstance(api_key, AccountAPIKey)
        except AccountAPIKey.DoesNotExist:
            raise AuthenticationFailed("This API key is not valid, or it was revoked.", code="invalid_key") from None
        if api_key.has_expired:
            raise AuthenticationFailed("This API key has expired.", code="expired_key")
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at >= LAST_USED_PRECISION:
            AccountAPIKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        return None, api_key

    def authenticate_header(self, request: Request) -> str:
        return KEYWORD


class HasAccountAPIKey(BasePermission):
    message = (
        f"An API key is needed: send 'Authorization: {KEYWORD} <key>'. "
        "Account admins create keys on the Integrations page."
    )

    def has_permission(self, request: Request, view: Any) -> bool:
        if request.auth is None:
            raise NotAuthenticated(self.message)  # a 401 that says how to send a key
        return isinstance(request.auth, AccountAPIKey)


def request_api_key(request: Request) -> AccountAPIKey:
    """The key the request was authenticated with (HasAccountAPIKey has made sure there is one)."""
    api_key = request.auth
    assert isinstance(api_key, AccountAPIKey)
    return api_key


class APIKeyRateThrottle(SimpleRateThrottle):
    """A rate per key (INTEGRATIONS_API_RATE), counted in the shared cache; 429 with Retry-After beyond it."""

    scope = "api_key"

    def get_rate(self) -> str:
        return conf.API_RATE

    def allow_request(self, request: Request, view: Any) -> bool:
        """Counted when the cache can count; without Redis the API's reads and writes go on (fail open)."""
        try:
            return super().allow_request(request, view)
        except RedisError as error:
            limiter_down("API keys' requests", error)
            return True

    def get_cache_key(self, request: Request, view: Any) -> str | None:
        if not isinstance(request.auth, AccountAPIKey):
            return None
        return self.cache_format % {"scope": self.scope, "ident": request.auth.prefix}
