# Written for big tables: not atomic, so that each step commits on its own and holds no lock for long.
#   1. deliveries get their event's account (a nullable column: no rewrite), filled in id ranges;
#   2. the log's indexes are built CONCURRENTLY on PostgreSQL (writes go on meanwhile);
#   3. the endpoints' counts by hour are made from the attempts on record.

from collections import Counter

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, Max, Min, OuterRef, Subquery
from django.db.models.functions import TruncHour

import integrations.migration_operations

BATCH = 20_000


def deliveries_account(apps, schema_editor):
    """Each delivery's account is its event's, set a range of ids at a time (one short transaction each)."""
    Delivery = apps.get_model("integrations", "Delivery")
    Event = apps.get_model("integrations", "Event")
    bounds = Delivery.objects.aggregate(low=Min("id"), high=Max("id"))
    if bounds["low"] is None:
        return
    account = Subquery(Event.objects.filter(pk=OuterRef("event_id")).values("account_id")[:1])
    for start in range(bounds["low"], bounds["high"] + 1, BATCH):
        Delivery.objects.filter(id__gte=start, id__lt=start + BATCH, account__isnull=True).update(account_id=account)


def endpoint_tallies(apps, schema_editor):
    """The counts by hour of every attempt on record, as the sender now keeps them."""
    from datetime import UTC

    from integrations.tallies import duration_bucket, hour_count, tallies_add

    DeliveryAttempt = apps.get_model("integrations", "DeliveryAttempt")
    hours = {}
    durations = Counter()
    rows = (
        DeliveryAttempt.objects.filter(delivery__webhook__isnull=False)
        .annotate(hour=TruncHour("attempted_at", tzinfo=UTC))
        .order_by()
        .values_list("delivery__webhook_id", "hour", "duration_ms", "succeeded")
        .annotate(count=Count("id"), latest=Max("attempted_at"))
    )
    for webhook_id, hour, duration_ms, succeeded, count, latest in rows.iterator(chunk_size=5000):
        hour_count(hours, webhook_id, latest, succeeded, count=count)
        durations[webhook_id, hour, duration_bucket(duration_ms)] += count
    tallies_add(hours, durations)


class Migration(migrations.Migration):

    atomic = False

    dependencies = [
        ('integrations', '0008_api_key_creators_and_event_types_once'),
        migrations.swappable_dependency(settings.INTEGRATIONS_ACCOUNT_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='EndpointDurations',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField()),
                ('duration_ms', models.PositiveIntegerField()),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('webhook', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='integrations.webhook')),
            ],
            options={
                'verbose_name_plural': 'endpoint durations',
                'constraints': [models.UniqueConstraint(fields=('webhook', 'hour', 'duration_ms'), name='endpoint_durations_once')],
            },
        ),
        migrations.CreateModel(
            name='EndpointHour',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('hour', models.DateTimeField()),
                ('attempts', models.PositiveIntegerField(default=0)),
                ('succeeded', models.PositiveIntegerField(default=0)),
                ('last_attempt_at', models.DateTimeField()),
                ('last_succeeded', models.BooleanField()),
                ('webhook', models.ForeignKey(db_constraint=False, db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='integrations.webhook')),
            ],
            options={
                'constraints': [models.UniqueConstraint(fields=('webhook', 'hour'), name='endpoint_hour_once')],
            },
        ),
        migrations.AddField(
            model_name='delivery',
            name='account',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.INTEGRATIONS_ACCOUNT_MODEL),
        ),
        migrations.RunPython(deliveries_account, migrations.RunPython.noop, elidable=True),
        integrations.migration_operations.AddIndexWithoutLocking(
            model_name='delivery',
            index=models.Index(fields=['account', '-created_at', '-id'], name='delivery_log'),
        ),
        integrations.migration_operations.AddIndexWithoutLocking(
            model_name='delivery',
            index=models.Index(fields=['account', 'status', '-created_at', '-id'], name='delivery_log_status'),
        ),
        integrations.migration_operations.AddIndexWithoutLocking(
            model_name='delivery',
            index=models.Index(fields=['webhook', '-created_at', '-id'], name='delivery_log_endpoint'),
        ),
        integrations.migration_operations.AddIndexWithoutLocking(
            model_name='delivery',
            index=models.Index(fields=['webhook', 'status', '-created_at', '-id'], name='delivery_log_endpoint_status'),
        ),
        integrations.migration_operations.AddIndexWithoutLocking(
            model_name='event',
            index=models.Index(fields=['account', '-created_at', '-id'], name='event_list'),
        ),
        migrations.RunPython(endpoint_tallies, migrations.RunPython.noop, elidable=True),
    ]
