"""The integrations app, installed from its wheel into a project that is not DialogForm.

A team here is the account; the notifications are this project's own (a submission submitted or
withdrawn, a review noted), declared in surveys/integrations.py, and nothing else in this project
mentions the app's internals.
"""

from __future__ import annotations

import json
from io import StringIO
from typing import Any

import pytest
import standardwebhooks
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.utils import timezone
from surveys.integrations import SurveysAdapter
from surveys.models import Review, Submission, Survey, Team

import integrations
from integrations.adapter import get_adapter
from integrations.models import Event, Webhook
from integrations.queue import webhooks_queue
from integrations.testing import adapter_contract_check
from integrations.worker import WebhookWorker
from tests.helpers import SurveysObjects


def test_the_app_comes_from_the_installed_wheel_not_the_source_tree() -> None:
    assert "site-packages" in integrations.__file__, integrations.__file__


@pytest.mark.django_db  # Django 6.1's checks ask the database what it supports
def test_manage_py_check_passes() -> None:
    call_command("check", stdout=StringIO())  # raises SystemCheckError on any error


@pytest.mark.django_db
def test_the_surveys_adapter_passes_the_contract() -> None:
    assert isinstance(get_adapter(), SurveysAdapter)
    adapter_contract_check(SurveysAdapter(), SurveysObjects())


@pytest.mark.django_db
def test_every_event_is_recorded_with_this_projects_fields() -> None:
    team = Team.objects.create(name="Acme")
    Webhook.objects.create(account=team, url="http://127.0.0.1:9/hook")
    survey = Survey.objects.create(team=team, title="Onboarding")
    submission = Submission.objects.create(survey=survey, reference="r-1")
    submission.submitted_at, submission.points = timezone.now(), 9
    submission.save()
    submission.save()  # saved again while submitted: not a second completion
    review = Review.objects.create(submission=submission, question="overall", note="Great")
    review.save()  # the note did not change: no event
    submission.delete()
    bodies = [json.loads(event.body) for event in Event.objects.order_by("created_at")]
    assert bodies == [
        {"type": "submission.submitted", "data": {"surveyId": survey.pk, "reference": "r-1", "points": 9}},
        {
            "type": "review.noted",
            "data": {"surveyId": survey.pk, "reference": "r-1", "question": "overall", "note": "Great"},
        },
        {"type": "submission.withdrawn", "data": {"surveyId": survey.pk, "reference": "r-1"}},
    ]


@pytest.mark.django_db(transaction=True)
def test_a_submission_reaches_the_receiver_signed(httpserver: Any) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    team = Team.objects.create(name="Acme")
    webhook = Webhook.objects.create(account=team, url=f"http://127.0.0.1:{httpserver.port}/hook")
    survey = Survey.objects.create(team=team, title="Onboarding")
    Submission.objects.create(survey=survey, reference="r-42", submitted_at=timezone.now(), points=3)

    queue = webhooks_queue()
    WebhookWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")

    [(request, _)] = httpserver.log
    body = request.get_data()
    standardwebhooks.Webhook(webhook.secret).verify(body, dict(request.headers))  # raises if not signed by it
    assert json.loads(body) == {
        "type": "submission.submitted",
        "data": {"surveyId": survey.pk, "reference": "r-42", "points": 3},
    }
    assert request.headers["webhook-id"] == Event.objects.get().msg_id


@pytest.mark.django_db(transaction=True)
def test_the_operators_urls_answer_in_this_project(client: Any, settings: Any, httpserver: Any) -> None:
    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    team = Team.objects.create(name="Acme")
    Webhook.objects.create(account=team, url=f"http://127.0.0.1:{httpserver.port}/hook")
    survey = Survey.objects.create(team=team, title="Onboarding")
    Submission.objects.create(survey=survey, reference="r-7", submitted_at=timezone.now(), points=1)
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json()["deliveries_due"] == 1

    queue = webhooks_queue()
    WebhookWorker([queue], connection=queue.connection).work(burst=True, logging_level="WARNING")
    settings.INTEGRATIONS_METRICS_TOKEN = "m" * 40
    assert client.get("/metrics").status_code == 401
    metrics = client.get("/metrics", HTTP_AUTHORIZATION="Bearer " + "m" * 40).content.decode()
    assert 'webhook_attempts_total{outcome="succeeded",status_class="2xx"}' in metrics
    assert client.get("/healthz").json()["deliveries_due"] == 0


