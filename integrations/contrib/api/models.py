"""The API key of an account."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from rest_framework_api_key.models import AbstractAPIKey

from ...models import ACCOUNT_MODEL


class AccountAPIKey(AbstractAPIKey):
    """A key to the details API, for one account: shown once at creation, stored hashed (the library's)."""

    account = models.ForeignKey(ACCOUNT_MODEL, on_delete=models.CASCADE, related_name="api_keys")
    # Written at most once a minute per key: a busy client must not cost a write per request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Who created it. A key belongs to the account, not to them: it keeps working when they leave, and the
    # API keys tab flags it then. The name stays when the user is deleted; empty for keys made before.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=150, blank=True)

    class Meta(AbstractAPIKey.Meta):
        db_table = "integrations_accountapikey"  # the core app's table until 0.2: kept, rows and all
        verbose_name = "API key"
        verbose_name_plural = "API keys"
