"""How a CSV file is written: its text encoding, field separator and decimal mark, read from its start.

Spreadsheets and European locales save ``;``-separated files with decimal commas, tab-separated
files, UTF-8 with a byte-order mark or UTF-16. :func:`csv_format` tells them apart from the first
64 KiB so that :func:`kardashev.data.layout.read_table` reads them like a plain comma-separated
UTF-8 file; a file in another encoding (Latin-1, Windows-1252 …) is refused with a one-line
:class:`~kardashev.errors.DataFormatError` (code ``bad_encoding``) rather than read with a guess
that could change its ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from kardashev.errors import DataFormatError, NotFoundError

__all__ = ["CsvFormat", "csv_format"]

_SAMPLE_BYTES = 1 << 16
_SEPARATORS = (",", ";", "\t", "|")
_SEPARATOR_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}
_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


@dataclass(frozen=True)
class CsvFormat:
    """The reading options of one CSV file (frozen).

    Attributes
    ----------
    sep
        Field separator: ``,``, ``;``, tab or ``|``.
    encoding
        ``utf-8``, ``utf-8-sig`` (with a byte-order mark) or ``utf-16``.
    decimal
        Decimal mark of the numbers: ``.`` or ``,`` (only with another separator than ``,``).
    unnamed_first_column
        The rows have one field more than the header: a pandas index saved without a name, which
        :func:`pandas.read_csv` would silently turn into the index.
    """

    sep: str = ","
    encoding: str = "utf-8"
    decimal: str = "."
    unnamed_first_column: bool = False

    @property
    def is_plain(self) -> bool:
        """A comma-separated UTF-8 file with decimal points (the byte-order mark aside)."""
        return self.sep == "," and self.encoding in ("utf-8", "utf-8-sig") and self.decimal == "."

    def describe(self) -> str:
        """``"semicolon-separated, decimal commas, UTF-16"``: what differs from a plain CSV."""
        parts = [] if self.sep == "," else [f"{_SEPARATOR_NAMES[self.sep]}-separated"]
        parts += ["decimal commas"] if self.decimal == "," else []
        parts += ["UTF-16"] if self.encoding == "utf-16" else []
        return ", ".join(parts) or "comma-separated"

    def read_options(self) -> dict[str, str]:
        """Keyword arguments of :func:`pandas.read_csv`."""
        return {"sep": self.sep, "encoding": self.encoding, "decimal": self.decimal}


def _decode(path: Path, sample: bytes) -> tuple[str, str]:
    if sample.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig", sample[3:].decode("utf-8", errors="ignore")
    if sample.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16", sample.decode("utf-16", errors="ignore")
    try:
        return "utf-8", sample.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start >= len(sample) - 3 and len(sample) == _SAMPLE_BYTES:
            return "utf-8", sample[: exc.start].decode("utf-8")  # a character cut by the sample's end
        line = sample[: exc.start].count(b"\n") + 1
        guess = "UTF-16 without a byte-order mark" if b"\x00" in sample[:64] else "Latin-1 or Windows-1252?"
        byte = f"byte 0x{sample[exc.start]:02x} on line {line}"
        raise DataFormatError(
            f"{path.name}: not UTF-8 ({byte}: {guess}); save it as UTF-8",
            code="bad_encoding",
        ) from None


def _separator(lines: list[str]) -> str:
    header = lines[0]
    counts = {sep: header.count(sep) for sep in _SEPARATORS}
    if counts[","] and all(line.count(",") == counts[","] for line in lines[1:3]):
        return ","
    best = max(_SEPARATORS, key=lambda sep: counts[sep])
    return best if counts[best] else ","


@lru_cache(maxsize=64)
def _cached(path: Path, size: int, mtime: float) -> CsvFormat:
    with path.open("rb") as handle:
        sample = handle.read(_SAMPLE_BYTES)
    encoding, text = _decode(path, sample)
    lines = [line for line in text.splitlines()[:6] if line.strip()]
    if not lines:
        return CsvFormat(encoding=encoding)
    sep = _separator(lines)
    decimal = "."
    if sep != ",":
        fields = [field.strip().strip('"') for line in lines[1:] for field in line.split(sep)]
        if any(_DECIMAL_COMMA.match(field) for field in fields):
            decimal = ","
    unnamed = len(lines) > 1 and lines[1].count(sep) == lines[0].count(sep) + 1
    return CsvFormat(sep=sep, encoding=encoding, decimal=decimal, unnamed_first_column=unnamed)


def csv_format(path: str | Path) -> CsvFormat:
    """The encoding, separator and decimal mark of a CSV file, from its first 64 KiB.

    Raises
    ------
    NotFoundError
        No such file.
    DataFormatError
        ``bad_encoding``: the file is neither UTF-8 (with or without a byte-order mark) nor UTF-16.
    """
    path = Path(path)
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NotFoundError(f"no such file: {path}", code="file_not_found") from None
    return _cached(path.resolve(), stat.st_size, stat.st_mtime)
