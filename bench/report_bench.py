"""The clinic CSV report and the progress endpoint against a full table read.

Seeds `--patients` (1,000) × `--days` (180) into a fresh SQLite file, or with
`--database-url` into a PostgreSQL database it empties first, serves the app
with gunicorn and prints:
- the median time to download the clinic CSV of the whole range over HTTP
  (answered at once even over 2,000 patients, where the app would queue a job
  that runs the same streamed report in the worker),
- the server's peak memory growth while doing it,
- the same two for the JSON report (streamed too), on a server of its own,
- the median latency of the first page of the patient list (100 patients)
  for the admin and for a therapist,
- the ratio of that time to reading `exercise_logs` once, row by row, with
  the engine's own driver (the floor: no report can avoid reading the ticks),
- the median latency of one patient's progress over the range.

    .venv/bin/python bench/report_bench.py [--patients 1000] [--database-url …]

Never part of `make test`.
"""

import argparse
import sqlite3
import time
from datetime import date, timedelta

import psycopg
from common import Client, seeded, served, timed
from sqlalchemy import make_url

from tests.serving import DEMO_TOTP_SECRET, memory_mb


def read_exercise_logs(url: str) -> float:
    """Seconds to fetch every row of exercise_logs with the engine's driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        connection = sqlite3.connect(parsed.database)
        started = time.perf_counter()
        count = sum(1 for _ in connection.execute("SELECT * FROM exercise_logs"))
    else:
        plain = parsed.set(drivername="postgresql")
        connection = psycopg.connect(plain.render_as_string(hide_password=False))
        started = time.perf_counter()
        with connection.cursor(name="all_logs") as cursor:  # server-side, streamed
            cursor.itersize = 10_000
            cursor.execute("SELECT * FROM exercise_logs")
            count = sum(1 for _ in cursor)
    elapsed = time.perf_counter() - started
    connection.close()
    assert count > 0
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument(
        "--database-url",
        help="a PostgreSQL database to empty and use instead of a SQLite file",
    )
    args = parser.parse_args()

    url, seed_seconds = seeded(
        args.database_url, "report-bench.db", args.patients, args.days
    )
    print(f"seeded {args.patients} patients x {args.days} days in {seed_seconds:.1f} s")
    end = date.today() + timedelta(days=1)
    start = end - timedelta(days=args.days)
    query = f"?from={start.isoformat()}&to={end.isoformat()}"
    csv_path = "/api/reports/adherence.csv" + query

    json_path = "/api/reports/adherence" + query
    # measured as answered at once: over 2,000 patients the app would hand the
    # same streamed report to the worker as an export job (services/jobs.py)
    direct = {"EXPORT_JOB_PATIENTS": str(max(2000, args.patients))}
    with served(url, **direct) as server:  # its own server: its own peak memory
        admin = Client(server.port).login(
            "admin@demo.test", totp_secret=DEMO_TOTP_SECRET
        )
        baseline = memory_mb(server)
        json_median, _ = timed(lambda: admin.call("GET", json_path), args.repeat)
        json_growth = memory_mb(server, peak=True) - baseline
        therapist = Client(server.port).login(
            "therapist@demo.test", totp_secret=DEMO_TOTP_SECRET
        )
        pages = {
            who: timed(lambda c=client: c.call("GET", "/api/patients"), 20)[0]
            for who, client in (("admin", admin), ("therapist", therapist))
        }
        listed = len(admin.call("GET", "/api/patients?limit=500").body)

    with served(url, **direct) as server:
        admin.port = server.port  # the same session (a row): no second TOTP code
        baseline = memory_mb(server)
        size = len(admin.call("GET", csv_path).body)
        csv_median, _ = timed(lambda: admin.call("GET", csv_path), args.repeat)
        growth = memory_mb(server, peak=True) - baseline

        patient = Client(server.port).login("patient@demo.test")
        progress_path = (
            f"/api/patients/{patient.user['id']}/progress"
            f"?from={(date.today() - timedelta(days=args.days - 1))}"
        )
        progress_median, _ = timed(lambda: patient.call("GET", progress_path), 30)

    table_median, _ = timed(lambda: read_exercise_logs(url), args.repeat)
    ratio = csv_median / table_median
    print(
        f"clinic CSV, {args.days} days: {size / 1e6:.2f} MB, median "
        f"{csv_median:.3f} s over HTTP"
    )
    print(f"reading exercise_logs once with the driver: median {table_median:.3f} s")
    print(f"ratio CSV / table read: {ratio:.2f} (target <= 2)")
    print(
        f"server peak memory growth during the CSVs: {growth:.1f} MB (target < 100 MB)"
    )
    print(
        f"JSON report, {args.days} days: median {json_median:.3f} s over HTTP, "
        f"server peak memory growth {json_growth:.1f} MB (target < 100 MB)"
    )
    for who, seconds in pages.items():
        print(
            f"first page of patients (100 of {args.patients}), {who}: median "
            f"{seconds * 1000:.1f} ms (target < 100 ms)"
        )
    assert listed == min(args.patients, 500)
    print(
        f"progress, one patient, {args.days} days: median "
        f"{progress_median * 1000:.1f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
