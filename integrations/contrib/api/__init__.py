"""The details API: from a notification to everything about its event, with account API keys.

The host mounts `integrations.contrib.api.urls` where it likes (`/api/v1/` in the docs), and builds its
own follow-up endpoints on `integrations.contrib.api.base`. Installed with the `api` extra.
"""
