"""The floor for bench/load_bench.py: a hello-world Flask app with nothing in it,
served by the same gunicorn config and worker count as Homeward."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return {"hello": "world"}


@app.get("/healthz")
def healthz():  # the serving helper waits for this before the run starts
    return {"status": "ok"}
