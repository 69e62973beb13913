"""moto's server application, one request at a time, on keep-alive connections.

moto serves requests on threads but does not lock its backends, so two
concurrent conditional writes can both pass their condition: a race real
DynamoDB never has (each request, and each transaction, is atomic there).
The local stack needs DynamoDB's guarantees to show that version checks,
unique slugs and tier limits hold under concurrency, so this launcher wraps
moto's application in one lock. Connections are still accepted concurrently,
and kept alive (waitress; moto_server's werkzeug closes each one).

It stops moto tracking model instances. moto keeps every object it ever
creates (each `BaseModel`) in a class-level list for its dashboard
(`/moto-api/data.json`), and DynamoDB's TransactWriteItems deep-copies every
table it touches for rollback: the copies were never freed, so memory grew
with (transactions x table size), about 9 GB after 3,000 note writes. The
dashboard is not used here; without the tracking the copies are freed.

It makes AdminUserGlobalSignOut revoke what Cognito revokes. Given the
user's email (an alias here: the pool signs in by email), moto compared the
alias with the internal username stored with each refresh token, matched
none, and revoked nothing; it now signs out the user the alias names.

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

import waitress
from moto.core.common_models import BaseModel
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app


COUNTERS_PATH = "/_serialized/counters"
# Query-protocol bodies larger than this are not inspected (never an STS call).
MAX_INSPECTED_BODY = 64 * 1024


def buffer_body(environ):
    """Reads the request body into memory and returns it (b"" without a
    Content-Length). Done before taking the lock, so a client that stalls
    mid-body holds up only its own request, never everyone else's."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b""
    if length <= 0:
        return b""
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def operation(environ, body):
    """The API operation of a request, or None."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return target
    if not environ.get("CONTENT_TYPE", "").startswith("application/x-www-form-urlencoded"):
        return None
    if not 0 < len(body) <= MAX_INSPECTED_BODY:
        return None
    form = parse_qs(body.decode("utf-8", "replace"))
    action = form.get("Action", [None])[0]
    if action == "AssumeRole":
        return f"AssumeRole {form.get('RoleArn', ['?'])[0]}"
    return action


def stop_tracking_model_instances():
    """BaseModel.__new__ without the append to `instances_tracked`."""

    def untracked_new(cls, *args, **kwargs):
        return super(BaseModel, cls).__new__(cls)

    BaseModel.__new__ = staticmethod(untracked_new)


def sign_out_resolves_aliases():
    """AdminUserGlobalSignOut signs out the user an alias names."""
    from moto.cognitoidp.models import CognitoIdpBackend

    def admin_user_global_sign_out(self, user_pool_id, username):
        user_pool = self.describe_user_pool(user_pool_id)
        user = self.admin_get_user(user_pool_id, username)
        # moto files a session under the name the sign-in used: either one.
        for name in {username, user.username}:
            user_pool.sign_out(name)

    CognitoIdpBackend.admin_user_global_sign_out = admin_user_global_sign_out


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
        name = operation(environ, buffer_body(environ))
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
    stop_tracking_model_instances()
    sign_out_resolves_aliases()
    app = DomainDispatcherApplication(create_backend_app)
    # waitress, not werkzeug's development server (moto_server's): that one
    # answers every request with `Connection: close`, so each SDK call paid a
    # new TCP connection, which AWS endpoints never impose.
    waitress.serve(
        OneRequestAtATime(app),
        host=args.host,
        port=args.port,
        threads=8,
        connection_limit=1000,
        asyncore_use_poll=True,
        ident="moto",
    )


if __name__ == "__main__":
    main()
