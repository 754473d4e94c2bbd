"""Prometheus metrics of webhook delivery at `/metrics`: the sending processes' counters and the gauges."""
