"""The two WSGI apps of B1 http_floor, served by gunicorn with the same settings.

- `create_flask_app()`: the real Beamtime app (create_app, production config: security headers,
  request log line, limiter, login manager…) plus one JSON route registered only here; it
  touches no database.
- `noop_app`: a bare WSGI callable answering the same bytes.
- `create_bare_flask_app()`: an empty Flask app with the same route, for information: it
  separates what Flask itself costs from what Beamtime's hooks add.
"""

from __future__ import annotations

import os

PATH = "/bench/json"
PAYLOAD = {"status": "ok", "n": 1}
BODY = b'{"n":1,"status":"ok"}\n'  # what Flask's JSON provider makes of PAYLOAD; checked by B1


def noop_app(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))])
    return [BODY]


def create_flask_app():
    from flask import jsonify

    from app import create_app

    app = create_app(
        os.environ.get("BENCH_CONFIG", "production"),
        SQLALCHEMY_DATABASE_URI="sqlite://",  # never opened: the route reads nothing
    )

    def bench_json():
        return jsonify(PAYLOAD)

    app.add_url_rule(PATH, "bench_json", bench_json)
    return app


def create_bare_flask_app():
    from flask import Flask, jsonify

    app = Flask("bench_bare")
    app.add_url_rule(PATH, "bench_json", lambda: jsonify(PAYLOAD))
    return app
