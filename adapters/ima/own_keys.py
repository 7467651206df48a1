"""``core.spend.ports.KeyedGateways`` over the operator's ``ImaClient``: one child client per user key
(kept while in use, bounded), all sharing the operator client's connections."""

from __future__ import annotations

from collections import OrderedDict

from adapters.ima.client import ImaClient
from core.ports import ImaGateway

MAX_CLIENTS = 256


class OwnKeyClients:
    def __init__(self, base: ImaClient, max_clients: int = MAX_CLIENTS) -> None:
        self._base = base
        self._max = max_clients
        self._clients: OrderedDict[str, ImaClient] = OrderedDict()

    def for_key(self, api_key: str) -> ImaGateway:
        client = self._clients.pop(api_key, None) or self._base.with_key(api_key)
        self._clients[api_key] = client
        while len(self._clients) > self._max:
            self._clients.popitem(last=False)
        return client

    def __repr__(self) -> str:  # never the keys
        return f"OwnKeyClients({len(self._clients)} keys)"
