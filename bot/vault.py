"""Personal data at rest: addresses as a keyed hash (to find a contact) plus an encrypted copy (to write back).

Both keys derive from DATA_KEY with HKDF, so one secret is kept and the hash key
is never the encryption key. Fernet (cryptography) authenticates what it encrypts.
"""
import hashlib
import hmac
from base64 import urlsafe_b64decode, urlsafe_b64encode

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


class Vault:
    def __init__(self, data_key: str):
        try:
            secret = urlsafe_b64decode(data_key.encode())
        except (ValueError, TypeError):
            secret = b""
        if len(secret) < 32:  # a passphrase rather than a generated key: stretch it deterministically
            secret = hashlib.sha256(data_key.encode()).digest()
        self._hash_key = _derive(secret, b"bot address hash v1")
        self._fernet = Fernet(urlsafe_b64encode(_derive(secret, b"bot encryption v1")))

    def address_hash(self, channel: str, address: str) -> str:
        """The lookup key of an address; the same person on two channels is two contacts."""
        return hmac.new(self._hash_key, f"{channel}:{address}".encode(), hashlib.sha256).hexdigest()

    def encrypt(self, text: str | None) -> str | None:
        if text is None:
            return None
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, token: str | None) -> str | None:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            return None
