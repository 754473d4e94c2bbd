"""The app's default receivers of its own signals: an e-mail to the account's admins.

Connected by the app's `ready()`, one message per endpoint per change of state (failing, recovered,
disabled). A host that tells its admins another way disconnects them, e.g.
`webhook_disabled.disconnect(sender=Webhook, dispatch_uid=EMAIL_ADMINS_ON_DISABLE)`.
"""

from __future__ import annotations

import logging
import smtplib
from typing import Any

from django.conf import settings
from django.core.mail import send_mail

from .adapter import get_adapter
from .conf import conf
from .models import Webhook
from .signals import (
    EMAIL_ADMINS_ON_DISABLE,
    EMAIL_ADMINS_ON_FAILING,
    EMAIL_ADMINS_ON_RECOVERED,
    webhook_disabled,
    webhook_failing,
    webhook_recovered,
)

logger = logging.getLogger(__name__)

WHERE = "the Integrations page (avatar → Integrations → Webhook)"


def _email_admins(webhook: Webhook, subject: str, message: str) -> None:
    recipients = get_adapter().account_admin_emails(webhook.account_id)
    if not recipients:
        return
    try:
        send_mail(
            subject=f"{conf.PRODUCT_NAME}: {subject}",
            message=message,
            from_email=settings.DEFAULT_FROM_EMAIL,
            recipient_list=recipients,
        )
    except (OSError, smtplib.SMTPException) as error:  # a timeout is an OSError (EMAIL_TIMEOUT)
        # The page's banner still says it; the next change of state sends the next message.
        logger.warning(
            "e-mail to the admins of endpoint %s not sent (%s): %s",
            webhook.pk,
            subject,
            type(error).__name__,
            extra={"endpoint_id": webhook.pk, "account_id": webhook.account_id, "error": type(error).__name__},
        )


def _endpoint(webhook: Webhook) -> str:
    return webhook.url + (f" ({webhook.description})" if webhook.description else "")


def email_admins_on_failing(sender: Any, webhook: Webhook, failures: int, **kwargs: Any) -> None:
    _email_admins(
        webhook,
        "your webhook endpoint is failing",
        f"The last {failures} attempts to deliver notifications to {_endpoint(webhook)} failed.\n\n"
        "We keep retrying on our published schedule, so nothing is lost yet. See the errors on "
        f"{WHERE}; we will tell you when it recovers, or if we have to disable it.\n",
    )


def email_admins_on_recovered(sender: Any, webhook: Webhook, failed: int, **kwargs: Any) -> None:
    _email_admins(
        webhook,
        "your webhook endpoint recovered",
        f"{_endpoint(webhook)} accepted a notification again, after {failed} failed attempts in a row.\n\n"
        "Notifications waiting for a retry are being sent. Any that failed for good meanwhile can be resent "
        f'from {WHERE} ("Recover").\n',
    )


def email_admins_on_disable(sender: Any, webhook: Webhook, reason: str, **kwargs: Any) -> None:
    _email_admins(
        webhook,
        "your webhook was disabled",
        f"{conf.PRODUCT_NAME} stopped sending notifications to {_endpoint(webhook)}.\n\n"
        f"Why: {reason}\n\n"
        f"Fix the endpoint, then re-enable the webhook on {WHERE}; "
        "you can resend the notifications that failed meanwhile from there.\n",
    )


def connect() -> None:
    webhook_failing.connect(email_admins_on_failing, sender=Webhook, dispatch_uid=EMAIL_ADMINS_ON_FAILING)
    webhook_recovered.connect(email_admins_on_recovered, sender=Webhook, dispatch_uid=EMAIL_ADMINS_ON_RECOVERED)
    webhook_disabled.connect(email_admins_on_disable, sender=Webhook, dispatch_uid=EMAIL_ADMINS_ON_DISABLE)
