"""The ops side of ``imabot run``: Prometheus metrics, the live view, readiness, the ops HTTP server and
the status page. Imported only by ``imabot run`` (prometheus_client and starlette load here)."""
