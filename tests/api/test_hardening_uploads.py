"""Uploads that try to exhaust the service (issue #13): zip bombs, junk members, broken archives.

The archives are written by hand (:func:`zip_archive`) so that a test can give a member
any compression method, flag or declared size, and so that a 1 GB member costs a 1 MB
string instead of seconds of compression.
"""

from __future__ import annotations

import io as stdio
import struct
import threading
import time
import zipfile
import zlib
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from benchmarks.serving import served, wait_healthy
from solver import io
from tests.api.conftest import PLANNER, PLANNER_KEY, small_dataset

ZIP = PLANNER | {"Content-Type": "application/zip"}
XLSX = PLANNER | {"Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
MB = 1 << 20
STORED, DEFLATED = 0, 8


class Member:
    """One member of a hand-written archive: its raw (compressed) bytes and what its headers say."""

    def __init__(
        self, name: str, data: bytes, *, method: int = STORED, size: int | None = None, crc: int | None = None
    ) -> None:
        self.name, self.data, self.method, self.flags = name, data, method, 0
        self.size = len(data) if size is None else size
        self.crc = zlib.crc32(data) if crc is None else crc


def deflated(name: str, content: bytes) -> Member:
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    data = packer.compress(content) + packer.flush()
    return Member(name, data, method=DEFLATED, size=len(content), crc=zlib.crc32(content))


def zeros_bomb(name: str, megabytes: int) -> Member:
    """``megabytes`` MB of ``0`` characters in about 1 kB per MB: one deflate segment repeated.

    After a full flush a segment stands alone, so the same bytes repeat; ``\\x03\\x00`` is
    an empty final block. The CRC is left 0: the service must stop long before it is checked.
    """
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    segment = packer.compress(b"0" * MB) + packer.flush(zlib.Z_FULL_FLUSH)
    return Member(name, segment * megabytes + b"\x03\x00", method=DEFLATED, size=megabytes * MB, crc=0)


def zip_archive(members: list[Member]) -> bytes:
    """A zip archive (no zip64) of ``members``, headers written as the members say."""
    body, directory = b"", b""
    for member in members:
        name = member.name.encode()
        fields = (member.flags, member.method, 0, 0x21, member.crc, len(member.data), member.size, len(name))
        directory += struct.pack("<IHH", 0x02014B50, 20, 20) + struct.pack("<HHHHIIIH", *fields)
        # no extra field or comment, disk 0, no attributes, then where the local header is
        directory += struct.pack("<HHHHII", 0, 0, 0, 0, 0, len(body)) + name
        body += struct.pack("<IH", 0x04034B50, 20) + struct.pack("<HHHHIIIH", *fields) + struct.pack("<H", 0) + name
        body += member.data
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(members), len(members), len(directory), len(body), 0)
    return body + directory + end


def dataset_members(tmp_path: Path, folder: str = "dataset") -> list[Member]:
    """The small dataset's CSV folder as deflated members under ``folder/``."""
    written = tmp_path / f"csv-{folder.replace('/', '-')}"
    io.write_csv_folder(small_dataset(), written)
    return [deflated(f"{folder}/{file.name}", file.read_bytes()) for file in sorted(written.iterdir())]


def problems_of(response: httpx.Response) -> list[dict]:
    assert response.status_code == 422, response.text
    return response.json()["problems"]


def test_hand_written_archives_are_valid_zips(tmp_path: Path) -> None:
    """The helper itself: zipfile reads back what it writes."""
    archive = zipfile.ZipFile(stdio.BytesIO(zip_archive(dataset_members(tmp_path))))
    assert archive.testzip() is None
    assert "dataset/orders.csv" in archive.namelist()


def test_zip_bomb_by_size_is_refused(client: TestClient, tmp_path: Path) -> None:
    """1 GB of orders.csv in a 1 MB upload: refused once 50 MB (the default) are unpacked."""
    members = [m for m in dataset_members(tmp_path) if not m.name.endswith("orders.csv")]
    body = zip_archive([*members, zeros_bomb("dataset/orders.csv", 1024)])
    assert len(body) < 1.1 * MB
    started = time.perf_counter()
    response = client.put("/v1/dataset", content=body, headers=ZIP)
    elapsed = time.perf_counter() - started
    [problem] = problems_of(response)
    assert problem["file"] == "upload"
    assert "unpacks to more than 52428800 bytes" in problem["message"]
    assert "dataset/orders.csv" in problem["message"]
    assert elapsed < 2.0, elapsed
    assert client.get("/v1/dataset", headers=PLANNER).status_code == 404


