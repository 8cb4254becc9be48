"""Prepare a freshly started moto_server for cacher's integration tests.

usage: moto_setup.py ENDPOINT REGION BUCKET

Through moto's own API, while it still accepts unauthenticated requests:
  * IAM user `cacher-admin` with an inline policy allowing `*` on `*`, and an access key;
  * IAM user `cacher-limited` whose only policy is the 4-permission policy of Semaphore's
    self-hosted cache guide (s3:PutObject, s3:GetObject, s3:ListBucket, s3:DeleteObject on
    arn:aws:s3:::BUCKET and arn:aws:s3:::BUCKET/*), and an access key;
  * the bucket.
Then `POST /moto-api/reset-auth` with body `0`: from the next request on, moto verifies SigV4
signatures and evaluates IAM policies for every request (before that, it checks nothing).

Prints NAME=VALUE lines (no quoting needed) for bed.sh to put into moto.env:
CACHER_TEST_KEY_ID, CACHER_TEST_SECRET, CACHER_TEST_LIMITED_KEY_ID, CACHER_TEST_LIMITED_SECRET.
Verification of the result is check.py's job.

How moto 5.2 authorises S3 requests (moto/s3/responses.py ACTION_MAP, checked before the
handler runs; the action named is what the IAM policy must allow, as `s3:<action>`):
  HEAD bucket                    -> s3:HeadBucket  (AWS: s3:ListBucket) => DENIED for limited
  GET bucket (ListObjects, V2)   -> s3:ListBucket                       => allowed
  GET bucket?uploads             -> s3:ListBucketMultipartUploads       => DENIED (as on AWS)
  POST key?uploads / ?uploadId   -> s3:PutObject (create / complete)    => allowed (as on AWS)
  PUT key?partNumber&uploadId    -> s3:PutObject                        => allowed (as on AWS)
  DELETE key?uploadId            -> s3:AbortMultipartUpload             => DENIED (as on AWS)
  GET key?uploadId (ListParts)   -> s3:ListMultipartUploadParts         => DENIED (as on AWS)
  HEAD key                       -> s3:GetObject                        => allowed
check.py probes these against the running server and logs what it sees.
"""

import json
import os
import sys
import urllib.request

# Talk to the loopback server directly, whatever the caller's proxy and AWS profile settings.
for _v in ("NO_PROXY", "no_proxy"):
    os.environ[_v] = ",".join(filter(None, ["127.0.0.1,localhost", os.environ.get(_v)]))
for _v in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_v, None)
os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import boto3
from botocore.config import Config


def main() -> None:
    endpoint, region, bucket = sys.argv[1:4]
    cfg = Config(
        retries={"total_max_attempts": 3, "mode": "standard"},
        s3={"addressing_style": "path"},
        connect_timeout=5,
        read_timeout=30,
    )

    def client(service: str):
        # Any credentials do before reset-auth: moto does not check them yet.
        return boto3.client(
            service,
            endpoint_url=endpoint,
            region_name=region,
            aws_access_key_id="bootstrap",
            aws_secret_access_key="bootstrap",
            config=cfg,
        )

    iam = client("iam")

    iam.create_user(UserName="cacher-admin")
    iam.put_user_policy(
        UserName="cacher-admin",
        PolicyName="everything",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
            }
        ),
    )
    admin = iam.create_access_key(UserName="cacher-admin")["AccessKey"]

    iam.create_user(UserName="cacher-limited")
    policy = iam.create_policy(
        PolicyName="cacher-bucket-rw",
        PolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Action": [
                            "s3:PutObject",
                            "s3:GetObject",
                            "s3:ListBucket",
                            "s3:DeleteObject",
                        ],
                        "Resource": [
                            f"arn:aws:s3:::{bucket}/*",
                            f"arn:aws:s3:::{bucket}",
                        ],
                    }
                ],
            }
        ),
    )
    iam.attach_user_policy(UserName="cacher-limited", PolicyArn=policy["Policy"]["Arn"])
    limited = iam.create_access_key(UserName="cacher-limited")["AccessKey"]

    client("s3").create_bucket(Bucket=bucket)

    # Not form-encoded (urllib's default content type): Flask would eat the body as a form and
    # moto would see an empty string (ValueError -> HTTP 500).
    req = urllib.request.Request(
        f"{endpoint}/moto-api/reset-auth",
        data=b"0",
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        if resp.status != 200:
            sys.exit(f"moto_setup: reset-auth answered {resp.status}")
    print("moto_setup: users, policies, bucket created; auth switched on", file=sys.stderr)

    for name, value in (
        ("CACHER_TEST_KEY_ID", admin["AccessKeyId"]),
        ("CACHER_TEST_SECRET", admin["SecretAccessKey"]),
        ("CACHER_TEST_LIMITED_KEY_ID", limited["AccessKeyId"]),
        ("CACHER_TEST_LIMITED_SECRET", limited["SecretAccessKey"]),
    ):
        if not value or any(c.isspace() or c in "'\"\\$`" for c in value):
            sys.exit(f"moto_setup: unexpected characters in {name}")
        print(f"{name}={value}")


if __name__ == "__main__":
    main()
