"""The IMA Open API edge.

- ``client.ImaClient`` / ``client.ImaClientConfig``: the async client implementing
  ``core.ports.ImaGateway`` (product list with a per-category TTL cache, quotes, create with
  reflection, detail polls, upload, asset verification).
- ``errors``: the one mapping from replies to ``ImaApiError`` kinds, and redaction helpers.
- ``detail``: ``tasks/detail`` -> ``TaskSnapshot``.
- ``upload``: the upload-token protocol and streamed file reading.

Selection, payload and reflection logic is pure and lives in ``core.catalog_tree``,
``core.credit_rules``, ``core.payload`` and ``core.reflection``.
"""