def test_zip_bomb_counts_the_bytes_read_not_the_declared_size(make_client, tmp_path: Path) -> None:
    """A member that declares 10 bytes but holds 5 MB is no way around the limit."""
    client = make_client(max_uncompressed_bytes=1 * MB)
    lying = zeros_bomb("dataset/orders.csv", 5)
    lying.size = 10
    members = [m for m in dataset_members(tmp_path) if not m.name.endswith("orders.csv")]
    response = client.put("/v1/dataset", content=zip_archive([*members, lying]), headers=ZIP)
    [problem] = problems_of(response)
    assert problem["file"] == "upload"  # corrupt (the data does not end where it says) or too big: refused
    # all the members together count: five 300 kB CSVs pass one by one, not together
    client = make_client(max_uncompressed_bytes=1 * MB)
    members = [deflated(f"{stem}.csv", b"0" * 300_000) for stem in ("lines", "products", "routings", "orders")]
    [problem] = problems_of(client.put("/v1/dataset", content=zip_archive(members), headers=ZIP))
    assert "unpacks to more than 1048576 bytes" in problem["message"]


def test_zip_bomb_by_member_count_is_refused(make_client, tmp_path: Path) -> None:
    client = make_client()  # the default: 200 members
    members = dataset_members(tmp_path) + [Member(f"dataset/x{i}.txt", b"") for i in range(300)]
    [problem] = problems_of(client.put("/v1/dataset", content=zip_archive(members), headers=ZIP))
    assert problem["file"] == "upload"
    assert "holds 312 members; at most 200" in problem["message"]


def test_unknown_members_are_not_unpacked(make_client, tmp_path: Path) -> None:
    """Five 200 MB junk CSVs and a path out of the folder next to the dataset: ignored, not read."""
    client = make_client(max_uncompressed_bytes=1 * MB)
    junk = [zeros_bomb(f"dataset/junk{i}.csv", 200) for i in range(5)]
    escape = Member("../../outside/orders.json", b"{}")
    response = client.put("/v1/dataset", content=zip_archive([*dataset_members(tmp_path), *junk, escape]), headers=ZIP)
    assert response.status_code == 200, response.text
    assert response.json()["orders"] == 30


def test_two_members_with_the_same_name_are_422_naming_both(client: TestClient, tmp_path: Path) -> None:
    members = dataset_members(tmp_path, "a") + [m for m in dataset_members(tmp_path, "b") if "orders" in m.name]
    [problem] = problems_of(client.put("/v1/dataset", content=zip_archive(members), headers=ZIP))
    assert problem["file"] == "orders.csv"
    assert "a/orders.csv" in problem["message"] and "b/orders.csv" in problem["message"]


