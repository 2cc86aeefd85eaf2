//! `scf-emulator run` answering TencentCloud API 3.0 `Invoke` and
//! `InvokeFunction`: on the wire, and through Tencent's own Python SDK.

mod common;

use common::*;
use scf_emulator::http::client::Client;
use serde_json::Value;
use std::net::SocketAddr;
use std::process::Command;
use std::time::Duration;

const T: Option<Duration> = Some(Duration::from_secs(10));

/// `run` serving a bash function named "sdkfn" that echoes, fails on
/// "fail" and sleeps past its 1 s timeout on "sleep".
fn serve() -> (Running, SocketAddr, scf_emulator::code::TempDir) {
    let index = "function main_handler () {\n\
                 echo \"log: $1\" >&2\n\
                 case \"$1\" in *fail*) echo \"parse event error\"; return 1 ;; *sleep*) sleep 30 ;; esac\n\
                 echo \"Echoing request: '$1'\"\n}\n";
    let dir = bash_error_function(index);
    let emu = Running::serve(
        dir.path(),
        dir.path(),
        &["--name", "sdkfn", "--timeout", "1"],
    );
    let addr = emu.endpoint();
    (emu, addr, dir)
}

/// One API 3.0 call: the `Response` object.
fn call(addr: SocketAddr, headers: &[(&str, &str)], body: &str) -> Value {
    let resp = Client::connect(addr, T)
        .unwrap()
        .request_with("POST", "/", headers, body.as_bytes())
        .unwrap();
    assert_eq!(resp.status(), 200, "API 3.0 answers errors with 200 too");
    assert_eq!(resp.header("content-type"), Some("application/json"));
    let v: Value = serde_json::from_slice(&resp.body).unwrap();
    let r = v["Response"].clone();
    assert_eq!(r["RequestId"].as_str().map(str::len), Some(36), "{v}");
    r
}

fn invoke_headers(action: &str) -> Vec<(&str, &str)> {
    vec![
        ("X-TC-Action", action),
        ("X-TC-Version", "2018-04-16"),
        ("X-TC-Region", "ap-guangzhou"),
        ("Authorization", "TC3-HMAC-SHA256 Credential=AKIDx/2024-01-01/scf/tc3_request, SignedHeaders=content-type;host, Signature=00"),
        ("Content-Type", "application/json"),
    ]
}

fn error_code(r: &Value) -> (&str, &str) {
    assert!(r.get("Result").is_none(), "{r}");
    (
        r["Error"]["Code"].as_str().unwrap(),
        r["Error"]["Message"].as_str().unwrap(),
    )
}

