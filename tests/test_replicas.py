"""Two real replicas on one real PostgreSQL (one database for the data, one for the key store,
one master key) behind a real HAProxy running deploy/haproxy.cfg.

What one replica keeps the other reads and deletes; HAProxy spreads requests over both; a ZDR
canary sent through it is found nowhere (and the retained control is found in history only);
a socket works through it; ``kill -9`` of one replica during traffic leaves the other serving
everything once HAProxy has marked it down, the database intact and no temporary file behind.
The kill comes last: the module's replicas are shared, in this order.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from sottovoce.audit.search import Places, search
from sottovoce.first_run import FIRST_WORKSPACE_NAME, KEY_FILE_NAME
from sottovoce.store import workspaces
from tests.haproxy import HAProxy, find_haproxy
from tests.harness import Creds, RunningServer, new_canary
from tests.polling import wait_for
from tests.postgres import PostgresCluster

MASTER_KEY = "replicas-behind-haproxy-share-this-master-key"
TTS = "/v1/text-to-speech/joe?output_format=pcm_16000"

pytestmark = pytest.mark.timeout(180)


@dataclass
class Cluster:
    replicas: list[RunningServer]
    proxy: HAProxy

    def served_by(self, request_id: str) -> list[int]:
        """Which replicas logged the request (by the id each response carries)."""
        return [i for i, r in enumerate(self.replicas) if request_id in r.logs()]


@pytest.fixture(scope="module")
def cluster(
    tmp_path_factory: pytest.TempPathFactory, postgres: PostgresCluster
) -> Iterator[Cluster]:
    if find_haproxy() is None:
        pytest.skip("haproxy is not installed (apt-get install haproxy)")
    proxy_dir = tmp_path_factory.mktemp("haproxy")
    env = {
        "SOTTOVOCE_DATABASE_URL": postgres.create_database(),
        "SOTTOVOCE_KEYSTORE_URL": postgres.create_database(),
        "SOTTOVOCE_MASTER_KEY": MASTER_KEY,
    }

    def start(name: str) -> RunningServer:
        return RunningServer(
            tmp_path_factory.mktemp(name),
            env=env,
            extra_places=[postgres.data_dir, proxy_dir],
        )

    # Started together, as an orchestrator starts them: they migrate one fresh schema at once.
    with ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(start, name) for name in ("replica-1", "replica-2")]
    replicas = [f.result() for f in starting if f.exception() is None]
    proxy: HAProxy | None = None
    try:
        for f in starting:
            f.result()  # a failed start fails the module, after the other one is stopped
        # Piper loads on first use: on both replicas at once, before anything is timed.
        warm = replicas[0].create_workspace("warm-up", zdr=True)
        with ThreadPoolExecutor(2) as pool:
            spoken = list(pool.map(lambda r: speak(r.url, warm, "Ready."), replicas))
        assert [r.status_code for r in spoken] == [200, 200]
        proxy = HAProxy(proxy_dir, [r.url.removeprefix("http://") for r in replicas])
        for name in ("replica-1", "replica-2"):
            proxy.wait_until(name, "UP")
        yield Cluster(replicas, proxy)
    finally:
        if proxy is not None:
            proxy.stop()
        with ThreadPoolExecutor(2) as pool:
            list(pool.map(RunningServer.stop, replicas))


def speak(url: str, creds: Creds, text: str) -> httpx.Response:
    return httpx.post(
        f"{url}{TTS}", headers={"xi-api-key": creds.api_key}, json={"text": text}, timeout=60
    )


def history(url: str, creds: Creds) -> list[str]:
    r = httpx.get(f"{url}/v1/history", headers={"xi-api-key": creds.api_key})
    assert r.status_code == 200
    return [item["history_item_id"] for item in r.json()["history"]]


def test_replicas_started_together_make_one_first_workspace(cluster: Cluster) -> None:
    # Both looked at the same empty database at start-up: one created the console's workspace.
    with cluster.replicas[0].store.session() as session:
        names = [w.name for w in workspaces.list_all(session)]
    assert names.count(FIRST_WORKSPACE_NAME) == 1
    written = [(r.data_dir / KEY_FILE_NAME).exists() for r in cluster.replicas]
    assert sorted(written) == [False, True]


def test_what_one_replica_keeps_the_other_reads_and_deletes(cluster: Cluster) -> None:
    one, two = cluster.replicas
    creds = one.create_workspace("kept")
    h = {"xi-api-key": creds.api_key}
    spoken = speak(one.url, creds, "Kept by one.")
    assert spoken.status_code == 200
    one.wait_for_usage(creds.workspace_id, 1)
    [item_id] = history(two.url, creds)
    audio = httpx.get(f"{two.url}/v1/history/{item_id}/audio", headers=h)
    assert audio.status_code == 200
    assert audio.content == spoken.content

    assert httpx.delete(f"{two.url}/v1/history/{item_id}", headers=h).status_code == 200
    for replica in (one, two):
        assert httpx.get(f"{replica.url}/v1/history/{item_id}", headers=h).status_code == 404
        assert httpx.get(f"{replica.url}/v1/history/{item_id}/audio", headers=h).status_code == 404
        assert history(replica.url, creds) == []
        # Its key is gone from the shared key store: no backup of the data can bring it back.
        assert replica.store.keystore.item_keys(creds.workspace_id, [item_id]) == {}


def test_haproxy_spreads_requests_and_a_zdr_canary_is_found_nowhere(cluster: Cluster) -> None:
    one, two = cluster.replicas
    zdr, kept = one.create_workspace("zdr", zdr=True), one.create_workspace("control")
    canary, control = new_canary(), new_canary()
    served = []
    for _ in range(4):
        r = speak(cluster.proxy.url, zdr, f"Say {canary} now.")
        assert r.status_code == 200
        served += cluster.served_by(r.headers["request-id"])
    assert sorted(served) == [0, 0, 1, 1]  # round robin, each request on exactly one replica
    assert speak(cluster.proxy.url, kept, f"Say {control} now.").status_code == 200
    one.wait_for_usage(zdr.workspace_id, 4)
    one.wait_for_usage(kept.workspace_id, 1)

    # One pass over every place of both replicas (and the shared database's files).
    places = Places(
        directories=[
            *(d for r in (one, two) for d in (r.data_dir, r.tmp_dir, r.log_dir)),
            *one.extra_places,
        ],
        store=one.store,
    )
    found = search(places, [canary, control])
    assert [f for f in found if f.marker == canary] == []
    assert one.tmp_created() == [] and two.tmp_created() == []
    # The negative control: the same search finds the retained marker, in history only.
    controls = [f.place for f in found if f.marker == control]
    assert controls and all(place.startswith("history") for place in controls), controls


def test_a_socket_works_through_haproxy(cluster: Cluster) -> None:
    creds = cluster.replicas[0].create_workspace("socket", zdr=True)
    url = f"{cluster.proxy.ws_url}/v1/text-to-speech/joe/stream-input?output_format=pcm_16000"
    audio = b""
    with connect(url, additional_headers={"xi-api-key": creds.api_key}, open_timeout=30) as ws:
        for text in (" ", "Through the proxy. ", ""):  # open, speak, end of input
            ws.send(json.dumps({"text": text}))
        with contextlib.suppress(ConnectionClosed):
            while True:
                message = json.loads(ws.recv(timeout=60))
                audio += base64.b64decode(message.get("audio") or "")
        closed = ws.protocol.close_rcvd
    assert closed is not None and closed.code == 1000
    assert len(audio) > 16000  # more than half a second of 16 kHz speech


def test_kill_9_one_replica_during_traffic(cluster: Cluster) -> None:
    one, two = cluster.replicas
    creds = one.create_workspace("traffic")
    results: list[tuple[float, int, str]] = []  # (started, status or 0, request id)
    stop = threading.Event()

    def traffic() -> None:
        while not stop.is_set():
            started = time.monotonic()
            try:
                r = speak(cluster.proxy.url, creds, "Still here.")
                results.append((started, r.status_code, r.headers.get("request-id", "")))
            except httpx.TransportError:
                results.append((started, 0, ""))

    sender = threading.Thread(target=traffic)
    sender.start()
    try:
        wait_for(lambda: len(results) >= 4, "4 answers", timeout=60)
        os.killpg(two.proc.pid, signal.SIGKILL)
        two.proc.wait(10)
        cluster.proxy.wait_until("replica-2", "DOWN", timeout=15)
        marked_down = time.monotonic()
        count = len(results) + 10
        wait_for(lambda: len(results) >= count, f"{count} answers", timeout=60)
    finally:
        stop.set()
        sender.join(60)

    before = [r for r in results if r[0] < marked_down]
    after = [r for r in results if r[0] >= marked_down]
    assert {status for _, status, _ in before[:4]} == {200}
    # Once marked down, the other replica serves everything: a run of consecutive successes.
    assert len(after) >= 10
    assert [status for _, status, _ in after] == [200] * len(after)
    assert {i for _, _, rid in after for i in cluster.served_by(rid)} == {0}

    # The database is intact: what the survivor kept lists and reads through it (what the
    # killed one had answered may have lost its history: it is written after the response).
    by_one = [rid for _, status, rid in results if status == 200 and cluster.served_by(rid) == [0]]

    def kept_by_one() -> list[str] | None:
        ids = history(one.url, creds)
        return ids if len(ids) >= len(by_one) else None

    kept = wait_for(kept_by_one, f"{len(by_one)} history items")
    h = {"xi-api-key": creds.api_key}
    for item_id in kept:
        assert httpx.get(f"{one.url}/v1/history/{item_id}/audio", headers=h).status_code == 200
    # No temporary file in either replica's TMPDIR, now or ever (inotify), killed one included.
    for replica in (one, two):
        assert list(replica.tmp_dir.rglob("*")) == []
        assert replica.tmp_created() == []
