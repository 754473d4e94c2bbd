from django.db import migrations

from integrations.migration_operations import ReleaseTable


class Migration(migrations.Migration):
    """The API keys' model moves to the optional API part (integrations.contrib.api), whose first
    migration adopts this table: keys made before keep working."""

    dependencies = [
        ("integrations", "0012_event_subject_fields"),
    ]

    operations = [
        ReleaseTable("AccountAPIKey", taken_by="integrations.contrib.api"),
    ]
