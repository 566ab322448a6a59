"""The workspace key: one secret per workspace (or per deployment) from which crowdline
derives the keys that seal pipeline secrets at rest and sign CSRF tokens.

Where it comes from, first found wins:

* ``$CROWDLINE_SECRET_KEY`` (setting ``secret_key``), at least 32 characters: for shared
  deployments, where every server process and pipeline runner must hold the same key and the
  key should not sit beside the database;
* ``<workspace>/keys/workspace.key``, 32 random bytes created on first use with mode 0600
  (refused if it later becomes readable by group or others).

Sealing is authenticated encryption built from HMAC-SHA256 only (the standard library):
a keystream ``HMAC(k_enc, nonce || counter)`` XORed with the plaintext, then
``HMAC(k_mac, version || nonce || ciphertext)`` over the result (encrypt-then-MAC, keys
derived per purpose). A sealed value reads ``cl1:<base64>``; a wrong key or a changed byte
is refused, never decrypted to garbage.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path

from crowdline.config import Settings
from crowdline.errors import ConfigError, IntegrityError

KEY_FILE = Path("keys") / "workspace.key"
MIN_ENV_KEY = 32
SEALED_PREFIX = "cl1:"
_NONCE, _TAG = 16, 32


def workspace_key(settings: Settings) -> bytes:
    """The 32-byte workspace key (see the module docstring for where it comes from)."""
    configured = getattr(settings, "secret_key", "") or ""
    if configured:
        if len(configured) < MIN_ENV_KEY:
            raise ConfigError(f"CROWDLINE_SECRET_KEY has {len(configured)} characters; at least "
                              f"{MIN_ENV_KEY} are needed",
                              hint="generate one: python -c 'import secrets; "
                                   "print(secrets.token_urlsafe(32))'")
        return hashlib.sha256(b"crowdline workspace key\0" + configured.encode()).digest()
    return _key_file(settings.home / KEY_FILE)


def _key_file(path: Path) -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        pass
    else:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32) + "\n")
    mode = path.stat().st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(f"{path} can be read by other users (mode {stat.filemode(mode)})",
                          hint=f"chmod 600 {path}")
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise ConfigError(f"{path} does not hold a 64-hex-digit key",
                          hint="restore it from a backup; without it sealed secrets cannot be "
                               "read (delete it only if you will re-create every secret)")
    return key


def derive(key: bytes, purpose: str) -> bytes:
    """A key for one purpose ("csrf", "secrets/enc"...), independent of the others."""
    return hmac.new(key, b"crowdline:" + purpose.encode(), hashlib.sha256).digest()


def _keystream(key: bytes, nonce: bytes, length: int) -> bytes:
    blocks = []
    for counter in range((length + 31) // 32):
        blocks.append(hmac.new(key, nonce + counter.to_bytes(8, "big"),
                               hashlib.sha256).digest())
    return b"".join(blocks)[:length]


def _xor(data: bytes, stream: bytes) -> bytes:
    return (int.from_bytes(data, "big") ^ int.from_bytes(stream, "big")).to_bytes(
        len(data), "big")


def seal(key: bytes, plaintext: bytes) -> str:
    """``plaintext`` encrypted and authenticated under ``key``: ``cl1:<base64>``."""
    nonce = secrets.token_bytes(_NONCE)
    body = _xor(plaintext, _keystream(derive(key, "seal/enc"), nonce, len(plaintext)))
    tag = hmac.new(derive(key, "seal/mac"), b"cl1" + nonce + body, hashlib.sha256).digest()
    return SEALED_PREFIX + base64.urlsafe_b64encode(nonce + body + tag).decode()


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(SEALED_PREFIX)


def unseal(key: bytes, sealed: str) -> bytes:
    """The plaintext of ``seal(key, ...)``; IntegrityError for a wrong key or a changed byte."""
    try:
        raw = base64.urlsafe_b64decode(sealed[len(SEALED_PREFIX):].encode())
    except ValueError:
        raw = b""
    if not is_sealed(sealed) or len(raw) < _NONCE + _TAG:
        raise IntegrityError("a sealed value is malformed", hint="re-create the secret")
    nonce, body, tag = raw[:_NONCE], raw[_NONCE:-_TAG], raw[-_TAG:]
    expected = hmac.new(derive(key, "seal/mac"), b"cl1" + nonce + body, hashlib.sha256).digest()
    if not hmac.compare_digest(tag, expected):
        raise IntegrityError("a sealed value does not match the workspace key",
                             hint="the key changed (keys/workspace.key or "
                                  "CROWDLINE_SECRET_KEY): restore it, or re-create the secret")
    return _xor(body, _keystream(derive(key, "seal/enc"), nonce, len(body)))
