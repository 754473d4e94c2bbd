from django.db import migrations, models


class Migration(migrations.Migration):
    """What an event is about, in words of no host: the values of the fields the adapter's
    `subject_fields` name (the bodies' flowId and identifier, which these columns held until now).

    Renaming the columns keeps their index (PostgreSQL and SQLite both follow a renamed column), so
    the index changes in Django's state only: a large table is not indexed again.
    """

    dependencies = [
        ("integrations", "0011_event_type_from_the_catalog"),
    ]

    operations = [
        migrations.RenameField(model_name="event", old_name="flow_id", new_name="subject_id"),
        migrations.RenameField(model_name="event", old_name="identifier", new_name="subject_key"),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="event", name="event_subject"),
                migrations.AddIndex(
                    model_name="event",
                    index=models.Index(fields=["account", "subject_id", "subject_key"], name="event_subject"),
                ),
            ]
        ),
    ]
