"""Tiny SQS helper for the local scripts (boto3 comes with moto): create queues, read messages."""
import json
import sys

import boto3


def main() -> int:
    sqs = boto3.client("sqs")
    command, args = sys.argv[1], sys.argv[2:]
    if command == "create":  # create NAME… -> prints one URL per line
        for name in args:
            url = sqs.create_queue(QueueName=name, Attributes={"MaximumMessageSize": "1048576"})["QueueUrl"]
            print(url)
    elif command == "drain":  # drain URL -> prints each message as JSON {body, attributes}, deletes it
        while True:
            batch = sqs.receive_message(QueueUrl=args[0], MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get("Messages", [])
            if not batch:
                return 0
            for m in batch:
                attrs = {k: v["StringValue"] for k, v in m.get("MessageAttributes", {}).items()}
                print(json.dumps({"body": json.loads(m["Body"]), "attributes": attrs}))
                sqs.delete_message(QueueUrl=args[0], ReceiptHandle=m["ReceiptHandle"])
    else:
        print(f"unknown command {command}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
