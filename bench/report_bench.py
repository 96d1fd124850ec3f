"""Benchmark of the clinic CSV report and the progress endpoint (issue: reports).

Seeds 1,000 patients × 180 days into a fresh SQLite file, serves the app with
gunicorn and prints:
- the median time to download the 180-day clinic CSV over HTTP,
- the server's peak memory growth while doing it,
- the ratio of that time to reading the largest table once with sqlite3,
- the median latency of one patient's 180-day progress.
Run with `make bench`; not part of `make test`.
"""

import argparse
import sqlite3
import time
from datetime import date, timedelta

from common import Server, Session, env_for, seeded_sqlite, timed


def read_largest_table(path) -> float:
    connection = sqlite3.connect(path)
    started = time.perf_counter()
    count = sum(1 for _ in connection.execute("SELECT * FROM exercise_logs"))
    elapsed = time.perf_counter() - started
    connection.close()
    assert count > 0
    return elapsed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--patients", type=int, default=1000)
    parser.add_argument("--days", type=int, default=180)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    url, path, seed_seconds = seeded_sqlite("report-bench.db", args.patients, args.days)
    print(f"seeded {args.patients} patients x {args.days} days in {seed_seconds:.1f} s")
    end = date.today() + timedelta(days=1)
    start = end - timedelta(days=args.days)
    query = f"?from={start.isoformat()}&to={end.isoformat()}"

    with Server(env_for(url)) as server:
        admin = Session(server.base, "admin@demo.test")
        baseline = server.rss_mb()
        size = len(admin.request("GET", "/api/reports/adherence.csv" + query))
        csv_median, _ = timed(
            lambda: admin.request("GET", "/api/reports/adherence.csv" + query),
            args.repeat,
        )
        growth = server.peak_rss_mb() - baseline

        patient = Session(server.base, "patient@demo.test")
        progress_path = (
            f"/api/patients/{patient.user['id']}/progress"
            f"?from={(date.today() - timedelta(days=args.days - 1))}"
        )
        progress_median, _ = timed(lambda: patient.request("GET", progress_path), 30)

    table_median, _ = timed(lambda: read_largest_table(path), args.repeat)
    ratio = csv_median / table_median
    print(
        f"clinic CSV, {args.days} days: {size / 1e6:.2f} MB, median "
        f"{csv_median:.3f} s over HTTP"
    )
    print(f"reading exercise_logs once with sqlite3: median {table_median:.3f} s")
    print(f"ratio CSV / table read: {ratio:.2f} (target <= 2)")
    print(
        f"server peak memory growth during the CSVs: {growth:.1f} MB (target < 100 MB)"
    )
    print(
        f"progress, one patient, {args.days} days: median "
        f"{progress_median * 1000:.1f} ms (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
