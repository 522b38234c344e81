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


class ConversionError(Exception):
    """A model cannot be converted; the message names the op and where it is."""
