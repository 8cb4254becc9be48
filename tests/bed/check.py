"""Check that an S3 endpoint is ready for cacher's integration tests.

Reads the CACHER_TEST_* variables (see README.md), e.g.
    (set -a; . target/testbed/moto.env; python tests/bed/check.py)
and verifies, exiting non-zero on the first failure:
  * with CACHER_TEST_KEY_ID/SECRET: put, get, list, delete an object in CACHER_TEST_BUCKET;
  * the same key id with a wrong secret gets 403, an unknown key id gets 403;
  * CACHER_TEST_NO_BUCKET does not exist (HEAD bucket -> 404);
  * if CACHER_TEST_LIMITED_KEY_ID is set: that user can put/get/list/delete and is denied
    CreateBucket; then it logs (without judging) how the server treats HeadBucket,
    ListMultipartUploads, CreateMultipartUpload, UploadPart, ListParts,
    CompleteMultipartUpload and AbortMultipartUpload
    for that user. Secrets are never printed.
"""

import os
import secrets
import sys

# Talk to the loopback server directly, whatever the caller's proxy and AWS profile settings.
for _v in ("NO_PROXY", "no_proxy"):
    os.environ[_v] = ",".join(filter(None, ["127.0.0.1,localhost", os.environ.get(_v)]))
for _v in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE"):
    os.environ.pop(_v, None)
os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

ENV = os.environ
ENDPOINT = ENV["CACHER_TEST_ENDPOINT"]
REGION = ENV["CACHER_TEST_REGION"]
BUCKET = ENV["CACHER_TEST_BUCKET"]
SERVER = ENV.get("CACHER_TEST_SERVER", ENDPOINT)

CFG = Config(
    retries={"total_max_attempts": 1},
    s3={"addressing_style": "path"},
    signature_version="s3v4",
    connect_timeout=5,
    read_timeout=30,
    # Plain SigV4 with a payload hash, no aws-chunked CRC trailers (what cacher sends too).
    request_checksum_calculation="when_required",
    response_checksum_validation="when_required",
)


def s3(key_id: str, secret: str):
    return boto3.client(
        "s3",
        endpoint_url=ENDPOINT,
        region_name=REGION,
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        config=CFG,
    )


def say(msg: str) -> None:
    print(f"check[{SERVER}]: {msg}", flush=True)


def fail(msg: str) -> None:
    sys.exit(f"check[{SERVER}]: FAILED: {msg}")


def outcome(fn) -> str:
    """'ok' or 'HTTP <status> <code>'."""
    try:
        fn()
        return "ok"
    except ClientError as e:
        return describe(e)


def describe(e: ClientError) -> str:
    status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    code = e.response.get("Error", {}).get("Code")
    return f"HTTP {status} {code}"


def round_trip(c, who: str) -> None:
    key = f"bed-check/{who}-{secrets.token_hex(4)}"
    body = secrets.token_bytes(1000)
    for step, fn in (
        ("PutObject", lambda: c.put_object(Bucket=BUCKET, Key=key, Body=body)),
        ("GetObject", lambda: c.get_object(Bucket=BUCKET, Key=key)),
        ("ListObjectsV2", lambda: c.list_objects_v2(Bucket=BUCKET, Prefix="bed-check/")),
    ):
        r = outcome(fn)
        if r != "ok":
            fail(f"{who}: {step} -> {r}")
    if c.get_object(Bucket=BUCKET, Key=key)["Body"].read() != body:
        fail(f"{who}: GetObject returned other bytes")
    listed = [o["Key"] for o in c.list_objects_v2(Bucket=BUCKET, Prefix="bed-check/").get("Contents", [])]
    if key not in listed:
        fail(f"{who}: ListObjectsV2 does not show {key}")
    r = outcome(lambda: c.delete_object(Bucket=BUCKET, Key=key))
    if r != "ok":
        fail(f"{who}: DeleteObject -> {r}")
    listed = [o["Key"] for o in c.list_objects_v2(Bucket=BUCKET, Prefix="bed-check/").get("Contents", [])]
    if key in listed:
        fail(f"{who}: object still listed after DeleteObject")
    say(f"{who}: put/get/list/delete ok")


def expect(what: str, got: str, want_prefix: str) -> None:
    if not got.startswith(want_prefix):
        fail(f"{what} -> {got}, expected {want_prefix}")
    say(f"{what} -> {got}")


def main() -> None:
    key_id, secret = ENV["CACHER_TEST_KEY_ID"], ENV["CACHER_TEST_SECRET"]
    admin = s3(key_id, secret)
    round_trip(admin, "main key")

    wrong = secret[:-1] + ("A" if secret[-1] != "A" else "B")
    expect("wrong secret: ListObjectsV2", outcome(lambda: s3(key_id, wrong).list_objects_v2(Bucket=BUCKET)), "HTTP 403")
    expect(
        "unknown key id: ListObjectsV2",
        outcome(lambda: s3("AKIA" + "Z" * 16, secret).list_objects_v2(Bucket=BUCKET)),
        "HTTP 403",
    )
    no_bucket = ENV.get("CACHER_TEST_NO_BUCKET")
    if no_bucket:
        expect("main key: HeadBucket NO_BUCKET", outcome(lambda: admin.head_bucket(Bucket=no_bucket)), "HTTP 404")

    lim_id = ENV.get("CACHER_TEST_LIMITED_KEY_ID")
    if not lim_id:
        return
    lim = s3(lim_id, ENV["CACHER_TEST_LIMITED_SECRET"])
    round_trip(lim, "limited key")
    expect(
        "limited key: CreateBucket",
        outcome(lambda: lim.create_bucket(Bucket=no_bucket or f"cacher-bed-{secrets.token_hex(4)}")),
        "HTTP 403",
    )

    # Informational: how this server authorises the rest under the 4-permission policy.
    say(f"limited key: HeadBucket -> {outcome(lambda: lim.head_bucket(Bucket=BUCKET))}")
    say(f"limited key: ListMultipartUploads -> {outcome(lambda: lim.list_multipart_uploads(Bucket=BUCKET))}")
    # A one-part upload completed (the last part may be small), then a second one aborted.
    for finish in ("CompleteMultipartUpload", "AbortMultipartUpload"):
        key = f"bed-check/mpu-{secrets.token_hex(4)}"
        try:
            upload_id = lim.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
        except ClientError as e:
            say(f"limited key: CreateMultipartUpload -> {describe(e)}")
            return
        say("limited key: CreateMultipartUpload -> ok")
        etag = None

        def part():
            nonlocal etag
            etag = lim.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id, PartNumber=1, Body=b"x")["ETag"]

        say(f"limited key: UploadPart -> {outcome(part)}")
        if finish == "CompleteMultipartUpload":
            say(f"limited key: ListParts -> {outcome(lambda: lim.list_parts(Bucket=BUCKET, Key=key, UploadId=upload_id))}")
            r = outcome(
                lambda: lim.complete_multipart_upload(
                    Bucket=BUCKET,
                    Key=key,
                    UploadId=upload_id,
                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": etag}]},
                )
            )
            say(f"limited key: CompleteMultipartUpload -> {r}")
            admin.delete_object(Bucket=BUCKET, Key=key)
            if r == "ok":
                continue
        else:
            r = outcome(lambda: lim.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id))
            say(f"limited key: AbortMultipartUpload -> {r}")
        if r != "ok":  # clean up with the main key
            r = outcome(lambda: admin.abort_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id))
            if r != "ok":
                fail(f"main key: AbortMultipartUpload (clean-up) -> {r}")

if __name__ == "__main__":
    main()