@pytest.mark.parametrize(
    ("spoil", "words"),
    [
        ("crc", "is corrupt"),
        ("data", "is corrupt"),
        ("encrypted", "is encrypted"),
        ("method", "cannot be unpacked"),
        ("truncated", "not a zip archive"),
    ],
)
def test_broken_zip_is_422_at_upload(client: TestClient, tmp_path: Path, spoil: str, words: str) -> None:
    members = dataset_members(tmp_path)
    orders = next(m for m in members if m.name.endswith("orders.csv"))
    if spoil == "crc":
        orders.crc ^= 0xFFFF
    elif spoil == "data":
        orders.data = b"\xff" * len(orders.data)
    elif spoil == "encrypted":
        orders.flags = 0x1
    elif spoil == "method":
        orders.method = 98  # PPMd: zipfile cannot unpack it
    body = zip_archive(members)
    if spoil == "truncated":
        body = body[: len(body) // 2]
    [problem] = problems_of(client.put("/v1/dataset", content=body, headers=ZIP))
    assert problem["file"] == "upload"
    assert words in problem["message"]
    if spoil != "truncated":
        assert "dataset/orders.csv" in problem["message"]


def workbook_members(tmp_path: Path) -> list[Member]:
    path = tmp_path / "dataset.xlsx"
    io.write_workbook(small_dataset(), path)
    with zipfile.ZipFile(path) as archive:
        return [deflated(info.filename, archive.read(info)) for info in archive.infolist()]


def test_xlsx_workbook_still_loads(client: TestClient, tmp_path: Path) -> None:
    response = client.put("/v1/dataset", content=zip_archive(workbook_members(tmp_path)), headers=XLSX)
    assert response.status_code == 200, response.text


def test_xlsx_bomb_is_refused_before_openpyxl_opens_it(client: TestClient, tmp_path: Path) -> None:
    """A 1 GB sheet in a 1 MB workbook, and a workbook of 300 members."""
    members = workbook_members(tmp_path)
    sheet = next(m for m in members if m.name.startswith("xl/worksheets/"))
    bomb = zeros_bomb(sheet.name, 1024)
    body = zip_archive([bomb if m is sheet else m for m in members])
    started = time.perf_counter()
    [problem] = problems_of(client.put("/v1/dataset", content=body, headers=XLSX))
    assert time.perf_counter() - started < 2.0
    assert problem["file"] == "upload"
    assert "unpacks to more than" in problem["message"]
    many = members + [Member(f"xl/media/image{i}.png", b"") for i in range(300)]
    [problem] = problems_of(client.put("/v1/dataset", content=zip_archive(many), headers=XLSX))
    assert "at most 200" in problem["message"]


def test_xlsx_cell_far_away_is_refused(client: TestClient, tmp_path: Path) -> None:
    """One cell at XFD1048576 in a tiny sheet: pandas would pad the table to 17 billion cells."""
    members = workbook_members(tmp_path)
    sheet = next(m for m in members if m.name == "xl/worksheets/sheet2.xml")
    far = b'<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>'
    spread = deflated(sheet.name, zlib.decompress(sheet.data, -15).replace(b"</sheetData>", far))
    started = time.perf_counter()
    body = zip_archive([spread if m is sheet else m for m in members])
    [problem] = problems_of(client.put("/v1/dataset", content=body, headers=XLSX))
    assert time.perf_counter() - started < 2.0
    assert problem["file"] == "upload"
    assert "spans 1048576 rows by 16384 columns" in problem["message"]


BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol">
<!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
<!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
<!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
<!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
<!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
<!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
<!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>
<row r="1"><c r="A1" t="inlineStr"><is><t>line_id</t></is></c></row>
<row r="2"><c r="A2" t="inlineStr"><is><t>&lol9;</t></is></c></row>
</sheetData></worksheet>
"""


def test_xlsx_entity_bomb_is_422(client: TestClient, tmp_path: Path) -> None:
    """Billion laughs in a sheet: the XML parser refuses it, the service says 422."""
    members = workbook_members(tmp_path)
    strings = next(m for m in members if m.name == "xl/worksheets/sheet2.xml")
    body = zip_archive([deflated(m.name, BILLION_LAUGHS) if m is strings else m for m in members])
    started = time.perf_counter()
    [problem] = problems_of(client.put("/v1/dataset", content=body, headers=XLSX))
    assert time.perf_counter() - started < 2.0
    assert problem["file"] == "dataset.xlsx"


def test_healthz_answers_while_a_zip_bomb_is_refused(tmp_path: Path) -> None:
    """Against a real uvicorn: the bomb's upload runs in a thread, /healthz is timed meanwhile."""
    members = [m for m in dataset_members(tmp_path) if not m.name.endswith("orders.csv")]
    body = zip_archive([*members, zeros_bomb("dataset/orders.csv", 1024)])
    outcome: dict[str, object] = {}
    with served(PLANNER_KEY) as (url, _), httpx.Client(base_url=url, timeout=60) as http:
        wait_healthy(http)

        def upload() -> None:
            started = time.perf_counter()
            outcome["response"] = http.put("/v1/dataset", content=body, headers=ZIP)
            outcome["seconds"] = time.perf_counter() - started

        uploading = threading.Thread(target=upload)
        uploading.start()
        waits = []
        while uploading.is_alive() or len(waits) < 5:
            started = time.perf_counter()
            assert http.get("/healthz").status_code == 200
            waits.append(time.perf_counter() - started)
            time.sleep(0.02)
        uploading.join()
    response = outcome["response"]
    assert isinstance(response, httpx.Response)
    assert response.status_code == 422, response.text
    print(f"bomb refused in {outcome['seconds']:.3f} s; /healthz x{len(waits)}, slowest {max(waits):.3f} s")
    assert outcome["seconds"] < 2.0
    assert max(waits) < 0.2
