"""Tests of deploy/scf-deploy, run by scripts/test with the repository's
virtual environment: `.venv/bin/python -m pytest deploy`.

Every request the script can send is built with --dry-run and loaded into
the real request models of Tencent's SDK (tencentcloud-sdk-python-scf from
PyPI), with the SDK's "fields are useless" warning for unknown members
turned into an error, so a misspelt field name fails here and not in the
cloud. The deployment logic (create or update, waiting for Active, failed
states) runs against a fake client that speaks the SDK's models.
"""

import importlib.machinery
import importlib.util
import io
import json
import os
import struct
import subprocess
import sys
import warnings
import zipfile

import pytest
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.scf.v20180416 import models

HERE = os.path.dirname(os.path.abspath(__file__))
SCRIPT = os.path.join(HERE, "scf-deploy")

loader = importlib.machinery.SourceFileLoader("scf_deploy", SCRIPT)
spec = importlib.util.spec_from_loader("scf_deploy", loader)
scf_deploy = importlib.util.module_from_spec(spec)
loader.exec_module(scf_deploy)


def elf(machine=62, interp=None):
    """A minimal 64-bit little-endian ELF executable: one PT_LOAD, and a
    PT_INTERP when `interp` is given."""
    segments = ([(3, interp + b"\0")] if interp else []) + [(1, b"\0" * 16)]
    head = bytearray(64)
    head[:7] = b"\x7fELF\x02\x01\x01"
    struct.pack_into("<HH", head, 16, 2, machine)
    struct.pack_into("<Q", head, 32, 64)
    struct.pack_into("<HHH", head, 52, 64, 56, len(segments))
    table, data, at = b"", b"", 64 + 56 * len(segments)
    for p_type, body in segments:
        table += struct.pack("<IIQQQQQQ", p_type, 5, at, 0, 0, len(body), len(body), 8)
        data += body
        at += len(body)
    return bytes(head) + table + data


