"""Migrations that move data keep it: a secret rotated before the upgrade still signs after it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from integrations.models import Webhook
from integrations.webhooks import webhook_signing_secrets

BEFORE = [("integrations", "0002_secret_rotation_and_test_events")]
AFTER = [("integrations", "0003_claims_and_retired_secrets")]


@pytest.mark.django_db(transaction=True)
def test_a_previous_secret_becomes_a_retired_one_with_its_expiry() -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    account = old.get_model("testhost", "Team").objects.create(name="Upgraded")
    expires = timezone.now() + timedelta(hours=3)
    old.get_model("integrations", "Webhook").objects.create(
        account=account,
        url="http://127.0.0.1:9/",
        secret="whsec_new",
        previous_secret="whsec_old",
        previous_secret_expires_at=expires,
    )
    old.get_model("integrations", "Webhook").objects.create(
        account=account, url="http://127.0.0.1:9/", secret="whsec_x"
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(latest)  # the current models need every later migration too
    rotated, plain = Webhook.objects.order_by("id")
    assert webhook_signing_secrets(webhook=rotated) == ["whsec_new", "whsec_old"]
    assert webhook_signing_secrets(webhook=rotated, now=expires + timedelta(seconds=1)) == ["whsec_new"]
    assert plain.retired_secrets == []

    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)  # and back, keeping the longest-lived one
    webhook = executor.loader.project_state(BEFORE).apps.get_model("integrations", "Webhook").objects.get(pk=rotated.pk)
    assert (webhook.previous_secret, webhook.previous_secret_expires_at) == ("whsec_old", expires)
    MigrationExecutor(connection).migrate(latest)


@pytest.mark.django_db(transaction=True)
def test_event_types_stored_many_times_over_are_kept_once() -> None:
    before = [("integrations", "0007_endpoints_subscriptions_and_attempt_details")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    account = old.get_model("testhost", "Team").objects.create(name="Upgraded")
    webhooks = old.get_model("integrations", "Webhook").objects
    bloated = webhooks.create(
        account=account, url="http://127.0.0.1:9/", secret="whsec_a", event_types=["deleted", "completed"] * 50_000
    )
    plain = webhooks.create(account=account, url="http://127.0.0.1:9/", secret="whsec_b", event_types=["completed"])
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(latest)
    assert Webhook.objects.get(pk=bloated.pk).event_types == ["deleted", "completed"]
    assert Webhook.objects.get(pk=plain.pk).event_types == ["completed"]


@pytest.mark.django_db(transaction=True)
def test_deliveries_get_their_account_and_endpoints_their_counts_on_upgrade() -> None:
    from integrations.models import Delivery
    from integrations.stats import webhook_charts, webhook_summary

    before = [("integrations", "0008_api_key_creators_and_event_types_once")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    accounts = [old.get_model("testhost", "Team").objects.create(name=f"Upgraded {n}") for n in range(2)]
    now = timezone.now()
    deliveries = []
    for number in range(30):
        account = accounts[number % 2]
        webhook = old.get_model("integrations", "Webhook").objects.create(
            account=account, url="http://127.0.0.1:9/", secret="whsec_a"
        )
        event = old.get_model("integrations", "Event").objects.create(account=account, type="completed", body="{}")
        delivery = old.get_model("integrations", "Delivery").objects.create(event=event, webhook=webhook)
        for attempt in range(3):
            old.get_model("integrations", "DeliveryAttempt").objects.create(
                delivery=delivery,
                attempted_at=now - timedelta(hours=attempt * 7, minutes=number),
                succeeded=attempt == 0,
                duration_ms=10 * number + attempt,
            )
        deliveries.append((delivery.pk, account.pk, webhook.pk))

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    for delivery_id, account_id, webhook_id in deliveries:
        assert Delivery.objects.get(pk=delivery_id).account_id == account_id
        webhook = Webhook.objects.get(pk=webhook_id)
        summary = webhook_summary(webhook=webhook, now=now)
        assert (summary.attempts, summary.succeeded) == (3, 1)  # all within the last 24 hours
        assert sum(bar.succeeded + bar.failed for bar in webhook_charts(webhook=webhook, now=now)[1].bars) == 3
        assert summary.last_attempt is not None and summary.last_attempt.succeeded


@pytest.mark.skipif(connection.vendor != "postgresql", reason="CONCURRENTLY is PostgreSQL's: make test's second run")
@pytest.mark.django_db(transaction=True)
def test_the_log_indexes_are_built_concurrently_even_after_an_interrupted_build(account: Any) -> None:
    from django.db import DatabaseError, NotSupportedError, transaction

    from integrations.migration_operations import AddIndexWithoutLocking
    from integrations.models import Delivery, Event

    before = [("integrations", "0008_api_key_creators_and_event_types_once")]
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    event = Event.objects.create(account=account, type="test", body="{}")
    for _ in range(2):
        Delivery.objects.create(event=event, status="succeeded")
    executor.migrate(before)
    # A concurrent build cut short (here: a unique index over duplicates) leaves an invalid index of the name.
    with pytest.raises(DatabaseError), connection.cursor() as cursor:
        cursor.execute("CREATE UNIQUE INDEX CONCURRENTLY delivery_log ON integrations_delivery (status)")
    MigrationExecutor(connection).migrate(latest)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_class.relname, pg_index.indisvalid FROM pg_index JOIN pg_class ON pg_class.oid = indexrelid "
            "WHERE pg_class.relname IN ('delivery_log', 'delivery_log_status', 'delivery_log_endpoint', "
            "'delivery_log_endpoint_status', 'event_list')"
        )
        assert sorted(cursor.fetchall()) == [
            ("delivery_log", True),
            ("delivery_log_endpoint", True),
            ("delivery_log_endpoint_status", True),
            ("delivery_log_status", True),
            ("event_list", True),
        ]
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'delivery_log'")
        assert "UNIQUE" not in cursor.fetchone()[0]

    operation = AddIndexWithoutLocking(model_name="delivery", index=Delivery._meta.indexes[-1])
    state = executor.loader.project_state(latest)
    with pytest.raises(NotSupportedError), transaction.atomic(), connection.schema_editor(atomic=False) as editor:
        operation.database_forwards("integrations", editor, state, state)


@pytest.mark.django_db(transaction=True)
def test_what_an_event_is_about_keeps_its_values_and_its_index_when_its_columns_are_renamed() -> None:
    from integrations.models import Event

    before = [("integrations", "0011_event_type_from_the_catalog")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    account = old.get_model("testhost", "Team").objects.create(name="Upgraded")
    event = old.get_model("integrations", "Event").objects.create(
        account=account, type="deleted", body="{}", flow_id=12, identifier="zoë"
    )
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    executor.migrate(latest)
    assert Event.objects.filter(subject_id=12, subject_key="zoë").get().pk == event.pk
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, Event._meta.db_table)
    assert indexes["event_subject"]["columns"] == ["account_id", "subject_id", "subject_key"]


@pytest.mark.django_db(transaction=True)
def test_api_keys_made_before_the_api_part_was_split_off_still_open_the_api(client: Any) -> None:
    from rest_framework_api_key.crypto import KeyGenerator

    from integrations.contrib.api.models import AccountAPIKey

    before = [("integrations", "0012_event_subject_fields")]  # takes the API part's migration back too
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    account = old.get_model("testhost", "Team").objects.create(name="Upgraded")
    key, prefix, hashed = KeyGenerator().generate()  # a key as 0.1 made it
    old.get_model("integrations", "AccountAPIKey").objects.create(
        id=f"{prefix}.{hashed}", prefix=prefix, hashed_key=hashed, name="CRM sync", account=account
    )
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert AccountAPIKey.objects.get().name == "CRM sync"
    assert client.get("/api/v1/events/", HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    assert client.get("/api/v1/events/", HTTP_AUTHORIZATION=f"Api-Key {key}x").status_code == 401


@pytest.mark.django_db(transaction=True)
def test_a_project_without_the_api_part_keeps_no_empty_api_key_table(settings: Any) -> None:
    """And one that had keys keeps them for when it installs the part: rows are never dropped."""
    from integrations.contrib.api.models import AccountAPIKey

    table = AccountAPIKey._meta.db_table
    released = ("integrations", "0013_api_keys_to_the_api_part")
    before = [("integrations", "0012_event_subject_fields")]

    def tables() -> list[str]:
        with connection.cursor() as cursor:
            return connection.introspection.table_names(cursor)

    MigrationExecutor(connection).migrate(before)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    settings.INSTALLED_APPS = [app for app in settings.INSTALLED_APPS if app != "integrations.contrib.api"]
    MigrationExecutor(connection).migrate([released])
    assert table not in tables()
    MigrationExecutor(connection).migrate(before)  # back: the table again, for 0.1's models
    account = old.get_model("testhost", "Team").objects.create(name="Kept")
    old.get_model("integrations", "AccountAPIKey").objects.create(
        id="p.h", prefix="p", hashed_key="h", name="k", account=account
    )
    MigrationExecutor(connection).migrate([released])
    assert table in tables()
    settings.INSTALLED_APPS = [*settings.INSTALLED_APPS, "integrations.contrib.api"]
    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())
    assert AccountAPIKey.objects.get().name == "k"
