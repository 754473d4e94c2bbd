"""The details API (`/api/v1/`): from a notification to everything about its event, with account API keys."""

# Where hosts mount the API: its error answers are JSON under it. Here, not in base.py, so that a
# host's middleware can read it without loading Django REST framework at start-up.
API_PREFIX = "/api/"
