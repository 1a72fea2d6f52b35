"""A shared cache in an S3-compatible bucket (AWS, SeaweedFS, MinIO, Ceph...), through boto3.

Credentials, region and endpoint come from boto3's own sources (``AWS_ACCESS_KEY_ID``,
``AWS_PROFILE``, ``AWS_ENDPOINT_URL``...), never from condoit's settings, so they are
neither in the repository nor in a log. Blobs go up with boto3's managed transfer (a
multipart upload cut short is never visible); an entry is written with a conditional put
(``If-None-Match: *``): the first writer of a signature wins and the entry never changes.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from .store import StoreError

_MISSING = {"404", "NoSuchKey", "NotFound"}
_EXISTS = {"412", "PreconditionFailed", "409", "ConditionalRequestConflict"}


class S3Store:
    def __init__(self, bucket: str, prefix: str):
        import boto3
        from botocore.config import Config
        self.bucket, self.prefix = bucket, prefix
        # fail fast when the server is gone: a build falls back instead of hanging
        config = Config(connect_timeout=5, read_timeout=120, retries={"max_attempts": 3, "mode": "standard"})
        self.client = boto3.session.Session().client("s3", config=config)

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}" + (f" at {self.client.meta.endpoint_url}" if self.client else "")

    def _key(self, key: str) -> str:
        return f"{self.prefix}/{key}" if self.prefix else key

    def _fail(self, action: str, key: str, exc: Exception) -> StoreError:
        code = _code(exc)
        why = {"QuotaExceeded": "the bucket is full", "EntityTooLarge": "the object is too large",
               "AccessDenied": "access denied (check AWS_* credentials or the profile)",
               "NoSuchBucket": "the bucket does not exist"}.get(code, str(exc).splitlines()[0])
        return StoreError(f"cannot {action} {self._key(key)} in {self.describe()}: {why}")

    def has(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._key(key))
            return True
        except Exception as exc:  # botocore's ClientError and connection errors
            if _code(exc) in _MISSING:
                return False
            raise self._fail("look up", key, exc) from None

    def read(self, key: str) -> bytes | None:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"].read()
        except Exception as exc:
            if _code(exc) in _MISSING:
                return None
            raise self._fail("read", key, exc) from None

    def download(self, key: str, into: Path) -> bool:
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self._key(key))["Body"]
            with open(into, "wb") as fh:
                for chunk in body.iter_chunks(1 << 20):
                    fh.write(chunk)
            return True
        except Exception as exc:
            if _code(exc) in _MISSING:
                return False
            raise self._fail("read", key, exc) from None

    def upload(self, key: str, path: Path) -> None:
        if self.has(key):
            return
        try:
            self.client.upload_file(str(path), self.bucket, self._key(key))
        except Exception as exc:
            raise self._fail("write", key, exc) from None

    def create(self, key: str, data: bytes) -> bool:
        try:
            self.client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data, IfNoneMatch="*")
            return True
        except Exception as exc:
            if _code(exc) in _EXISTS:
                return False
            raise self._fail("write", key, exc) from None


def _code(exc: Exception) -> str:
    """The S3 error code of a botocore ClientError ("" for connection errors and others)."""
    response: Any = getattr(exc, "response", None) or {}
    error = response.get("Error", {})
    code = str(error.get("Code", ""))
    status = str(response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
    return code if code and code not in ("", "None") else status
