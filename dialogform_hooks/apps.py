"""The project's own app configurations."""

from django.contrib.staticfiles.apps import StaticFilesConfig


class StaticFiles(StaticFilesConfig):
    """Static files without what no page uses: Swagger UI (the API's documentation is ReDoc, which passes
    the accessibility check Swagger UI fails; the sidecar ships both) and DRF's browsable API (the API
    answers JSON only). `collectstatic` would otherwise hash and compress megabytes nobody asks for."""

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "swagger-ui-dist", "rest_framework"]
