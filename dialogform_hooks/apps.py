"""The project's own app configurations."""

from django.contrib.staticfiles.apps import StaticFilesConfig


class StaticFiles(StaticFilesConfig):
    """Static files without what no page uses: ReDoc (the API's documentation is Swagger UI; its sidecar
    ships both) and DRF's browsable API (the API answers JSON only). `collectstatic` would otherwise
    hash and compress 7 MB nobody asks for."""

    ignore_patterns = [*StaticFilesConfig.ignore_patterns, "redoc", "rest_framework"]
