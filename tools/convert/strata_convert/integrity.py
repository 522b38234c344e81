"""The payload SHA-256 of docs/FORMAT.md, "Integrity" (format 1.1).

The payload is the concatenation, in section-table order, of the bodies of every section except
METADATA (which records the digest under the `payload_sha256` key, as 64 lower-case hex digits).
"""
import hashlib

from . import format as fmt
from .errors import FormatError
from .reader import read_sections

__all__ = ["payload_sha256", "verify_payload"]


def payload_sha256(sections) -> str:
    """Hex SHA-256 of the payload of `sections` [(kind, flags, body)] given in table order."""
    h = hashlib.sha256()
    for kind, _, body in sections:
        if kind != fmt.SECTION_METADATA:
            h.update(body)
    return h.hexdigest()


def verify_payload(data: bytes, recorded: str | None):
    """Check `data`'s payload against the `recorded` digest; return the computed digest.

    Raises FormatError("CHECKSUM_MISMATCH") when they differ."""
    table = read_sections(data)
    actual = payload_sha256([(s.kind, s.flags, data[s.offset:s.offset + s.size]) for s in table])
    if recorded is not None and actual != recorded:
        raise FormatError("CHECKSUM_MISMATCH", f"payload SHA-256 mismatch (recorded {recorded}, computed {actual})")
    return actual
