import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

from integrations.migration_operations import AdoptTable


class Migration(migrations.Migration):
    """The account API key, which the core app kept until 0.2 (integrations 0005 to 0013): its table is
    adopted as it is, rows and all, or created in a project that has none."""

    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.INTEGRATIONS_ACCOUNT_MODEL),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("integrations", "0013_api_keys_to_the_api_part"),
    ]

    operations = [
        AdoptTable(
            name="AccountAPIKey",
            fields=[
                ("id", models.CharField(editable=False, max_length=150, primary_key=True, serialize=False, unique=True)),
                ("prefix", models.CharField(editable=False, max_length=8, unique=True)),
                ("hashed_key", models.CharField(editable=False, max_length=150)),
                ("created", models.DateTimeField(auto_now_add=True, db_index=True)),
                ("name", models.CharField(default=None, help_text="A free-form name for the API key. Need not be unique. 50 characters max.", max_length=50)),
                ("revoked", models.BooleanField(blank=True, default=False, help_text="If the API key is revoked, clients cannot use it anymore. (This cannot be undone.)")),
                ("expiry_date", models.DateTimeField(blank=True, help_text="Once API key expires, clients cannot use it anymore.", null=True, verbose_name="Expires")),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("account", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="api_keys", to=settings.INTEGRATIONS_ACCOUNT_MODEL)),
                ("created_by", models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name="+", to=settings.AUTH_USER_MODEL)),
                ("created_by_name", models.CharField(blank=True, max_length=150)),
            ],
            options={
                "verbose_name": "API key",
                "verbose_name_plural": "API keys",
                "db_table": "integrations_accountapikey",
                "ordering": ("-created",),
                "abstract": False,
            },
        ),
    ]
