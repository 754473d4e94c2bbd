"""The app's optional parts, each a Django app of its own, installed with an extra of the wheel.

- `integrations.contrib.api`: the details API (the wheel's `api` extra);
- `integrations.contrib.prometheus`: Prometheus metrics at `/metrics` (the `prometheus` extra).

The core never imports them; each plugs into it when its app is installed.
"""
