"""Archives uploaded to the service (a zip of the CSV folder, an xlsx workbook), read within bounds.

A small upload can unpack to gigabytes (a zip bomb). Members are therefore read by
streaming, counting the bytes that actually come out (never trusting the sizes the
archive declares), and reading stops as soon as the archive holds more members or
unpacks to more bytes than the service allows. Every refusal is a :class:`DatasetError`
located at the file ``upload``, never a 500.
"""

from __future__ import annotations

import io
import lzma
import re
import zipfile
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath

from solver.domain import DatasetError, Problem

UPLOAD = "upload"  # the file a problem with the archive itself is located at
# A sheet is read as a table as tall as its last row and as wide as its widest row: one cell
# at XFD1048576 makes a 1 kB sheet 17 billion cells. 2 million is 100 000 orders by 20 columns.
MAX_SHEET_CELLS = 2_000_000
_CELL_REF = re.compile(rb"""<(?:\w+:)?(?:c|row)\b[^>]*?\sr\s*=\s*["']([A-Za-z]{0,3})(\d+)["']""")
CHUNK = 64 * 1024
# what a broken, truncated or oddly made member raises while it is read
_UNREADABLE = (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, zlib.error, lzma.LZMAError)


@dataclass(frozen=True)
class ArchiveLimits:
    """How much an uploaded archive may hold: members in it, bytes it unpacks to (all members)."""

    max_members: int
    max_uncompressed_bytes: int


def refused(message: str, file: str = UPLOAD) -> DatasetError:
    return DatasetError([Problem(file, None, None, message)])


def open_archive(body: bytes, limits: ArchiveLimits, what: str = "a zip archive") -> zipfile.ZipFile:
    """The archive in ``body``; an unreadable one, or one of too many members, is refused."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(body))
    except (*_UNREADABLE, NotImplementedError) as error:
        raise refused(f"not {what}: {error}") from None
    count = len(archive.infolist())
    if count > limits.max_members:
        archive.close()
        raise refused(f"the archive holds {count} members; at most {limits.max_members} are accepted")
    return archive


def members_by_name(archive: zipfile.ZipFile, known: set[str]) -> dict[str, zipfile.ZipInfo]:
    """The archive's members whose file name (the folders they sit in dropped) is ``known``.

    Two members with the same name in
    different folders are refused, naming both: which of them is the dataset would be a guess.
    """
    members = archive.infolist()
    found: dict[str, zipfile.ZipInfo] = {}
    problems = []
    for member in members:
        name = PurePosixPath(member.filename).name
        if member.is_dir() or name not in known:
            continue
        if name in found:
            where = f"{found[name].filename} and {member.filename}"
            problems.append(Problem(name, None, None, f"the archive holds it twice: {where}; keep one"))
            continue
        found[name] = member
    if problems:
        raise DatasetError(problems)
    return found


def read_members(archive: zipfile.ZipFile, members: Iterable[zipfile.ZipInfo], limits: ArchiveLimits) -> list[bytes]:
    """The content of ``members``, in turn, all of them together within the byte limit.

    Encrypted members, compression methods this Python cannot unpack and corrupt
    data are refused, naming the member.
    """
    contents = []
    budget = limits.max_uncompressed_bytes
    for member in members:
        content = _read_member(archive, member, budget, limits)
        budget -= len(content)
        contents.append(content)
    return contents


def _read_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, budget: int, limits: ArchiveLimits) -> bytes:
    name = member.filename
    if member.flag_bits & 0x1:
        raise refused(f"{name} is encrypted; upload it without a password")
    chunks: list[bytes] = []
    read = 0
    try:
        with archive.open(member) as stream:
            # the bytes that come out count, not the size the archive declares; one byte
            # past the budget is enough to know it is exceeded
            while read <= budget and (chunk := stream.read(min(CHUNK, budget - read + 1))):
                read += len(chunk)
                chunks.append(chunk)
    except NotImplementedError as error:  # a compression method zipfile cannot unpack
        raise refused(f"{name} cannot be unpacked: {error}") from None
    except RuntimeError as error:  # zipfile's "password required" for an encrypted member
        raise refused(f"{name} cannot be unpacked: {error}") from None
    except _UNREADABLE as error:
        raise refused(f"{name} is corrupt: {error}") from None
    if read > budget:
        raise refused(
            f"the archive unpacks to more than {limits.max_uncompressed_bytes} bytes "
            f"(stopped in {name}); at most that much is accepted"
        )
    return b"".join(chunks)


def check_sheet_extent(name: str, sheet_xml: bytes) -> None:
    """Refuse a worksheet whose cell references span more than :data:`MAX_SHEET_CELLS`."""
    last_row = last_column = 0
    for letters, digits in _CELL_REF.findall(sheet_xml):
        last_row = max(last_row, int(digits))
        if letters:
            last_column = max(last_column, _column_number(letters))
    if last_row * max(last_column, 1) > MAX_SHEET_CELLS:
        raise refused(
            f"{name} spans {last_row} rows by {last_column} columns; "
            f"at most {MAX_SHEET_CELLS} cells per sheet are accepted"
        )


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + letter - ord("A") + 1
    return number
