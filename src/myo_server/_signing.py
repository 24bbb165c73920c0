"""Presigned URLs: HMAC-SHA256 over an upload policy or a download key and expiry."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from ._private import make_dirs
from ._util import write_private_file


class SignatureError(Exception):
    """A presigned request that must be refused (S3-like code and message)."""

    def __init__(self, code: str, message: str, status_code: int = 403) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status_code = status_code


@dataclass
class UploadPolicy:
    """What an upload signature allows."""

    asset_id: str
    key: str
    max_size: int
    expires: int


def load_or_create_secret(path: Path) -> bytes:
    """The server secret, created (32 random bytes, mode 0600) on first use."""
    if not path.exists():
        make_dirs(path.parent)
        write_private_file(path, secrets.token_hex(32).encode())
    data = path.read_bytes().strip()
    if len(data) < 32:
        raise RuntimeError(f"{path} is damaged (too short); delete it to make a new one")
    return data


class Signer:
    """Signs and checks presigned upload policies and download URLs."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def _mac(self, message: str) -> str:
        return hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()

    def upload_fields(self, policy: UploadPolicy) -> dict[str, str]:
        """The form fields a client sends back verbatim with the file."""
        doc = {
            "asset_id": policy.asset_id,
            "key": policy.key,
            "max_size": policy.max_size,
            "expires": policy.expires,
        }
        encoded = base64.b64encode(json.dumps(doc, sort_keys=True).encode()).decode()
        return {"key": policy.key, "policy": encoded, "signature": self._mac("POST\n" + encoded)}

    def verify_upload(self, fields: dict[str, str]) -> UploadPolicy:
        """Check the form fields of a presigned POST.

        Raises:
            SignatureError: Missing fields, bad signature, key mismatch or expired policy.
        """
        missing = [f for f in ("key", "policy", "signature") if not fields.get(f)]
        if missing:
            raise SignatureError(
                "AccessDenied",
                f"Missing form field(s) {', '.join(missing)}: send every field from"
                " /v1/assets/initiate before the file part",
            )
        encoded, signature = fields["policy"], fields["signature"]
        if not hmac.compare_digest(self._mac("POST\n" + encoded), signature):
            raise SignatureError(
                "SignatureDoesNotMatch",
                "The request signature does not match: send the fields exactly as returned",
            )
        try:
            doc = json.loads(base64.b64decode(encoded, validate=True))
            policy = UploadPolicy(
                asset_id=str(doc["asset_id"]),
                key=str(doc["key"]),
                max_size=int(doc["max_size"]),
                expires=int(doc["expires"]),
            )
        except (ValueError, KeyError, TypeError, binascii.Error) as exc:  # signed but malformed
            raise SignatureError("AccessDenied", "Invalid policy document") from exc
        if fields["key"] != policy.key:
            raise SignatureError("AccessDenied", "Invalid according to Policy: key does not match")
        if time.time() > policy.expires:
            raise SignatureError(
                "AccessDenied",
                "Invalid according to Policy: Policy expired. Call /v1/assets/initiate again",
            )
        return policy

    def download_signature(self, key: str, expires: int) -> str:
        """The signature of a presigned GET of ``key`` valid until ``expires``."""
        return self._mac(f"GET\n{key}\n{expires}")

    def verify_download(self, key: str, expires: str | None, signature: str | None) -> None:
        """Check a presigned GET.

        Raises:
            SignatureError: Missing, forged or expired signature.
        """
        if not expires or not signature:
            raise SignatureError(
                "AccessDenied", "Query parameters expires and signature are required"
            )
        try:
            exp = int(expires)
        except ValueError:
            raise SignatureError("AccessDenied", "expires must be an integer") from None
        if not hmac.compare_digest(self.download_signature(key, exp), signature):
            raise SignatureError("SignatureDoesNotMatch", "The request signature does not match")
        if time.time() > exp:
            raise SignatureError(
                "AccessDenied", "Request has expired: get a fresh download_url from the API"
            )
