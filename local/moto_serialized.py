"""moto_server that handles one request at a time.

moto serves requests on threads but does not lock its backends, so two
concurrent conditional writes can both pass their condition: a race real
DynamoDB never has (each request, and each transaction, is atomic there).
The local stack needs DynamoDB's guarantees to show that version checks,
unique slugs and tier limits hold under concurrency, so this launcher wraps
moto's application in one lock. Connections are still accepted concurrently.

It also counts the API calls it serves, by operation (the `X-Amz-Target` of
JSON protocols such as DynamoDB's, the `Action` of query protocols such as
STS's; `AssumeRole` per role ARN): `GET /_serialized/counters` returns them
as JSON. `make bench` reads them to count STS traffic.

Usage: python local/moto_serialized.py [-H HOST] [-p PORT]
"""

import argparse
import collections
import io
import json
import signal
import sys
import threading
from urllib.parse import parse_qs

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


COUNTERS_PATH = "/_serialized/counters"
# Query-protocol bodies larger than this are not inspected (never an STS call).
MAX_INSPECTED_BODY = 64 * 1024


def operation(environ):
    """The API operation of a request, or None; may replace wsgi.input."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    if not 0 < length <= MAX_INSPECTED_BODY:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    form = parse_qs(body.decode("utf-8", "replace"))
    action = form.get("Action", [None])[0]
    if action == "AssumeRole":
        return f"AssumeRole {form.get('RoleArn', ['?'])[0]}"
    return action


class OneRequestAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()
        self.counters = collections.Counter()

    def __call__(self, environ, start_response):
        if environ.get("PATH_INFO") == COUNTERS_PATH and environ.get("REQUEST_METHOD") == "GET":
            with self.lock:
                body = json.dumps(dict(self.counters), sort_keys=True).encode()
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
            return [body]
        name = operation(environ)
        with self.lock:
            if name:
                self.counters[name] += 1
            # Consume the response inside the lock: the backend work may be lazy.
            return list(self.app(environ, start_response))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, OneRequestAtATime(app), threaded=True)


if __name__ == "__main__":
    main()
