# The read side of the Open311 GeoReport v2 face, driven by the PyPI client `georeport`
# (pinned by `cargo xtask test --step open311`, in its own venv) against a live
# motcua-server (MOTCUA_SERVER_BIN) over a fresh SQLite database; requests are filed first
# with a partner api_key issued by the operators' command `open311-key`, form-encoded as
# the standard says (georeport has no write side).
import os
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
import requests
from georeport import GeoReport

LAKE = (21.0287, 105.8524)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    binary = os.environ.get("MOTCUA_SERVER_BIN")
    if not binary:
        raise RuntimeError("MOTCUA_SERVER_BIN is not set: run these tests with `cargo xtask test --step open311`")
    work: Path = tmp_path_factory.mktemp("open311")
    port = free_port()
    env = dict(
        os.environ,
        MOTCUA_ADDR=f"127.0.0.1:{port}",
        DATABASE_URL=f"sqlite://{work}/s.db",
        MOTCUA_BLOB_DIR=str(work / "blobs"),
        MOTCUA_SMS_DIR=str(work / "sms"),
        RUST_LOG="warn",
    )
    key = subprocess.run(
        [binary, "open311-key", "--partner", "georeport test"], env=env, check=True, capture_output=True, text=True
    ).stdout.strip()
    assert key.startswith("o311_"), key
    log = open(work / "server.log", "ab")
    process = subprocess.Popen([binary], env=env, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"motcua-server did not start: see {work / 'server.log'}")
            time.sleep(0.05)
    yield base, key
    process.send_signal(signal.SIGTERM)
    process.wait(timeout=15)


def file_request(base: str, key: str, code: str, description: str, fmt: str = "json"):
    form = {"api_key": key, "service_code": code, "lat": LAKE[0], "long": LAKE[1], "description": description}
    return requests.post(f"{base}/open311/v2/requests.{fmt}", data=form, timeout=10)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_georeport_reads_services_and_requests(server, fmt):
    base, key = server
    filed = file_request(base, key, "den-chieu-sang", f"Đèn đường không sáng ({fmt}), trước số 5.")
    assert filed.status_code == 201, filed.text
    code = filed.json()[0]["service_request_id"]

    client = GeoReport(f"{base}/open311/v2", output_format=fmt)
    services = client.get_service_list()
    codes = {s["service_code"] for s in services}
    assert {"rac-thai", "den-chieu-sang", "ngap-ung"} <= codes
    definition = client.get_service_definition("den-chieu-sang")
    assert definition["service_code"] == "den-chieu-sang"

    one = client.get_service_request(code)
    assert one["service_request_id"] == code
    assert one["status"] == "open"
    assert one["service_code"] == "den-chieu-sang"
    assert float(one["lat"]) == pytest.approx(LAKE[0])
    assert float(one["long"]) == pytest.approx(LAKE[1])

    listed = client.get_service_requests(service_code="den-chieu-sang", status="open")
    # xmltodict gives a dict for a single child, a list for several.
    listed = listed if isinstance(listed, list) else [listed]
    assert code in {r["service_request_id"] for r in listed}
    by_id = client.get_service_requests(service_request_id=code)
    by_id = by_id if isinstance(by_id, list) else [by_id]
    assert [r["service_request_id"] for r in by_id] == [code]


def test_errors_follow_the_standard(server):
    base, key = server
    client = GeoReport(f"{base}/open311/v2")
    with pytest.raises(requests.HTTPError) as missing:
        client.get_service_request("PA-000000-0000")
    assert missing.value.response.status_code == 404
    assert missing.value.response.json()[0]["code"] == 404
    refused = file_request(base, "o311_not_a_key", "rac-thai", "Rác thải tràn ra đường, rất bẩn.", fmt="xml")
    assert refused.status_code == 403
    assert "<errors><error><code>403</code>" in refused.text
    bad = requests.get(f"{base}/open311/v2/requests.json", params={"status": "maybe"}, timeout=10)
    assert bad.status_code == 400 and bad.json()[0]["code"] == 400
