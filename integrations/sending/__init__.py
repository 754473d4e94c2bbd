"""Sending: the engine that delivers webhooks (engine), its loop side (endpoints), its database side
(store), the HTTP transport (transport) and the signatures (signing).

The only part of the app that starts threads or an event loop, or keeps state in a worker process.
Nothing here imports pages, their services, the API or operator views.
"""
