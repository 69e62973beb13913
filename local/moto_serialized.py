"""moto_server that handles one request at a time.

moto serves requests on threads but does not lock its backends, so two
concurrent conditional writes can both pass their condition: a race real
DynamoDB never has (each request, and each transaction, is atomic there).
The local stack needs DynamoDB's guarantees to show that version checks,
unique slugs and tier limits hold under concurrency, so this launcher wraps
moto's application in one lock. Connections are still accepted concurrently.

Usage: python local/moto_serialized.py [-H HOST] [-p PORT]
"""

import argparse
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class OneRequestAtATime:
    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        with self.lock:
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
