"""The real server under load: gunicorn with two workers, as `make serve` runs it.

Idempotent writes must hold when the same record arrives twice at once (possibly
at two workers), and a write the server acknowledged must survive the server
being killed outright. Runs on SQLite, and on PostgreSQL when TEST_DATABASE_URL
is set (in a database of its own, created and dropped here).
"""

import http.client
import json
import sqlite3
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, timedelta

import pytest
from sqlalchemy import (
    Date,
    Integer,
    String,
    Uuid,
    column,
    create_engine,
    func,
    make_url,
    select,
    table,
    text,
)

from tests.serving import (
    DEMO_PASSWORD,
    Client,
    Gunicorn,
    Reply,
    app_env,
    demo_patient_email,
    fresh_database,
    health,
    migrate_and_seed,
    socket_inodes,
    tcp_sockets_on_port,
    worker_pids,
)

pytestmark = pytest.mark.serving

PATIENTS = 8
RECORDS_PER_PATIENT = 250
WRITERS_UNTIL_KILL = 4
WRITE_SECONDS_BEFORE_KILL = 2.0
MAX_WRITES_PER_WRITER = 5_000
TEST_DEADLINE = 150  # seconds; a guard against hangs, never an assertion on speed
CONNECTION_ERRORS = (OSError, http.client.HTTPException)
KEPT_ALIVE = 16  # as many connections as the load benchmark's wrk opens

LOGS = table(
    "exercise_logs",
    column("id", Uuid),
    column("patient_id", Integer),
    column("exercise_id", Integer),
    column("performed_on", Date),
)
AUDIT = table("audit_events", column("action", String))


@pytest.fixture(autouse=True)
def _fresh_data():
    """Overrides conftest's: these tests bring their own database and servers and
    never use (or empty) the suite's shared app and database."""
    yield


@dataclass
class Deployment:
    """A migrated, seeded database and the servers started on it."""

    database_url: str
    env: dict
    tmp_path: object
    servers: list = field(default_factory=list)

    def serve(self) -> Gunicorn:
        log = self.tmp_path / f"gunicorn-{len(self.servers)}.log"
        server = Gunicorn(self.env, log, workers=2)
        self.servers.append(server)
        return server.start()

    def logs(self) -> list[str]:
        return [server.log() for server in self.servers]


@pytest.fixture
def deployment(tmp_path):
    with fresh_database(tmp_path) as url:
        env = app_env(url, tmp_path / "run")
        migrate_and_seed(env, patients=PATIENTS, days=1)
        deployment = Deployment(url, env, tmp_path)
        try:
            yield deployment
        finally:
            for server in deployment.servers:
                server.stop()


def stored_logs(database_url: str) -> dict[uuid.UUID, tuple]:
    """{id: (patient_id, exercise_id, performed_on)} of every exercise log row."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(
                    LOGS.c.id,
                    LOGS.c.patient_id,
                    LOGS.c.exercise_id,
                    LOGS.c.performed_on,
                )
            ).all()
    finally:
        engine.dispose()
    return {row.id: (row.patient_id, row.exercise_id, row.performed_on) for row in rows}


def audited_writes(database_url: str) -> int:
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(
                select(func.count()).where(AUDIT.c.action == "logs.record_exercise")
            )
    finally:
        engine.dispose()


def orphaned_logs(database_url: str) -> int:
    """Exercise logs whose patient or exercise does not exist."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            return connection.scalar(
                text(
                    "SELECT count(*) FROM exercise_logs l "
                    "LEFT JOIN users u ON u.id = l.patient_id "
                    "LEFT JOIN exercises e ON e.id = l.exercise_id "
                    "WHERE u.id IS NULL OR e.id IS NULL"
                )
            )
    finally:
        engine.dispose()


def sqlite_checks(database_url: str) -> tuple[list, list]:
    """(PRAGMA integrity_check rows, PRAGMA foreign_key_check rows)."""
    connection = sqlite3.connect(make_url(database_url).database, timeout=30)
    try:
        integrity = connection.execute("PRAGMA integrity_check").fetchall()
        foreign_keys = connection.execute("PRAGMA foreign_key_check").fetchall()
    finally:
        connection.close()
    return integrity, foreign_keys


