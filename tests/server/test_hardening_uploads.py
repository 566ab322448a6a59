"""The hostile-upload corpus through the real server: every bad task file is a 400 or 413
naming the byte, row, line or task where it failed, never a 500, and creates nothing."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_helpers import LiveServer, live_server, make_pool

from crowdline.workspace import Workspace

DEEP = 100_000


def _upload(client: httpx.Client, token: str, pool_id: str, name: str,
            data: bytes) -> httpx.Response:
    return client.post(f"/api/crowdline/v1/pools/{pool_id}/tasks/upload",
                       headers={"Authorization": f"OAuth {token}"},
                       files={"file": (name, data, "application/octet-stream")})


CORPUS: list[tuple[str, str, bytes, int, str]] = [
    ("binary junk", "junk.csv",
     bytes(random.Random(7).randrange(256) for _ in range(20_000)), 400, "byte"),
    ("a PNG named .csv", "image.csv", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + b"\0" * 64, 400,
     "NUL byte at byte 8"),
    ("latin-1 text", "latin.csv", "INPUT:headline\ncafé crème\n".encode("latin-1"), 400,
     "byte 18"),
    ("UTF-16 text", "wide.csv", "INPUT:headline\nhello\n".encode("utf-16"), 400, "NUL byte"),
    ("a cut UTF-8 character", "cut.csv", "INPUT:headline\nnaïve".encode()[:-3], 400,
     "ends inside a UTF-8 character"),
    ("100,000-deep JSON list", "deep.json", b"[" * DEEP + b"]" * DEEP, 400,
     "deeper than 64 levels"),
    ("100,000-deep JSON value", "deep.json",
     b'[{"input_values": {"headline": ' + b"[" * DEEP + b"]" * DEEP + b"}}]", 400,
     "deeper than 64 levels"),
    ("100,000-deep JSONL", "deep.jsonl", b'{"input_values": ' + b"{\"a\":" * DEEP
     + b"1" + b"}" * DEEP + b"}\n", 400, "line 1"),
    ("JSON that is not a list", "one.json", b'{"input_values": {"headline": "x"}}', 400,
     "must hold a list"),
    ("broken JSON", "broken.json", b'[{"input_values": {"headline": "x"}}, {"input_', 400,
     "ends before its list is closed"),
    ("a broken JSON task", "broken.json", b'[{"input_values": {"headline": "x"}}, {oops}]',
     400, "task 1"),
    ("broken JSONL", "broken.jsonl", b'{"input_values": {"headline": "x"}}\n{nope\n', 400,
     "line 2"),
    ("text after the JSON list", "tail.json", b'[{"input_values": {"headline": "x"}}] []',
     400, "text after its list"),
    ("an empty file", "empty.csv", b"", 400, "empty"),
    ("a CSV cell over 2 MiB", "big.csv",
     b"INPUT:headline\nsmall\n" + b"x" * (2 * 1024 * 1024) + b"\n", 413, "row 3"),
    ("a JSON task over 1 MiB", "big.json",
     b'[{"input_values": {"headline": "' + b"y" * (1024 * 1024 + 10) + b'"}}]', 413,
     "task 0"),
    ("a JSONL line over 1 MiB", "big.jsonl",
     b'{"input_values": {"headline": "' + b"y" * (1024 * 1024 + 10) + b'"}}\n', 413,
     "line 1"),
]


@pytest.mark.parametrize(("name", "filename", "data", "status", "names"), CORPUS,
                         ids=[c[0] for c in CORPUS])
def test_hostile_uploads_are_refused_naming_where(client: httpx.Client, server: LiveServer,
                                                  name: str, filename: str, data: bytes,
                                                  status: int, names: str) -> None:
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=2, golden_tasks=0, golden=0, overlap=1, real=1)
    token = crowd.create_requester_token("r")
    response = _upload(client, token, pool.id, filename, data)
    assert response.status_code == status, response.text[:500]
    assert names in response.json()["message"], response.json()["message"]
    assert len(crowd.list_tasks(pool.id)) == 2  # nothing was created


def test_a_cell_over_128_kib_is_fine_by_default(client: httpx.Client,
                                                server: LiveServer) -> None:
    """Python's csv module stops at 131,072 characters; crowdline's default cell limit is
    1 MiB, so a 200 KB headline uploads (this answered 500 before)."""
    crowd = server.workspace.crowd
    pool = make_pool(crowd, real_tasks=0, golden_tasks=0, golden=0, overlap=1, real=1)
    token = crowd.create_requester_token("r")
    long_cell = "z" * 200_000
    response = _upload(client, token, pool.id, "long.csv",
                       f'INPUT:headline\n"{long_cell}"\nshort\n'.encode())
    assert response.status_code == 200, response.text[:300]
    assert response.json()["created"] == 2
    assert {len(t.input_values["headline"]) for t in crowd.list_tasks(pool.id)} == {200_000, 5}


def _rows(count: int, bad_every: int) -> Iterator[bytes]:
    yield b"INPUT:headline,TASK:overlap\n"
    for i in range(count):
        yield f"headline {i},{'many' if i % bad_every == bad_every - 1 else 1}\n".encode()


def test_limits_come_from_the_settings_and_big_files_stream(tmp_path: Path,
                                                            clean_env: None) -> None:
    """Configured limits answer 413 naming the byte / row; a file of 12,000 rows is read in
    batches with the refused rows reported by their own row number."""
    ws = Workspace.init(tmp_path / "ws", upload_max_bytes=300_000, upload_max_cell_bytes=1000,
                        upload_max_depth=3)
    try:
        with live_server(ws) as live, httpx.Client(base_url=live.url, timeout=120) as http:
            crowd = ws.crowd
            pool = make_pool(crowd, real_tasks=0, golden_tasks=0, golden=0, overlap=1, real=1)
            token = crowd.create_requester_token("r")
            too_big = _upload(http, token, pool.id, "big.csv", b"INPUT:headline\n"
                              + b"row\n" * 100_000)
            assert too_big.status_code == 413
            assert "300,000" in too_big.json()["message"]
            cell = _upload(http, token, pool.id, "cell.csv",
                           b"INPUT:headline\nok\n" + b"w" * 1001 + b"\n")
            assert cell.status_code == 413
            assert "row 3" in cell.json()["message"]
            depth = _upload(http, token, pool.id, "d.jsonl",
                            b'{"input_values": {"headline": [[1]]}}\n')
            assert depth.status_code == 400
            assert "deeper than 3" in depth.json()["message"]
            assert crowd.list_tasks(pool.id) == []
            many = _upload(http, token, pool.id, "many.csv", b"".join(_rows(12_000, 4_000)))
            assert many.status_code == 200, many.text[:300]
            body = many.json()
            assert body["created"] == 11_997
            assert sorted(int(r) for r in body["rejected"]) == [3_999, 7_999, 11_999]
    finally:
        ws.close()


def test_the_sdk_streams_a_path_without_reading_it_whole(tmp_path: Path,
                                                         workspace: Workspace) -> None:
    path = tmp_path / "tasks.tsv"
    with path.open("wb") as handle:
        handle.write(b"INPUT:headline\n")
        for i in range(6_000):
            handle.write(f"headline {i}\n".encode())
    pool = make_pool(workspace.crowd, real_tasks=0, golden_tasks=0, golden=0, overlap=1,
                     real=1)
    report = workspace.crowd.import_task_file(pool.id, path)
    assert len(report.items) == 6_000
    assert sorted(report.items)[-1] == 5_999
    assert os.path.getsize(path) > 60_000
    assert json.dumps(report.validation_errors) == "{}"
