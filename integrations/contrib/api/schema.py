"""How the API's pieces appear in its OpenAPI schema (drf-spectacular extensions, registered on import)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from ...adapter import every_type


class AccountAPIKeyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "integrations.contrib.api.auth.AccountAPIKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Api-Key <key>`: an account API key, created on the Integrations page (API keys tab).",
        }


def add_notifications(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """A postprocessing hook: the notification bodies as schema components, and as OpenAPI 3.1 `webhooks`.

    Listed in SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"] after drf-spectacular's own.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    webhooks: dict[str, Any] = {}
    for event_type in every_type():
        schema = event_type.body_schema
        name = schema["title"]
        schemas[name] = {**schema, "examples": [event_type.example_body]}
        webhooks[event_type.name] = {
            "post": {
                "summary": schema["description"],
                "description": (
                    "POSTed to every active endpoint of the account, signed with Standard Webhooks headers "
                    "(`webhook-id`, `webhook-timestamp`, `webhook-signature`). Answer with a 2xx."
                ),
                "parameters": [
                    {"name": header, "in": "header", "required": True, "schema": {"type": "string"}}
                    for header in ("webhook-id", "webhook-timestamp", "webhook-signature")
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}"}}},
                },
                "responses": {"2XX": {"description": "Received; anything else is retried on the schedule."}},
            }
        }
    result["webhooks"] = webhooks
    return result
