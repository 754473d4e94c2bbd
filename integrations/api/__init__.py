"""The details API (`/api/v1/`): from a notification to everything about its event, with account API keys."""
