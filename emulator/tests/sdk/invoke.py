"""Invokes a function served by `scf-emulator run` through Tencent Cloud's
own Python SDK (tencentcloud-sdk-python-scf), as a user's script would, and
prints what the SDK returned for each case as one JSON object.

usage: python invoke.py HOST:PORT FUNCTION_NAME
"""
import json
import sys

from tencentcloud.common import credential
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.scf.v20180416 import models, scf_client

endpoint, name = sys.argv[1], sys.argv[2]
profile = ClientProfile(httpProfile=HttpProfile(protocol="http", endpoint=endpoint))
# The emulator accepts any signature; these credentials sign nothing real.
client = scf_client.ScfClient(credential.Credential("AKIDlocaltest", "local-test-secret"), "ap-guangzhou", profile)
FIELDS = ["RetMsg", "ErrMsg", "Log", "Duration", "BillDuration", "MemUsage", "FunctionRequestId", "InvokeResult"]


def call(action, request):
    try:
        response = getattr(client, action)(request)
        return {"Result": {k: getattr(response.Result, k) for k in FIELDS}, "RequestId": response.RequestId}
    except TencentCloudSDKException as e:
        return {"Error": {"Code": e.get_code(), "Message": e.get_message()}, "RequestId": e.get_request_id()}


def invoke(function, event, **extra):
    req = models.InvokeRequest()
    req.FunctionName = function
    req.ClientContext = event
    for k, v in extra.items():
        setattr(req, k, v)
    return call("Invoke", req)


def invoke_function(function, event):
    req = models.InvokeFunctionRequest()
    req.FunctionName = function
    req.Event = event
    return call("InvokeFunction", req)


print(json.dumps({
    "success": invoke(name, '{"key1":"test value 1"}', InvocationType="RequestResponse", Namespace="default"),
    "no_log": invoke(name, '{"key1":"quiet"}', LogType="None"),
    "invoke_function": invoke_function(name, '{"via":"InvokeFunction"}'),
    "handler_error": invoke(name, '{"please":"fail"}'),
    "timeout": invoke(name, '{"please":"sleep"}'),
    "unknown_function": invoke("no-such-function", "{}"),
}))