def make_zip(path, members):
    """`members`: (name, bytes, mode or None for a zip without Unix modes)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, mode in members:
            info = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
            if mode is None:
                info.create_system = 0
            else:
                info.create_system = 3
                info.external_attr = mode << 16
            z.writestr(info, data)
    return str(path)


@pytest.fixture
def good_zip(tmp_path):
    return make_zip(tmp_path / "function.zip", [("bootstrap", elf(), 0o100755)])


def run(argv):
    """main(argv) with its output captured: (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    saved = sys.stderr
    sys.stderr = err
    try:
        status = scf_deploy.main(argv, out)
    finally:
        sys.stderr = saved
    return status, out.getvalue(), err.getvalue()


def load_strictly(action, params):
    """Loads `params` into the SDK's request model for `action`, failing on
    any member the model does not know (the SDK only warns)."""
    req = getattr(models, action + "Request")()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        req._deserialize(params)
    return req


def test_the_strict_load_catches_a_misspelt_field():
    # The check the next test relies on, shown to fail: one wrong letter, at
    # the top level and inside Code.
    with pytest.raises(UserWarning, match="FunctionNam"):
        load_strictly("CreateFunction", {"FunctionNam": "x"})
    with pytest.raises(UserWarning, match="Zipfile"):
        load_strictly("CreateFunction", {"FunctionName": "x", "Code": {"Zipfile": "UEsDBA=="}})


def test_every_dry_run_request_loads_into_the_sdk_models(good_zip):
    status, out, err = run([good_zip, "--dry-run", "--name", "echo-fn", "--memory", "256", "--timeout", "30",
                            "--init-timeout", "10", "--region", "ap-shanghai", "--namespace", "prod"])
    assert (status, err) == (0, "")
    doc = json.loads(out)
    assert doc["Region"] == "ap-shanghai" and doc["ZipBytes"] == os.path.getsize(good_zip)
    actions = [r["Action"] for r in doc["Requests"]]
    assert actions == ["GetFunction", "CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration"]
    for r in doc["Requests"]:
        req = load_strictly(r["Action"], r["Request"])
        # Every value survives the model's round trip: right names, and
        # values of the types the model keeps.
        back = req._serialize()
        for key, value in r["Request"].items():
            assert back[key] == value, (r["Action"], key)
        assert req.FunctionName == "echo-fn" and req.Namespace == "prod"
    create = load_strictly("CreateFunction", doc["Requests"][1]["Request"])
    assert (create.Runtime, create.Handler, create.MemorySize, create.Timeout, create.InitTimeout) == \
        ("CustomRuntime", "index.main_handler", 256, 30, 10)
    assert create.Code.ZipFile.startswith("UEsDB")  # base64 of "PK\3\4"


def test_the_full_requests_carry_the_whole_zip(good_zip):
    a = scf_deploy.parser().parse_args([good_zip, "--name", "echo-fn"])
    data = open(good_zip, "rb").read()
    reqs = scf_deploy.requests(a, data)
    for action, params in reqs.items():
        load_strictly(action, params)
    import base64
    assert base64.b64decode(reqs["CreateFunction"]["Code"]["ZipFile"]) == data
    assert base64.b64decode(reqs["UpdateFunctionCode"]["ZipFile"]) == data


@pytest.mark.parametrize("action", ["GetFunction", "CreateFunction", "UpdateFunctionCode",
                                    "UpdateFunctionConfiguration"])
def test_print_request_writes_one_whole_request_for_tccli(good_zip, action):
    status, out, err = run([good_zip, "--print-request", action, "--name", "fn", "--memory", "128"])
    assert (status, err) == (0, "")
    params = json.loads(out)
    load_strictly(action, params)
    a = scf_deploy.parser().parse_args([good_zip, "--name", "fn", "--memory", "128"])
    assert params == scf_deploy.requests(a, open(good_zip, "rb").read())[action]


@pytest.mark.parametrize("args, message", [
    (["--memory", "100"], "--memory 100: SCF takes 64 MB or 128 to 3072 MB in steps of 128"),
    (["--memory", "192"], "--memory 192:"),
    (["--memory", "3200"], "--memory 3200:"),
    (["--memory", "0"], "--memory 0:"),
    (["--timeout", "0"], "--timeout 0: must be 1 to 900 seconds"),
    (["--timeout", "9999"], "--timeout 9999: must be 1 to 900 seconds"),
    (["--init-timeout", "0"], "--init-timeout 0: must be 1 to 300 seconds"),
    (["--init-timeout", "301"], "--init-timeout 301:"),
    (["--name", "1bad_"], "--name '1bad_': must start with a letter"),
    (["--name", "bad_"], "--name 'bad_': must end with a letter or a digit"),
    (["--name", "bad-"], "must end with a letter or a digit"),
    (["--name", "a"], "--name 'a': must be 2 to 60 characters long, not 1"),
    (["--name", "a" * 61], "must be 2 to 60 characters long, not 61"),
    (["--name", "bad name"], "may hold only letters, digits, '-' and '_', not ' '"),
    (["--name", "函数"], "must start with a letter"),
    (["--handler", "main_handler"], "--handler 'main_handler': must be FILE.FUNCTION"),
    (["--handler", "index.handler2"], "--handler 'index.handler2'"),
    (["--handler", "index.main.handler"], "must be FILE.FUNCTION"),
    (["--description", "x" * 1001], "--description: 1001 characters, SCF takes at most 1000"),
])
def test_settings_outside_the_documented_ranges_are_refused(good_zip, args, message):
    argv = [good_zip, "--dry-run", "--name", "fn"] + args
    status, out, err = run(argv)
    assert status == 1 and out == ""
    assert err.startswith("deploy/scf-deploy: error: ") and message in err, err
    assert err.count("\n") == 1, err


@pytest.mark.parametrize("args", [
    ["--memory", "64"], ["--memory", "128"], ["--memory", "1536"], ["--memory", "3072"],
    ["--timeout", "1"], ["--timeout", "900"], ["--init-timeout", "1"], ["--init-timeout", "300"],
    ["--name", "ab"], ["--name", "a" * 60], ["--name", "My_fn-2"], ["--handler", "ab.cd"],
])
def test_settings_at_the_edges_of_the_ranges_pass(good_zip, args):
    status, out, err = run([good_zip, "--dry-run", "--name", "fn"] + args)
    assert (status, err) == (0, ""), err


def test_zips_scf_could_not_start_are_refused(tmp_path):
    cases = [
        ("nested", [("build/bootstrap", elf(), 0o100755)],
         "has no `bootstrap` at its root (there is 'build/bootstrap': zip the directory's contents"),
        ("other", [("index.sh", b"#!/bin/bash\n", 0o100755)], "has no `bootstrap` at its root"),
        ("not-executable", [("bootstrap", elf(), 0o100644)], "`bootstrap` has mode 0644; SCF needs 0755"),
        ("owner-only", [("bootstrap", elf(), 0o100700)], "`bootstrap` has mode 0700"),
        ("no-unix-mode", [("bootstrap", elf(), None)], "`bootstrap` has no Unix mode"),
        ("arm64", [("bootstrap", elf(machine=183), 0o100755)], "is built for ELF machine 183, not x86_64"),
        ("text", [("bootstrap", b"echo hello\n", 0o100755)], "is neither an ELF executable nor a script"),
    ]
    for name, members, message in cases:
        path = make_zip(tmp_path / f"{name}.zip", members)
        status, out, err = run([path, "--dry-run", "--name", "fn"])
        assert status == 1 and out == "", name
        assert err.startswith("deploy/scf-deploy: error: ") and message in err, (name, err)
        assert err.count("\n") == 1, err

    not_zip = tmp_path / "not.zip"
    not_zip.write_bytes(elf())
    status, _, err = run([str(not_zip), "--dry-run", "--name", "fn"])
    assert status == 1 and "is not a zip file" in err

    status, _, err = run([str(tmp_path / "missing.zip"), "--dry-run", "--name", "fn"])
    assert status == 1 and "cannot read" in err and err.count("\n") == 1


def test_zip_size_limits_of_create_and_update(tmp_path):
    # Stored (not deflated) padding makes the zip itself big.
    def big(name, size):
        path = tmp_path / name
        with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
            info = zipfile.ZipInfo("bootstrap")
            info.create_system, info.external_attr = 3, 0o100755 << 16
            z.writestr(info, elf())
            z.writestr("pad", b"\0" * size)
        return str(path)
    over_update = big("21m.zip", 21 << 20)
    status, out, err = run([over_update, "--dry-run", "--name", "fn"])
    assert status == 0, err
    assert "warning: " in err and "UpdateFunctionCode takes at most 20 MB" in err
    over_create = big("51m.zip", 50 << 20)
    status, out, err = run([over_create, "--dry-run", "--name", "fn"])
    assert status == 1 and "CreateFunction takes a zip of at most 50 MB" in err


def test_what_scf_runs_with_help_from_its_image_is_deployed_with_a_warning(tmp_path):
    for name, content, warning in [
        ("script", b"#!/bin/bash\nexec ./handler\n", "is a script for /bin/bash"),
        ("dynamic", elf(interp=b"/lib64/ld-linux-x86-64.so.2"), "is dynamically linked"),
    ]:
        path = make_zip(tmp_path / f"{name}.zip", [("bootstrap", content, 0o100755)])
        status, out, err = run([path, "--dry-run", "--name", "fn"])
        assert status == 0, err
        assert err.startswith("deploy/scf-deploy: warning: ") and warning in err and err.count("\n") == 1


def test_without_the_sdk_one_line_says_what_to_install(good_zip):
    # -S: no site-packages, so no SDK, as on a machine without it.
    env = dict(os.environ, TENCENTCLOUD_SECRET_ID="id", TENCENTCLOUD_SECRET_KEY="key")
    p = subprocess.run([sys.executable, "-S", SCRIPT, good_zip, "--name", "fn"], capture_output=True, text=True,
                       env=env)
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr == ("deploy/scf-deploy: error: the Tencent Cloud SDK for Python is missing: "
                        "pip install tencentcloud-sdk-python-scf (or use --dry-run)\n")


def test_without_credentials_one_line_names_the_variables(good_zip, monkeypatch):
    monkeypatch.delenv("TENCENTCLOUD_SECRET_ID", raising=False)
    monkeypatch.delenv("TENCENTCLOUD_SECRET_KEY", raising=False)
    status, out, err = run([good_zip, "--name", "fn"])
    assert status == 1
    assert err == ("deploy/scf-deploy: error: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY "
                   "(and TENCENTCLOUD_SESSION_TOKEN for temporary keys)\n")


class FakeScf:
    """An SCF that answers GetFunction from a script of states and records
    every call's request as JSON. States: None for "no such function", or
    a Status string."""

    def __init__(self, states, runtime="CustomRuntime", reasons=None):
        self.states, self.runtime, self.reasons = list(states), runtime, reasons or []
        self.calls = []

    def _record(self, name, req):
        self.calls.append((name, json.loads(req.to_json_string())))

    def GetFunction(self, req):
        self._record("GetFunction", req)
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        if state is None:
            raise TencentCloudSDKException("ResourceNotFound.Function", "no such function", "req-1")
        resp = models.GetFunctionResponse()
        resp._deserialize({"FunctionName": req.FunctionName, "Status": state, "Runtime": self.runtime,
                           "Handler": "index.main_handler", "MemorySize": 64, "Timeout": 3, "InitTimeout": 3,
                           "CodeSize": 20000, "StatusDesc": "", "RequestId": "req-2",
                           "StatusReasons": [{"ErrorCode": "InternalError", "ErrorMessage": r}
                                             for r in self.reasons]})
        return resp

    def _ok(self, name):
        def call(req):
            self._record(name, req)
            return getattr(models, name + "Response")()
        return call

    def __getattr__(self, name):
        if name in ("CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration"):
            return self._ok(name)
        raise AttributeError(name)


def deploy(fake, zip_path, extra=()):
    a = scf_deploy.parser().parse_args([zip_path, "--name", "fn"] + list(extra))
    data = open(zip_path, "rb").read()
    out = io.StringIO()
    d = scf_deploy.Deployer(fake, models, TencentCloudSDKException, out, sleep=lambda s: None)
    try:
        d.deploy(a, scf_deploy.requests(a, data), data)
    except scf_deploy.Refused as e:
        return out.getvalue(), str(e)
    return out.getvalue(), None


def test_a_new_function_is_created_and_waited_for(good_zip):
    fake = FakeScf([None, "Creating", "Creating", "Active"])
    out, error = deploy(fake, good_zip, ["--memory", "128"])
    assert error is None
    assert [c[0] for c in fake.calls] == ["GetFunction", "CreateFunction", "GetFunction", "GetFunction",
                                          "GetFunction"]
    assert fake.calls[1][1]["Runtime"] == "CustomRuntime" and fake.calls[1][1]["MemorySize"] == 128
    assert out.splitlines() == [
        "creating fn in ap-guangzhou/default", "fn: Creating", "fn: Active",
        "fn in ap-guangzhou/default: Active, Runtime CustomRuntime, Handler index.main_handler, "
        "MemorySize 64 MB, Timeout 3 s, InitTimeout 3 s, CodeSize 20000 B",
    ]


def test_an_existing_function_gets_its_code_then_its_configuration_updated(good_zip):
    fake = FakeScf(["Active", "Active", "Updating", "Active", "Updating", "Active"])
    out, error = deploy(fake, good_zip, ["--timeout", "10"])
    assert error is None
    assert [c[0] for c in fake.calls] == ["GetFunction", "GetFunction", "UpdateFunctionCode", "GetFunction",
                                          "GetFunction", "UpdateFunctionConfiguration", "GetFunction",
                                          "GetFunction"]
    assert fake.calls[2][1]["ZipFile"].startswith("UEsDB")
    assert fake.calls[5][1]["Timeout"] == 10
    assert "fn: Updating" in out and out.splitlines()[0] == "updating fn in ap-guangzhou/default"


def test_a_failed_state_stops_the_wait_with_scf_reasons(good_zip):
    fake = FakeScf([None, "Creating", "CreateFailed"], reasons=["bootstrap not found"])
    out, error = deploy(fake, good_zip)
    assert error == "creating the function ended in CreateFailed: InternalError: bootstrap not found"


def test_an_existing_function_of_another_runtime_is_left_alone(good_zip):
    fake = FakeScf(["Active"], runtime="Python3.9")
    out, error = deploy(fake, good_zip)
    assert error.startswith("fn exists with Runtime Python3.9, not CustomRuntime")
    assert [c[0] for c in fake.calls] == ["GetFunction"]


def test_a_function_that_never_settles_times_out(good_zip):
    fake = FakeScf([None, "Creating"])
    a = scf_deploy.parser().parse_args([good_zip, "--name", "fn"])
    data = open(good_zip, "rb").read()
    ticks = iter(range(0, 10000, 10))
    d = scf_deploy.Deployer(fake, models, TencentCloudSDKException, io.StringIO(), sleep=lambda s: None,
                            clock=lambda: next(ticks), wait_limit=60)
    with pytest.raises(scf_deploy.Refused, match="still Creating after 60 s creating the function"):
        d.deploy(a, scf_deploy.requests(a, data), data)
