#!/usr/bin/env python3
"""Creates an SCF Custom Runtime function from a zip made by scripts/package,
with the CreateFunction call of Tencent's Custom Runtime guide.

    scripts/package --handler examples/c/apigw.c -o function.zip
    pip install tencentcloud-sdk-python-scf    # or tencentcloud-sdk-python
    export TENCENTCLOUD_SECRET_ID=... TENCENTCLOUD_SECRET_KEY=...
    deploy/create-function.py function.zip --name scf-bootstrap-apigw

`--dry-run` prints the request (the zip's base64 shortened) and sends
nothing; it needs neither the SDK nor credentials. The credentials are read
from the environment, never from the command line.

Request parameters, as the guide describes them:
  Runtime "CustomRuntime"   SCF execs `bootstrap` from the zip's root.
  InitTimeout               seconds from the exec of bootstrap until it
                            reports ready (3 to 300).
  Timeout                   seconds from event dispatch until the result is
                            pushed (1 to 900).
  Code.ZipFile              the zip, base64-encoded.
  Handler                   `file.function`; the function part picks the
                            handler linked into the bootstrap.
"""

import argparse
import base64
import json
import os
import sys


def request(args, zip_bytes):
    return {
        "FunctionName": args.name,
        "Namespace": args.namespace,
        "Runtime": "CustomRuntime",
        "Handler": args.handler,
        "MemorySize": args.memory,
        "InitTimeout": args.init_timeout,
        "Timeout": args.timeout,
        "Description": args.description,
        "Code": {"ZipFile": base64.b64encode(zip_bytes).decode("ascii")},
    }


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("zip", help="the function zip (scripts/package's output)")
    p.add_argument("--name", default="scf-bootstrap-function", help="FunctionName")
    p.add_argument("--region", default="ap-guangzhou")
    p.add_argument("--namespace", default="default")
    p.add_argument("--handler", default="index.main_handler")
    p.add_argument("--memory", type=int, default=64, help="MemorySize in MB (64 to 3072)")
    p.add_argument("--init-timeout", type=int, default=3, help="InitTimeout in seconds (3 to 300)")
    p.add_argument("--timeout", type=int, default=3, help="Timeout in seconds (1 to 900)")
    p.add_argument("--description", default="scf-bootstrap custom runtime")
    p.add_argument("--dry-run", action="store_true", help="print the request instead of sending it")
    args = p.parse_args()

    with open(args.zip, "rb") as f:
        zip_bytes = f.read()
    if zip_bytes[:4] != b"PK\x03\x04":
        sys.exit(f"{args.zip} is not a zip file")
    params = request(args, zip_bytes)

    if args.dry_run:
        shown = dict(params, Code={"ZipFile": params["Code"]["ZipFile"][:32] + "..."})
        print(json.dumps({"Region": args.region, "Action": "CreateFunction", "Request": shown,
                          "ZipBytes": len(zip_bytes)}, indent=2))
        return

    from tencentcloud.common import credential
    from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.scf.v20180416 import models, scf_client

    secret_id = os.environ.get("TENCENTCLOUD_SECRET_ID")
    secret_key = os.environ.get("TENCENTCLOUD_SECRET_KEY")
    if not secret_id or not secret_key:
        sys.exit("set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (and TENCENTCLOUD_SESSION_TOKEN for temporary keys)")
    try:
        cred = credential.Credential(secret_id, secret_key, os.environ.get("TENCENTCLOUD_SESSION_TOKEN"))
        http = HttpProfile()
        http.endpoint = "scf.tencentcloudapi.com"
        client = scf_client.ScfClient(cred, args.region, ClientProfile(httpProfile=http))
        req = models.CreateFunctionRequest()
        req.from_json_string(json.dumps(params))
        print(client.CreateFunction(req).to_json_string())
    except TencentCloudSDKException as e:
        sys.exit(f"CreateFunction failed: {e}")


if __name__ == "__main__":
    main()
