#!/usr/bin/env python3
"""Create (or confirm) a platform admin: an operator of the SaaS itself.

A platform admin is a user of the platform's Cognito pool without a tenant
(no custom:tenant_id) in the `platform-admin` group. Nothing in the API can
make one: the first exists only through this tool, run with credentials that
may administer the pool (the deployer's on AWS; the emulator's locally).

    make platform-admin EMAIL=ops@example.com LOCAL=1           # the local stack
    make platform-admin EMAIL=ops@example.com DEPLOY_ENV=prod   # AWS

The pool is the one the platform root published in SSM
(/<project>/<env>/platform/user_pool_id). The password is read from stdin
(prompted on a terminal), never from the command line or the environment.
Running it again for the same user only makes sure it is in the group.
"""

import argparse
import getpass
import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

GROUP = "platform-admin"
TENANT_ATTRIBUTE = "custom:tenant_id"


class Refused(Exception):
    """The tool will not do this; the message says why."""


def read_password(stream=None):
    stream = stream or sys.stdin
    if stream.isatty():
        password = getpass.getpass("password for the new platform admin: ")
    else:
        password = stream.readline().rstrip("\n")
    if not password:
        raise Refused("no password given on stdin")
    return password


def existing_user(cognito, pool_id, email):
    try:
        return cognito.admin_get_user(UserPoolId=pool_id, Username=email)
    except cognito.exceptions.UserNotFoundException:
        return None


def ensure_platform_admin(session, project, env, email, password_source):
    """Returns what was done, in words."""
    email = email.strip().lower()
    if "@" not in email:
        raise Refused(f"{email!r} is not an email address")
    parameter = f"/{project}/{env}/platform/user_pool_id"
    ssm = session.client("ssm")
    try:
        pool_id = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
    except ssm.exceptions.ParameterNotFound:
        raise Refused(f"{parameter} does not exist: is the platform of {project}-{env} deployed?") from None
    cognito = session.client("cognito-idp")
    user = existing_user(cognito, pool_id, email)
    if user is None:
        password = password_source()
        cognito.admin_create_user(
            UserPoolId=pool_id,
            Username=email,
            UserAttributes=[
                {"Name": "email", "Value": email},
                {"Name": "email_verified", "Value": "true"},
            ],
            MessageAction="SUPPRESS",
        )
        # Permanent: the operator chose it; Cognito's policy still applies.
        cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)
        done = "created"
    else:
        attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
        if TENANT_ATTRIBUTE in attributes:
            raise Refused(f"{email} is a member of a tenant; a platform admin must be an account of its own")
        done = "already a user;"
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=GROUP)
    return f"{email}: {done} in the {GROUP} group of pool {pool_id}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--email", required=True)
    parser.add_argument("--env", required=True, help="environment name (local, dev, prod, ...)")
    parser.add_argument("--project", default="saas")
    args = parser.parse_args(argv)
    try:
        print(ensure_platform_admin(boto3.Session(), args.project, args.env, args.email, read_password))
    except Refused as refused:
        print(f"platform-admin: {refused}", file=sys.stderr)
        return 2
    except (BotoCoreError, ClientError) as error:  # refusals and outages: one plain line
        print(f"platform-admin: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
