"""Exceptions of the converter."""
from .format import STATUS_CODES


class FormatError(Exception):
    """A file (or an in-memory graph) breaks a rule of docs/FORMAT.md.

    `status` is the name of the status the Strata reader reports, e.g. "MALFORMED".
    """

    def __init__(self, status: str, message: str):
        if status not in STATUS_CODES:
            raise ValueError(f"unknown status {status!r}")
        super().__init__(f"{status}: {message}")
        self.status = status
        self.message = message


def attribute_ints(label, attrs, key, n, low):
    """The int-list attribute `key` of a node's `attrs` as a list: exactly `n` entries, each ≥ `low`,
    else a MALFORMED FormatError naming the node (`label`) — the shape rules' attribute check."""
    v = attrs[key]
    if v is None:
        raise FormatError("MALFORMED", f"{label} needs attribute '{key}'")
    if len(v) != n or any(d < low for d in v):
        raise FormatError("MALFORMED", f"{label}: '{key}' {list(v)} must have {n} entries ≥ {low}")
    return list(v)


class ConversionError(Exception):
    """A model cannot be converted; the message names the op and where it is."""