#[test]
fn api3_shapes_on_the_wire() {
    let (emu, addr, _dir) = serve();
    let h = invoke_headers("Invoke");
    let r = call(
        addr,
        &h,
        r#"{"FunctionName":"sdkfn","ClientContext":"{\"key1\":\"test value 1\"}"}"#,
    );
    let res = &r["Result"];
    let keys: Vec<&String> = res.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 8, "the SDK's Result fields only: {r}");
    assert_eq!(
        res["RetMsg"],
        r#"Echoing request: '{"key1":"test value 1"}'"#
    );
    assert_eq!(res["InvokeResult"], 0);
    assert_eq!(res["Log"], "log: {\"key1\":\"test value 1\"}\n");
    assert_ne!(
        res["FunctionRequestId"], r["RequestId"],
        "the API call and the invocation have their own ids"
    );

    let r = call(
        addr,
        &h,
        r#"{"FunctionName":"sdkfn","ClientContext":"{}","LogType":"None"}"#,
    );
    assert_eq!(
        (&r["Result"]["InvokeResult"], &r["Result"]["Log"]),
        (&0.into(), &"".into()),
        "{r}"
    );
    let r = call(
        addr,
        &invoke_headers("InvokeFunction"),
        r#"{"FunctionName":"sdkfn","Event":"{\"e\":1}"}"#,
    );
    assert_eq!(
        r["Result"]["RetMsg"], r#"Echoing request: '{"e":1}'"#,
        "{r}"
    );

    type Case<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str, &'a str);
    let cases: &[Case] = &[
        (
            &h,
            r#"{"FunctionName":"other","ClientContext":"{}"}"#,
            "ResourceNotFound.Function",
            "function \"other\" does not exist",
        ),
        (
            &h,
            r#"{"FunctionName":"sdkfn","Namespace":"prod"}"#,
            "ResourceNotFound.Namespace",
            "namespace \"prod\"",
        ),
        (
            &h,
            r#"{"FunctionName":"sdkfn","Qualifier":"3"}"#,
            "ResourceNotFound.Version",
            "version \"3\"",
        ),
        (
            &h,
            r#"{"ClientContext":"{}"}"#,
            "MissingParameter",
            "FunctionName is required",
        ),
        (
            &h,
            r#"{"FunctionName":"sdkfn","LogType":"Full"}"#,
            "InvalidParameterValue.LogType",
            "None or Tail",
        ),
        (
            &h,
            r#"{"FunctionName":"sdkfn","InvocationType":"Event"}"#,
            "UnsupportedOperation",
            "not emulated",
        ),
        (&h, "not json", "InvalidParameter", "not the JSON of Invoke"),
        (
            &invoke_headers("ListFunctions"),
            "{}",
            "InvalidAction",
            "\"ListFunctions\" is not emulated",
        ),
        (
            &[("X-TC-Action", "Invoke"), ("X-TC-Version", "2017-01-01")],
            "{}",
            "NoSuchVersion",
            "2018-04-16",
        ),
    ];
    for (headers, body, code, message) in cases {
        let r = call(addr, headers, body);
        let (c, m) = error_code(&r);
        assert_eq!(c, *code, "{body}: {r}");
        assert!(m.contains(message), "{body}: {m}");
    }
    drop(emu);
}

#[test]
fn tencent_cloud_python_sdk_invokes_a_local_function() {
    let Some(python) = sdk_python() else { return };
    let (emu, addr, _dir) = serve();
    let script = fixture("../sdk/invoke.py");
    let out = Command::new(&python)
        .arg(&script)
        .arg(addr.to_string())
        .arg("sdkfn")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();

    let ok = &v["success"]["Result"];
    assert_eq!(
        ok["RetMsg"], r#"Echoing request: '{"key1":"test value 1"}'"#,
        "{v}"
    );
    assert_eq!(
        (&ok["InvokeResult"], &ok["ErrMsg"]),
        (&0.into(), &"".into())
    );
    assert_eq!(ok["Log"], "log: {\"key1\":\"test value 1\"}\n");
    assert!(
        ok["Duration"].as_f64().unwrap() > 0.0 && ok["MemUsage"].as_u64().unwrap() > 0,
        "{ok}"
    );
    assert_eq!(ok["FunctionRequestId"].as_str().unwrap().len(), 36);
    assert_eq!(v["no_log"]["Result"]["Log"], "");
    assert_eq!(
        v["invoke_function"]["Result"]["RetMsg"],
        r#"Echoing request: '{"via":"InvokeFunction"}'"#
    );

    let err = &v["handler_error"]["Result"];
    assert_eq!(
        (&err["InvokeResult"], &err["ErrMsg"], &err["RetMsg"]),
        (&430.into(), &"parse event error".into(), &"".into()),
        "{v}"
    );

    let late = &v["timeout"]["Result"];
    assert_eq!(late["InvokeResult"], 433, "{v}");
    assert_eq!(late["ErrMsg"], "Invoking task timed out after 1 second");

    let missing = &v["unknown_function"];
    assert!(missing.get("Result").is_none(), "{v}");
    assert_eq!(missing["Error"]["Code"], "ResourceNotFound.Function");
    assert!(missing["Error"]["Message"]
        .as_str()
        .unwrap()
        .contains("\"no-such-function\""));
    assert_eq!(missing["RequestId"].as_str().unwrap().len(), 36);
    drop(emu);
}
