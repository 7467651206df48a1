"""``core.spend.ports.KeyCipher`` with ``cryptography``'s Fernet; the master key comes from the
environment (``IMABOT_SECRET_KEY``), never from the config file."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

SECRET_ENV = "IMABOT_SECRET_KEY"


class KeyCipherError(ValueError):
    """A stored key cannot be decrypted (the master key changed)."""


class FernetCipher:
    def __init__(self, master_key: str) -> None:
        """``master_key``: a Fernet key (``Fernet.generate_key()``) or any passphrase of 16+ characters
        (stretched with SHA-256 into one)."""
        raw = master_key.strip()
        try:
            self._fernet = Fernet(raw.encode())
        except ValueError:
            if len(raw) < 16:
                raise ValueError(
                    f"{SECRET_ENV} is too short: use Fernet.generate_key() or 16+ characters"
                ) from None
            self._fernet = Fernet(base64.urlsafe_b64encode(hashlib.sha256(raw.encode()).digest()))

    def encrypt(self, plain: str) -> str:
        return self._fernet.encrypt(plain.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise KeyCipherError(
                "stored key cannot be decrypted with the current IMABOT_SECRET_KEY"
            ) from None

    def __repr__(self) -> str:
        return "FernetCipher(<hidden>)"
