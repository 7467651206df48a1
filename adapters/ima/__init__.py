"""The IMA Open API edge.

- ``client.ImaClient`` / ``client.ImaClientConfig``: the async client implementing
  ``core.ports.ImaGateway`` (product list with a per-category TTL cache, quotes, create with
  reflection, detail polls, upload, asset verification).
- ``errors``: the one mapping from replies to ``ImaApiError`` kinds, and redaction helpers.
- ``detail``: ``tasks/detail`` -> ``TaskSnapshot``.
- ``upload``: the upload-token protocol and streamed file reading.

Selection, payload and reflection logic is pure and lives in ``adapters.ima.catalog_tree``,
``adapters.ima.credit_rules``, ``adapters.ima.payload`` and ``adapters.ima.reflection``.
"""
