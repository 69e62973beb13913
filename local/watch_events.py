"""Prints the lifecycle events the local stack published since the last
watch, one JSON line each (`make events`): they are read from, and removed
from, the lifecycle-events queue the platform's bus feeds.

Usage: python local/watch_events.py [--wait SECONDS]
"""

import argparse
import json
import os
import sys

import boto3

QUEUE = os.environ.get("SAAS_EVENTS_QUEUE", "saas-local-lifecycle-events")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wait", type=int, default=1, help="seconds to wait for the first event (0-20)")
    args = parser.parse_args()
    sqs = boto3.client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=QUEUE)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        sys.exit(f"no queue {QUEUE}: is the local stack up (make up)?")
    count = 0
    while True:
        wait = min(max(args.wait, 0), 20) if count == 0 else 0
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=wait).get("Messages", [])
        if not messages:
            break
        for message in messages:
            event = json.loads(message["Body"])
            line = {"detail-type": event.get("detail-type"), "source": event.get("source"), **event.get("detail", {})}
            print(json.dumps(line, sort_keys=False))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            count += 1
    print(f"{count} event(s)", file=sys.stderr)


if __name__ == "__main__":
    main()
