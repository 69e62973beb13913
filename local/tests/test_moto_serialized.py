"""local/moto_serialized.py: the launcher's own behaviour, without a server."""

import importlib.util
import io
import pathlib
import threading
from urllib.parse import urlencode

import pytest

LAUNCHER = pathlib.Path(__file__).resolve().parents[1] / "moto_serialized.py"


@pytest.fixture(scope="module")
def launcher():
    spec = importlib.util.spec_from_file_location("moto_serialized", LAUNCHER)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def environ(body=b"", **extra):
    env = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/",
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
    }
    env.update(extra)
    return env


def answered(app, env):
    statuses = []
    body = b"".join(app(env, lambda status, headers: statuses.append(status)))
    return statuses[0], body


def echo_app(env, start_response):
    start_response("200 OK", [])
    length = int(env.get("CONTENT_LENGTH") or 0)
    return [env["wsgi.input"].read(length)]


def test_moto_models_are_not_tracked_once_tracking_is_stopped(launcher):
    from moto.core.common_models import BaseModel

    # moto files a model under its service, the second part of its module.
    Probe = type("Probe", (BaseModel,), {"__module__": "moto.launcher_tests"})

    Probe()
    assert len(Probe.instances_tracked) == 1, "moto tracks every instance by default"
    launcher.stop_tracking_model_instances()
    Probe()
    Probe()
    assert len(Probe.instances_tracked) == 1
    assert isinstance(Probe(), Probe)


def test_assume_role_is_counted_per_role_and_the_body_still_reaches_moto(launcher):
    app = launcher.OneRequestAtATime(echo_app)
    form = urlencode({"Action": "AssumeRole", "RoleArn": "arn:aws:iam::1:role/t"}).encode()
    status, body = answered(app, environ(form, CONTENT_TYPE="application/x-www-form-urlencoded"))
    assert (status, body) == ("200 OK", form)
    answered(app, environ(b"{}", HTTP_X_AMZ_TARGET="DynamoDB_20120810.Query"))
    assert app.counters == {"AssumeRole arn:aws:iam::1:role/t": 1, "DynamoDB_20120810.Query": 1}


class StalledBody(io.RawIOBase):
    """A request body whose client stops sending until released."""

    def __init__(self):
        self.reading = threading.Event()
        self.release = threading.Event()

    def read(self, size=-1):
        self.reading.set()
        self.release.wait(10)
        return b"{}"


def test_a_client_stalled_mid_body_does_not_hold_the_lock(launcher):
    app = launcher.OneRequestAtATime(echo_app)
    stalled = StalledBody()
    slow_env = environ(b"{}")
    slow_env["wsgi.input"] = stalled
    slow = threading.Thread(target=answered, args=(app, slow_env))
    slow.start()
    assert stalled.reading.wait(5)
    try:
        done = threading.Event()
        threading.Thread(target=lambda: (answered(app, environ(b"[]")), done.set())).start()
        assert done.wait(5), "another request waited for the stalled client"
    finally:
        stalled.release.set()
        slow.join(5)


def test_a_global_sign_out_by_email_revokes_the_users_refresh_tokens(launcher, monkeypatch):
    import boto3
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    launcher.sign_out_resolves_aliases()
    with mock_aws():
        cognito = boto3.client("cognito-idp")
        pool = cognito.create_user_pool(PoolName="p", UsernameAttributes=["email"])["UserPool"]["Id"]
        client = cognito.create_user_pool_client(
            UserPoolId=pool, ClientName="c", ExplicitAuthFlows=["ALLOW_ADMIN_USER_PASSWORD_AUTH", "ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        )["UserPoolClient"]["ClientId"]
        email = "ada@example.com"
        cognito.admin_create_user(UserPoolId=pool, Username=email, MessageAction="SUPPRESS")
        cognito.admin_set_user_password(UserPoolId=pool, Username=email, Password="Passw0rd-long", Permanent=True)

        def refresh_token():
            return cognito.admin_initiate_auth(
                UserPoolId=pool,
                ClientId=client,
                AuthFlow="ADMIN_USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": email, "PASSWORD": "Passw0rd-long"},
            )["AuthenticationResult"]["RefreshToken"]

        def refresh(token):
            return cognito.initiate_auth(
                ClientId=client, AuthFlow="REFRESH_TOKEN_AUTH", AuthParameters={"REFRESH_TOKEN": token}
            )

        def refresh_token_of_a_first_sign_in():
            # An invited user's first sign-in: moto files this session under
            # the internal username the challenge names, not the email.
            invited = "bo@example.com"
            cognito.admin_create_user(
                UserPoolId=pool, Username=invited, TemporaryPassword="Temp-passw0rd", MessageAction="SUPPRESS"
            )
            challenge = cognito.initiate_auth(
                ClientId=client,
                AuthFlow="USER_PASSWORD_AUTH",
                AuthParameters={"USERNAME": invited, "PASSWORD": "Temp-passw0rd"},
            )
            answer = cognito.respond_to_auth_challenge(
                ClientId=client,
                ChallengeName="NEW_PASSWORD_REQUIRED",
                Session=challenge["Session"],
                ChallengeResponses={
                    "USERNAME": challenge["ChallengeParameters"].get("USER_ID_FOR_SRP") or challenge["ChallengeParameters"]["USERNAME"],
                    "NEW_PASSWORD": "Passw0rd-long",
                },
            )
            return invited, answer["AuthenticationResult"]["RefreshToken"]

        invited, first = refresh_token_of_a_first_sign_in()
        refresh(first)
        cognito.admin_user_global_sign_out(UserPoolId=pool, Username=invited)
        with pytest.raises(cognito.exceptions.NotAuthorizedException):
            refresh(first)

        tokens = [refresh_token(), refresh_token()]
        refresh(tokens[0])  # works before
        cognito.admin_user_global_sign_out(UserPoolId=pool, Username=email)
        for token in tokens:
            with pytest.raises(cognito.exceptions.NotAuthorizedException):
                refresh(token)
        refresh(refresh_token())  # a new sign-in works again
