"""Claims that ended with nothing on record; rotated-out secrets that each sign until their own expiry."""

from django.db import migrations, models


def previous_to_retired(apps, schema_editor):
    Webhook = apps.get_model("integrations", "Webhook")
    for webhook in Webhook.objects.exclude(previous_secret="").exclude(previous_secret_expires_at=None):
        webhook.retired_secrets = [
            {"secret": webhook.previous_secret, "expires_at": webhook.previous_secret_expires_at.isoformat()}
        ]
        webhook.save(update_fields=["retired_secrets"])


def retired_to_previous(apps, schema_editor):
    Webhook = apps.get_model("integrations", "Webhook")
    for webhook in Webhook.objects.exclude(retired_secrets=[]):
        # Only one could be kept before: the one that lasts longest.
        latest = max(webhook.retired_secrets, key=lambda entry: entry["expires_at"])
        webhook.previous_secret = latest["secret"]
        webhook.previous_secret_expires_at = latest["expires_at"]
        webhook.save(update_fields=["previous_secret", "previous_secret_expires_at"])


class Migration(migrations.Migration):
    dependencies = [
        ("integrations", "0002_secret_rotation_and_test_events"),
    ]

    operations = [
        migrations.AddField(
            model_name="delivery",
            name="claims_without_attempt",
            field=models.PositiveSmallIntegerField(default=0),
        ),
        migrations.AddField(
            model_name="webhook",
            name="retired_secrets",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.RunPython(previous_to_retired, retired_to_previous),
        migrations.RemoveField(
            model_name="webhook",
            name="previous_secret",
        ),
        migrations.RemoveField(
            model_name="webhook",
            name="previous_secret_expires_at",
        ),
    ]
