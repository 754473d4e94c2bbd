"""Accounts (customer organisations) and their members."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from .validators import validate_single_line


class Account(models.Model):
    name = models.CharField(max_length=200, validators=[validate_single_line])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    @property
    def initials(self) -> str:
        words = self.name.split()
        return "".join(word[0] for word in words[:2]).upper() or "?"


class Membership(models.Model):
    class Role(models.TextChoices):
        ADMIN = "admin", "Admin"
        MEMBER = "member", "Member"

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=10, choices=Role.choices, default=Role.MEMBER)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "user"], name="membership_unique_account_user")]

    def __str__(self) -> str:
        return f"{self.user} in {self.account} ({self.role})"
