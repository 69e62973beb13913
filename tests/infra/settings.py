"""Which stack the infra tests look at (defaults: the local stack)."""

import os
import pathlib

REPO = pathlib.Path(__file__).resolve().parents[2]
# The names the stack reads itself (Terraform: TF_VAR_project), never a
# generic PROJECT or ENV that a user's shell may hold for something else.
PROJECT = os.environ.get("TF_VAR_project", "saas")
ENV = os.environ.get("SAAS_STACK_ENV", "local")
PREFIX = f"{PROJECT}-{ENV}"
REGION = os.environ.get("AWS_REGION", "us-east-1")
# The issuer the local platform's JWT authorizer trusts (local/stack.sh).
LOCAL_GATEWAY_ISSUER = os.environ.get(
    "LOCAL_GATEWAY_ISSUER", f"http://{os.environ.get('GATEWAY_LISTEN', '127.0.0.1:4000')}/cognito"
)