def new_record(routine: dict, number: int) -> dict:
    """A distinct tick of one of today's exercises, today or up to two days back."""
    items = routine["items"]
    item = items[number % len(items)]
    performed_on = date.fromisoformat(routine["today"]) - timedelta(days=number % 3)
    return {
        "id": str(uuid.uuid4()),
        "exercise_id": item["exercise_id"],
        "performed_on": performed_on.isoformat(),
        "sets_done": item["sets"],
        "reps_done": item["reps"],
        "pain_during": number % 11,
        "difficulty": 1 + number % 5,
        "note": f"session {number}",
    }


def row_of(client: Client, record: dict) -> tuple:
    return (
        client.user["id"],
        record["exercise_id"],
        date.fromisoformat(record["performed_on"]),
    )


def signed_in_patients(port: int, count: int) -> tuple[list[Client], list[dict]]:
    def sign_in(number):
        client = Client(port).login(demo_patient_email(number))
        routine = client.routine()
        assert routine["items"], f"{client.user['email']} has nothing due today"
        return client, routine

    with ThreadPoolExecutor(max_workers=count) as pool:
        signed = list(pool.map(sign_in, range(count)))
    return [client for client, _ in signed], [routine for _, routine in signed]


def send_twice_schedule(count: int) -> list[list[tuple[int, int]]]:
    """Rounds of (record, copy) sent side by side. Most records go out with their
    second copy in the same round (the copies race, maybe at two workers); every
    fifth record's second copy follows three rounds later, next to other records."""
    rounds: list[list[tuple[int, int]]] = []
    deferred: dict[int, int] = {}
    for number in range(count):
        batch = [(number, 0)]
        if number % 5 == 4:
            deferred[number + 3] = number
        else:
            batch.append((number, 1))
        if number in deferred:
            batch.append((deferred.pop(number), 1))
        rounds.append(batch)
    rounds.extend([(number, 1)] for number in deferred.values())
    return rounds


@dataclass
class WriterResult:
    replies: dict = field(default_factory=dict)  # (record, copy) -> Reply
    errors: list = field(default_factory=list)


def send_every_record_twice(
    client: Client, records: list[dict], start: threading.Barrier, deadline: float
) -> WriterResult:
    result = WriterResult()
    start.wait()
    for batch in send_twice_schedule(len(records)):
        if time.monotonic() > deadline:
            result.errors.append("deadline passed")
            break
        in_flight = []
        try:
            for number, copy in batch:
                sent = client.send("POST", client.logs_path, records[number])
                in_flight.append(((number, copy), sent))
            for key, connection in in_flight:
                result.replies[key] = client.receive(connection)
        except CONNECTION_ERRORS as error:
            result.errors.append(repr(error))
            break
        finally:
            for _, connection in in_flight:
                connection.close()
    return result


def test_concurrent_replayed_writes_store_each_record_exactly_once(deployment):
    before = stored_logs(deployment.database_url)
    server = deployment.serve()
    clients, routines = signed_in_patients(server.port, PATIENTS)
    assert len({client.user["id"] for client in clients}) == PATIENTS
    records = [
        [new_record(routine, number) for number in range(RECORDS_PER_PATIENT)]
        for routine in routines
    ]
    start = threading.Barrier(PATIENTS, timeout=60)
    deadline = time.monotonic() + TEST_DEADLINE

    with ThreadPoolExecutor(max_workers=PATIENTS) as pool:
        results = list(
            pool.map(
                send_every_record_twice,
                clients,
                records,
                [start] * PATIENTS,
                [deadline] * PATIENTS,
            )
        )

    assert [r.errors for r in results] == [[]] * PATIENTS, server.log()
    statuses = Counter(
        reply.status for result in results for reply in result.replies.values()
    )
    assert sum(statuses.values()) == 2 * PATIENTS * RECORDS_PER_PATIENT
    assert not {s: n for s, n in statuses.items() if s >= 500}, (statuses, server.log())
    assert statuses == {
        201: PATIENTS * RECORDS_PER_PATIENT,
        200: PATIENTS * RECORDS_PER_PATIENT,
    }, statuses

    wrong = []
    for client, patient_records, result in zip(clients, records, results, strict=True):
        for number, record in enumerate(patient_records):
            pair: tuple[Reply, Reply] = (
                result.replies[(number, 0)],
                result.replies[(number, 1)],
            )
            # one copy created the record, the other found it stored: never twice
            if sorted(reply.status for reply in pair) != [200, 201] or any(
                reply.body.get("id") != record["id"]
                or reply.body.get("note") != record["note"]
                for reply in pair
            ):
                wrong.append((client.user["email"], number, pair))
    assert not wrong, wrong[:5]

    after = stored_logs(deployment.database_url)
    expected = {
        uuid.UUID(record["id"]): row_of(client, record)
        for client, patient_records in zip(clients, records, strict=True)
        for record in patient_records
    }
    assert len(after) - len(before) == PATIENTS * RECORDS_PER_PATIENT
    assert len(expected) == PATIENTS * RECORDS_PER_PATIENT
    assert {log_id: after.get(log_id) for log_id in expected} == expected
    # every write, replays included, left its audit row
    assert audited_writes(deployment.database_url) == sum(statuses.values())
    assert "Traceback" not in server.log(), server.log()