@pytest.fixture
def team(client: Any, django_user_model: Any) -> Team:
    """A team, with its admin signed in on `client`."""
    team = Team.objects.create(name="Acme")
    admin = django_user_model.objects.create_user(username="ada")
    team.admins.add(admin)
    client.force_login(admin)
    return team


@pytest.mark.django_db
def test_the_integrations_page_renders_in_this_projects_base_template(client: Any, team: Team) -> None:
    page = client.get("/integrations/webhook/").content.decode()
    assert 'id="survey-desk-header"' in page  # this project's base.html
    assert "Survey Desk sends notifications (submission submitted, review noted and submission withdrawn)" in page
    assert "/static/integrations/integrations.css" in page
    assert finders.find("integrations/integrations.css"), "the app's stylesheet ships in the wheel"
    assert finders.find("django_htmx/htmx-2.min.js"), "htmx comes from django-htmx, a dependency of the app"
    form = {"url": "http://127.0.0.1:9/hook", "event_types": ["submission.submitted"], "is_active": "on"}
    response = client.post("/integrations/webhook/", form)
    assert response.status_code == 302
    webhook = Webhook.objects.get(account=team)
    assert (webhook.url, webhook.event_types) == ("http://127.0.0.1:9/hook", ["submission.submitted"])
    page = client.get(response["Location"]).content.decode()
    assert "Account: <strong" in page and "Acme" in page  # the page says which account it shows


@pytest.mark.django_db
def test_someone_who_administers_no_team_gets_a_404(client: Any, django_user_model: Any) -> None:
    client.force_login(django_user_model.objects.create_user(username="bob"))
    assert client.get("/integrations/webhook/").status_code == 404


@pytest.mark.django_db
def test_the_events_api_answers_with_this_projects_key() -> None:
    from django.test import Client

    from integrations.contrib.api.keys import api_key_create

    team = Team.objects.create(name="Acme")
    Webhook.objects.create(account=team, url="http://127.0.0.1:9/hook")
    survey = Survey.objects.create(team=team, title="Onboarding")
    Submission.objects.create(survey=survey, reference="r-7", submitted_at=timezone.now())
    key = api_key_create(account_id=team.pk, name="ops")[1]
    client = Client()
    listed = client.get("/api/v1/events/", HTTP_AUTHORIZATION=f"Api-Key {key}").json()
    assert [(item["type"], item["data"]) for item in listed["results"]] == [
        ("submission.submitted", {"surveyId": survey.pk, "reference": "r-7", "points": None})
    ]
    # What it is about, under this project's names (the adapter's subject_fields), and filtered on.
    assert (listed["results"][0]["surveyId"], listed["results"][0]["reference"]) == (survey.pk, "r-7")
    auth = {"HTTP_AUTHORIZATION": f"Api-Key {key}"}
    assert client.get(f"/api/v1/events/?surveyId={survey.pk}&reference=r-7", **auth).json()["results"]
    assert client.get("/api/v1/events/?reference=r-8", **auth).json()["results"] == []
    assert client.get("/api/v1/events/").status_code == 401
    assert client.get("/api/v1/nothing/").json()["detail"].startswith("There is no such API endpoint")


@pytest.mark.django_db
def test_the_api_keys_tab_links_no_docs_this_project_does_not_serve(client: Any, team: Team) -> None:
    page = client.get("/integrations/api-keys/").content.decode()
    assert 'id="survey-desk-header"' in page
    assert "/api/docs/" not in page
