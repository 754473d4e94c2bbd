"""The app's own test host: a small help desk (teams, tickets, notes) that declares its own notifications.

The app's tests (tests/integrations/) run on it, not on DialogForm: what they check is the app's, whatever
the product. Settings: tests.testhost.settings (make test passes them with --ds).
"""
