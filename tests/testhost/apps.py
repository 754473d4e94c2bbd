from django.apps import AppConfig


class TestHostConfig(AppConfig):
    name = "tests.testhost"
    label = "testhost"
    default_auto_field = "django.db.models.BigAutoField"
