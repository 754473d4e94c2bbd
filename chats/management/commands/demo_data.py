"""Creates the demo account, its admin, a demo flow and a webhook pointing at webhooks_listen."""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.models import Account, Membership
from chats.models import Chat, Flow, Prompt
from integrations.webhooks import webhook_for_account, webhook_save_url

DEMO_PROMPTS = [
    ("name", "Hi! What should we call you?"),
    ("favourite_colour", "What is your favourite colour?"),
    ("feedback", "Anything else you would like to tell us?"),
]


class Command(BaseCommand):
    help = "Create (or refresh) demo data and print the admin login."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--webhook-url", default="http://127.0.0.1:9000/")
        parser.add_argument("--password", help="Admin password (default: a new random one each run).")

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        account, _ = Account.objects.get_or_create(name="Demo Company")
        user, _ = get_user_model().objects.get_or_create(username="admin", defaults={"email": "admin@example.com"})
        password = options["password"] or secrets.token_urlsafe(9)
        user.set_password(password)
        user.is_staff = user.is_superuser = True
        user.save()
        Membership.objects.update_or_create(account=account, user=user, defaults={"role": Membership.Role.ADMIN})

        flow, created = Flow.objects.get_or_create(account=account, name="Welcome survey")
        if created:
            for position, (name, text) in enumerate(DEMO_PROMPTS):
                Prompt.objects.create(flow=flow, name=name, text=text, position=position)
        Chat.objects.get_or_create(flow=flow, identifier="demo-participant")

        if webhook_for_account(account=account) is None:
            webhook_save_url(account=account, url=options["webhook_url"])

        self.stdout.write(
            self.style.SUCCESS(
                "\nDemo data ready.\n"
                "  Open http://127.0.0.1:8000/ and log in as\n"
                f"    username: {user.get_username()}\n"
                f"    password: {password}\n"
                f"  Webhook of '{account.name}': {options['webhook_url']} (printed by webhooks_listen)\n"
                "  Complete the chat 'demo-participant' in Django admin (/admin/chats/chat/) to send 'completed'.\n"
            )
        )
