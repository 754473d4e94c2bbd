"""The app's default receivers of its own signals: an e-mail to the account's admins.

Connected by the app's `ready()`; a host that tells its admins another way disconnects them:
`webhook_disabled.disconnect(dispatch_uid=EMAIL_ADMINS_ON_DISABLE)`.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.mail import send_mail

from .adapter import get_adapter
from .conf import conf
from .models import Webhook
from .signals import EMAIL_ADMINS_ON_DISABLE, webhook_disabled


def email_admins_on_disable(sender: Any, webhook: Webhook, reason: str, **kwargs: Any) -> None:
    recipients = get_adapter().account_admin_emails(webhook.account_id)
    if not recipients:
        return
    send_mail(
        subject=f"{conf.PRODUCT_NAME}: your webhook was disabled",
        message=(
            f"{conf.PRODUCT_NAME} stopped sending notifications to {webhook.url}.\n\n"
            f"Why: {reason}\n\n"
            "Fix the endpoint, then re-enable the webhook on the Integrations page (avatar → Integrations → "
            "Webhook); you can resend the notifications that failed meanwhile from there.\n"
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=recipients,
    )


def connect() -> None:
    webhook_disabled.connect(email_admins_on_disable, sender=Webhook, dispatch_uid=EMAIL_ADMINS_ON_DISABLE)
