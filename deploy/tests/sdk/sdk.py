"""Tencent Cloud's own Python SDK (tencentcloud-sdk-python-scf) as the
reference for deploy/tests/sdk.rs: it signs requests with the SDK's own
client code, and loads JSON into the SDK's request and response models with
unknown fields failing.

usage: python sdk.py sign|load  < cases.json  > results.json

sign: each case {secret_id, secret_key, token (or null), timestamp, host,
region, action, payload} goes through ScfClient._build_req_inter, the code
every SDK call signs with (abstract_client.py), with the clock read as
`timestamp` and the JSON body taken as `payload` (the bytes the Rust client
sends, not the SDK's own json.dumps of a dict). Result: the request's
headers and body as the SDK built them.

load: each case {kind: "request" or "response", action, params} is loaded
into models.<action>Request or <action>Response; the SDK only warns about a
member its model does not know ("fields are useless"), and that warning is
made an error here. Result: {"ok": the model serialized back} or
{"error": the message}.
"""
import json
import sys
import warnings
from unittest import mock

from tencentcloud.common import abstract_client, credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.scf.v20180416 import models, scf_client


def sign(case):
    cred = credential.Credential(case["secret_id"], case["secret_key"], case["token"])
    profile = ClientProfile(httpProfile=HttpProfile(endpoint=case["host"]))
    client = scf_client.ScfClient(cred, case["region"], profile)
    req = RequestInternal(client._get_endpoint(), "POST", client._requestPath)
    with mock.patch.object(abstract_client.time, "time", return_value=case["timestamp"]), \
            mock.patch.object(abstract_client.json, "dumps", return_value=case["payload"]):
        client._build_req_inter(case["action"], {}, req)
    return {"headers": req.header, "data": req.data}


def load(case):
    model = getattr(models, case["action"] + {"request": "Request", "response": "Response"}[case["kind"]])()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            model._deserialize(case["params"])
    except Exception as e:  # the warning made an error, or a type the model cannot take
        return {"error": f"{type(e).__name__}: {e}"}
    return {"ok": model._serialize(allow_none=False)}


def main():
    command = {"sign": sign, "load": load}[sys.argv[1]]
    cases = json.load(sys.stdin)
    json.dump([command(c) for c in cases], sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