SAME_PATIENT_DEVICES = 8
TICKS_PER_DEVICE = 40
DAYS = table(
    "adherence_days",
    column("patient_id", Integer),
    column("day", Date),
    column("done", Integer),
)


def stored_done(database_url: str, patient_id: int) -> dict:
    """{day: sessions done} stored for one patient."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                select(DAYS.c.day, DAYS.c.done).where(DAYS.c.patient_id == patient_id)
            ).all()
    finally:
        engine.dispose()
    return {row.day: row.done for row in rows}


def test_one_patients_new_ticks_sent_at_once_all_land_and_count(deployment):
    """Several devices of one patient tick new sessions at the same moment: every
    tick is stored (no deadlock between the ticks' locks, no 5xx) and the day's
    stored sessions done are those of all the ticks together."""
    server = deployment.serve()
    devices = [
        Client(server.port).login(demo_patient_email(0))
        for _ in range(SAME_PATIENT_DEVICES)
    ]
    routine = devices[0].routine()
    [patient_id] = {device.user["id"] for device in devices}
    today = date.fromisoformat(routine["today"])
    ticks = [
        [
            new_record(routine, number) | {"performed_on": today.isoformat()}
            for number in range(
                device * TICKS_PER_DEVICE, (device + 1) * TICKS_PER_DEVICE
            )
        ]
        for device in range(SAME_PATIENT_DEVICES)
    ]
    start = threading.Barrier(SAME_PATIENT_DEVICES, timeout=60)

    def tick_all(device: Client, records: list[dict]) -> Counter:
        start.wait()
        return Counter(
            device.call("POST", device.logs_path, record).status for record in records
        )

    with ThreadPoolExecutor(max_workers=SAME_PATIENT_DEVICES) as pool:
        statuses = sum(pool.map(tick_all, devices, ticks), Counter())

    total = SAME_PATIENT_DEVICES * TICKS_PER_DEVICE
    assert statuses == {201: total}, (statuses, server.log())
    stored = stored_logs(deployment.database_url)
    assert {uuid.UUID(r["id"]) for batch in ticks for r in batch} <= stored.keys()
    per_exercise = Counter(r["exercise_id"] for batch in ticks for r in batch)
    expected = sum(
        min(item["sessions_due"], per_exercise[item["exercise_id"]])
        for item in routine["items"]
    )
    assert stored_done(deployment.database_url, patient_id)[today] == expected
    after = devices[0].routine()
    assert [i["sessions_done"] for i in after["items"]] == [
        i["sessions_due"] for i in after["items"]
    ]
    assert "Traceback" not in server.log(), server.log()


def test_each_worker_listens_itself_and_kept_alive_connections_reach_both(
    deployment,
):
    """gunicorn.conf.py's reuse_port: every worker has its own listening socket,
    so the kernel spreads connections over the workers. A burst of keep-alive
    connections opened at once is served by both workers, not taken (and kept)
    by whichever woke first."""
    server = deployment.serve()
    workers = worker_pids(server)
    assert len(workers) == 2
    listening = {
        inode
        for inode, state in tcp_sockets_on_port(server.port).items()
        if state == "LISTEN"
    }
    owners = {pid: socket_inodes(pid) & listening for pid in workers}
    assert all(len(inodes) == 1 for inodes in owners.values()), owners
    assert len(listening) == len(workers), listening

    start = threading.Barrier(KEPT_ALIVE, timeout=30)

    def connect() -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        start.wait()
        connection.request("GET", "/healthz")
        reply = connection.getresponse()
        reply.read()
        assert reply.status == 200
        return connection  # left open: kept alive

    with ThreadPoolExecutor(max_workers=KEPT_ALIVE) as pool:
        connections = list(pool.map(lambda _: connect(), range(KEPT_ALIVE)))
    try:
        established = {
            inode
            for inode, state in tcp_sockets_on_port(server.port).items()
            if state == "ESTABLISHED"
        }
        served = Counter(
            {pid: len(socket_inodes(pid) & established) for pid in workers}
        )
        assert sum(served.values()) == KEPT_ALIVE, served
        # all 16 on one worker: a chance of 2 in 65,536 when the kernel hashes
        assert all(count > 0 for count in served.values()), served
    finally:
        for connection in connections:
            connection.close()


@dataclass
class Writer:
    client: Client
    routine: dict
    sent: list = field(default_factory=list)
    acknowledged: list = field(default_factory=list)
    replies: Counter = field(default_factory=Counter)
    refused: list = field(default_factory=list)  # non-2xx replies
    failed_before_kill: list = field(default_factory=list)

    def write_until_killed(
        self, killing: threading.Event, start: threading.Barrier, deadline: float
    ) -> None:
        start.wait()
        for number in range(MAX_WRITES_PER_WRITER):
            if killing.is_set() or time.monotonic() > deadline:
                return
            record = new_record(self.routine, number)
            self.sent.append(record)
            try:
                reply = self.client.call("POST", self.client.logs_path, record)
            except CONNECTION_ERRORS as error:
                if not killing.is_set():
                    self.failed_before_kill.append(repr(error))
                return
            self.replies[reply.status] += 1
            if 200 <= reply.status < 300 and reply.body.get("id") == record["id"]:
                self.acknowledged.append(record)
            else:
                self.refused.append((record, reply))


def replay_all(writer: Writer) -> list:
    """Send every acknowledged record again: a stored, intact record gives 200."""
    wrong = []
    for record in writer.acknowledged:
        reply = writer.client.call("POST", writer.client.logs_path, record)
        if reply.status != 200 or reply.body.get("id") != record["id"]:
            wrong.append((record, reply))
    return wrong


def test_sigkill_during_writes_loses_no_acknowledged_record(deployment):
    before = stored_logs(deployment.database_url)
    server = deployment.serve()
    clients, routines = signed_in_patients(server.port, WRITERS_UNTIL_KILL)
    writers = [Writer(c, r) for c, r in zip(clients, routines, strict=True)]
    killing = threading.Event()
    start = threading.Barrier(WRITERS_UNTIL_KILL + 1, timeout=60)
    deadline = time.monotonic() + TEST_DEADLINE
    threads = [
        threading.Thread(
            target=writer.write_until_killed, args=(killing, start, deadline)
        )
        for writer in writers
    ]
    for thread in threads:
        thread.start()
    try:
        start.wait()
        time.sleep(WRITE_SECONDS_BEFORE_KILL)
        # on a slow machine, keep writing until every writer has had some replies
        while time.monotonic() < deadline and not all(w.acknowledged for w in writers):
            time.sleep(0.1)
        killing.set()
        server.kill()
    finally:
        killing.set()
        for thread in threads:
            thread.join(timeout=90)
    assert not any(thread.is_alive() for thread in threads)

    assert all(writer.acknowledged for writer in writers)
    assert [w.failed_before_kill for w in writers] == [[]] * WRITERS_UNTIL_KILL, (
        server.log()
    )
    assert [w.refused for w in writers] == [[]] * WRITERS_UNTIL_KILL, server.log()

    restarted = deployment.serve()
    assert health(restarted.port) == 200
    after = stored_logs(deployment.database_url)
    acknowledged = {
        uuid.UUID(record["id"]): row_of(writer.client, record)
        for writer in writers
        for record in writer.acknowledged
    }
    lost = {
        log_id: row for log_id, row in acknowledged.items() if after.get(log_id) != row
    }
    assert not lost, f"{len(lost)} of {len(acknowledged)} acknowledged records lost"
    sent = {uuid.UUID(record["id"]) for writer in writers for record in writer.sent}
    assert set(after) - set(before) <= sent  # nothing stored that nobody sent

    if make_url(deployment.database_url).get_backend_name() == "sqlite":
        integrity, foreign_keys = sqlite_checks(deployment.database_url)
        assert integrity == [("ok",)]
        assert foreign_keys == []
    assert orphaned_logs(deployment.database_url) == 0

    for writer in writers:  # the same signed sessions still work after the restart
        writer.client.port = restarted.port
    with ThreadPoolExecutor(max_workers=WRITERS_UNTIL_KILL) as pool:
        replays = list(pool.map(replay_all, writers))
    assert replays == [[]] * WRITERS_UNTIL_KILL
    fresh = new_record(writers[0].routine, 0)
    assert (
        writers[0].client.call("POST", writers[0].client.logs_path, fresh).status == 201
    )
    assert uuid.UUID(fresh["id"]) in stored_logs(deployment.database_url)
    assert "Traceback" not in restarted.log(), restarted.log()


def sign_in_attempt(
    port: int, address: str, password: str, device: str = "", answer: list = None
) -> int:
    """One sign-in from `address` (through one trusted proxy hop), on a new
    connection: the kernel spreads these over both workers. `device`: a
    known-device cookie ("name=value") to send; `answer` collects the
    response's Set-Cookie headers."""
    client = Client(port)
    csrf = client.call("GET", "/api/auth/csrf")
    client.csrf = csrf.body["csrf_token"]
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request(
            "POST",
            "/api/auth/login",
            body=json.dumps({"email": demo_patient_email(0), "password": password}),
            headers={
                "Content-Type": "application/json",
                "X-CSRF-Token": client.csrf,
                "X-Forwarded-For": address,
                "Cookie": "; ".join(
                    [f"{k}={v}" for k, v in client.cookies.items()]
                    + ([device] if device else [])
                ),
            },
        )
        response = connection.getresponse()
        response.read()
        if answer is not None:
            answer.extend(response.msg.get_all("Set-Cookie") or [])
        return response.status
    finally:
        connection.close()


def test_sign_in_limits_hold_across_two_workers_and_never_lock_the_owner_out(
    tmp_path,
):
    """Counted in Redis, shared by both workers: five failures from one address
    block that address; ten on the account, from any addresses, back the
    account off for everyone but the owner's own known device."""
    with fresh_database(tmp_path) as url:
        env = app_env(url, tmp_path / "run", PROXY_FIX_HOPS="1")
        migrate_and_seed(env, patients=1, days=1)
        server = Gunicorn(env, tmp_path / "gunicorn.log", workers=2).start()
        try:
            cookies = []  # the owner signed in on their phone before
            assert (
                sign_in_attempt(
                    server.port, "203.0.113.50", DEMO_PASSWORD, answer=cookies
                )
                == 200
            )
            [device] = [c.split(";")[0] for c in cookies if "homeward_device=" in c]
            attacker = [
                sign_in_attempt(server.port, "198.51.100.1", "guess") for _ in range(6)
            ]
            assert attacker == [401] * 5 + [429], server.log()
            spread = [
                sign_in_attempt(server.port, f"198.51.100.{n}", "guess")
                for n in range(2, 14)
            ]
            assert spread == [401] * 5 + [429] * 7  # ten failures: backed off
            stranger = sign_in_attempt(server.port, "192.0.2.7", DEMO_PASSWORD)
            assert stranger == 429  # the right password, but not the owner's phone
            owner = sign_in_attempt(
                server.port, "203.0.113.50", DEMO_PASSWORD, device=device
            )
            assert owner == 200, server.log()
        finally:
            server.stop()
