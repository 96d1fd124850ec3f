"""gunicorn settings for `make serve` and production (README: Running in production)."""

import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '5000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
# Two threads per worker: a thread waiting on SQLite or the socket lets the other
# run, and on this 2-core machine more only queue for the GIL. With 4, every
# request cost more CPU (the handoffs, colder caches): exercise-log POSTs went
# from 1.57 to 1.81 ms of server CPU each and their rate fell by a fifth
# (bench/load_bench.py). Raise it where requests wait on a remote database.
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = 60
graceful_timeout = 30
keepalive = 5
# Each worker listens on its own SO_REUSEPORT socket, so the kernel spreads new
# connections evenly over the workers. On one shared socket the first worker to
# wake takes most of a burst of new connections and keeps them (keep-alive),
# leaving the other worker idle: with wrk's 16 connections a run used 1.1 of the
# 2 cores as often as 1.9. A worker that dies loses the connections still
# waiting in its own queue (their clients retry); GUNICORN_REUSE_PORT=0 turns
# this off.
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "1") != "0"
# %(h)s is the client's address behind nginx too: the app's ProxyFix
# (PROXY_FIX_HOPS) rewrites REMOTE_ADDR in the environ this log is written from
accesslog = os.environ.get("ACCESS_LOG", "-")
errorlog = "-"
# ProxyFix in the app trusts X-Forwarded-*; gunicorn itself trusts only this host.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# gunicorn 27's control socket lives at one path per user; several instances on
# one host (tests, benchmarks, blue/green) would replace each other's.
control_socket_disable = True
