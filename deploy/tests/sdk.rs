//! The deployer checked against Tencent Cloud's own Python SDK
//! (tencentcloud-sdk-python-scf, in `.venv`; `tests/sdk/sdk.py` drives it):
//!
//! - the TC3-HMAC-SHA256 headers `scf_deploy::tc3::sign` computes are the
//!   SDK's, byte for byte, for the same request, time and keys;
//! - every request the deployer can send loads into the SDK's request
//!   model for its action with unknown fields failing (a misspelt field
//!   fails here, not in the cloud), and survives the model's round trip;
//! - the fake SCF of the other tests answers in the SDK's response shape.

mod common;

use base64::Engine as _;
use common::*;
use scf_deploy::requests::{Action, Plan};
use scf_deploy::settings::{Settings, DEFAULTS};
use scf_deploy::tc3::{self, Credentials};
use serde_json::{json, Value};

/// One signing case: keys, time, host, region, action, payload.
struct Case {
    secret_key: &'static str,
    token: Option<&'static str>,
    timestamp: u64,
    host: &'static str,
    region: &'static str,
    action: Action,
    payload: Vec<u8>,
}

impl Case {
    fn request(&self) -> tc3::Request<'_> {
        tc3::Request {
            service: "scf",
            host: self.host,
            action: self.action.name(),
            version: "2018-04-16",
            region: self.region,
            payload: &self.payload,
        }
    }
}

#[test]
fn the_tc3_signature_is_the_sdk_s_byte_for_byte() {
    let Some(python) = sdk_python() else { return };
    let settings =
        Settings { name: "sdk-check", description: "函数 ünïcode \"quoted\" \\ / \u{1F600}", ..DEFAULTS };
    let zip = make_zip(&[("bootstrap", &static_elf(), Some(0o100_755))]);
    let plan = Plan::new(settings.clone(), &zip);
    let big = Plan::new(settings, &vec![0xA5; 1 << 20]);
    let cases = [
        // A plain request, permanent keys.
        Case {
            secret_key: "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            token: None,
            timestamp: 1_700_000_000,
            host: "scf.tencentcloudapi.com",
            region: "ap-guangzhou",
            action: Action::GetFunction,
            payload: plan.body(Action::GetFunction),
        },
        // Non-ASCII in the body (raw UTF-8), a session token, and a time
        // one second before a UTC midnight (08:00 the next day in Beijing:
        // a date taken in local time would differ).
        Case {
            secret_key: "k/+=!@#$%^&*()key",
            token: Some("a-session-token/+="),
            timestamp: 1_735_689_599,
            host: "scf.tencentcloudapi.com",
            region: "ap-shanghai",
            action: Action::CreateFunction,
            payload: plan.body(Action::CreateFunction),
        },
        // An empty payload, a loopback host with a port.
        Case {
            secret_key: "secret",
            token: Some("tok"),
            timestamp: 951_782_400,
            host: "127.0.0.1:9000",
            region: "na-siliconvalley",
            action: Action::UpdateFunctionConfiguration,
            payload: Vec::new(),
        },
        // A big body: a 1 MiB zip as base64.
        Case {
            secret_key: "another-secret",
            token: None,
            timestamp: 4_107_456_000,
            host: "scf.ap-beijing.tencentcloudapi.com",
            region: "ap-beijing",
            action: Action::UpdateFunctionCode,
            payload: big.body(Action::UpdateFunctionCode),
        },
    ];
    let input: Vec<Value> = cases
        .iter()
        .map(|c| {
            json!({"secret_id": SECRET_ID, "secret_key": c.secret_key, "token": c.token, "timestamp": c.timestamp,
                   "host": c.host, "region": c.region, "action": c.action.name(),
                   "payload": String::from_utf8(c.payload.clone()).unwrap()})
        })
        .collect();
    let results = sdk(&python, "sign", &Value::Array(input));
    assert_eq!(results.len(), cases.len());
    for (c, sdk) in cases.iter().zip(&results) {
        assert_eq!(sdk["data"].as_str().unwrap().as_bytes(), &c.payload[..], "the SDK signed the same body");
        let cred = Credentials::new(SECRET_ID, c.secret_key, c.token).unwrap();
        let ours = tc3::sign(&cred, &c.request(), c.timestamp);
        let theirs = sdk["headers"].as_object().unwrap();
        for (name, value) in &ours {
            assert_eq!(theirs.get(*name).and_then(Value::as_str), Some(value.as_str()), "{name} of {:?}", c.action);
        }
        // Every header the SDK sends is ours too, but the two that name
        // the client and its language (unsigned; the API's defaults apply).
        let ours_names: Vec<&str> = ours.iter().map(|(n, _)| *n).collect();
        for name in theirs.keys() {
            assert!(
                ours_names.contains(&name.as_str()) || ["X-TC-RequestClient", "X-TC-Language"].contains(&name.as_str()),
                "the SDK sends {name}, scf-deploy does not"
            );
        }
    }
    // The check can fail: another key gives another Authorization.
    let cred = Credentials::new(SECRET_ID, "other", None).unwrap();
    let c = &cases[0];
    let req = tc3::Request {
        service: "scf",
        host: c.host,
        action: c.action.name(),
        version: "2018-04-16",
        region: c.region,
        payload: &c.payload,
    };
    assert_ne!(
        Some(tc3::sign(&cred, &req, c.timestamp).pop().unwrap().1.as_str()),
        results[0]["headers"]["Authorization"].as_str()
    );
}

/// Loads `(kind, action, params)` into the SDK's models: each result.
fn load(python: &std::path::Path, items: &[(&str, &str, Value)]) -> Vec<Value> {
    let input: Vec<Value> =
        items.iter().map(|(kind, action, params)| json!({"kind": kind, "action": action, "params": params})).collect();
    sdk(python, "load", &Value::Array(input))
}

#[test]
fn the_strict_load_catches_a_misspelt_field() {
    // The check the next tests rely on, shown to fail: one wrong letter, at
    // the top level and inside Code.
    let Some(python) = sdk_python() else { return };
    let results = load(
        &python,
        &[
            ("request", "CreateFunction", json!({"FunctionNam": "x"})),
            ("request", "CreateFunction", json!({"FunctionName": "x", "Code": {"Zipfile": "UEsDBA=="}})),
            ("request", "CreateFunction", json!({"FunctionName": "x", "Code": {"ZipFile": "UEsDBA=="}})),
        ],
    );
    assert!(results[0]["error"].as_str().is_some_and(|e| e.contains("FunctionNam")), "{}", results[0]);
    assert!(results[1]["error"].as_str().is_some_and(|e| e.contains("Zipfile")), "{}", results[1]);
    assert!(results[2].get("ok").is_some(), "{}", results[2]);
}

#[test]
fn every_request_the_deployer_prints_loads_into_the_sdk_models() {
    let Some(python) = sdk_python() else { return };
    let dir = scratch("sdk-requests");
    let zip = good_zip(&dir);
    let zip_bytes = std::fs::read(&zip).unwrap();
    let settings = [
        "--name",
        "echo-fn",
        "--memory",
        "256",
        "--timeout",
        "30",
        "--init-timeout",
        "10",
        "--region",
        "ap-shanghai",
        "--namespace",
        "prod",
        "--description",
        "回声 echo",
    ];
    let z = zip.to_str().unwrap();
    let (status, out, err) = outcome(&deploy(&[&[z, "--dry-run"][..], &settings].concat(), &[]));
    assert_eq!((status, err.as_str()), (Some(0), ""));
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((doc["Region"].as_str(), doc["ZipBytes"].as_u64()), (Some("ap-shanghai"), Some(zip_bytes.len() as u64)));
    let mut items: Vec<(&str, String, Value)> = Vec::new();
    for r in doc["Requests"].as_array().unwrap() {
        items.push(("request", r["Action"].as_str().unwrap().to_string(), r["Request"].clone()));
    }
    // And each request whole, as --print-request writes it for tccli.
    for a in Action::ALL {
        let (status, out, err) = outcome(&deploy(&[&[z, "--print-request", a.name()][..], &settings].concat(), &[]));
        assert_eq!((status, err.as_str()), (Some(0), ""), "{}", a.name());
        items.push(("request", a.name().to_string(), serde_json::from_str(&out).unwrap()));
    }
    let names: Vec<String> = items.iter().map(|i| i.1.clone()).collect();
    assert_eq!(names[..4], ["GetFunction", "CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration"]);
    let refs: Vec<(&str, &str, Value)> = items.iter().map(|(k, a, p)| (*k, a.as_str(), p.clone())).collect();
    let results = load(&python, &refs);
    for ((_, action, params), result) in refs.iter().zip(&results) {
        // Every value survives the model's round trip: right names, and
        // values of the types the model keeps.
        assert_eq!(&result["ok"], params, "{action}: {result}");
        assert_eq!((params["FunctionName"].as_str(), params["Namespace"].as_str()), (Some("echo-fn"), Some("prod")));
    }
    let create = &refs[5].2;
    assert_eq!(
        (&create["Runtime"], &create["Handler"], &create["MemorySize"], &create["Timeout"], &create["InitTimeout"]),
        (&json!("CustomRuntime"), &json!("index.main_handler"), &json!(256), &json!(30), &json!(10))
    );
    assert_eq!(create["Description"], "回声 echo");
    // The whole requests carry the whole zip.
    let b64 = base64::engine::general_purpose::STANDARD;
    assert_eq!(b64.decode(create["Code"]["ZipFile"].as_str().unwrap()).unwrap(), zip_bytes);
    assert_eq!(b64.decode(refs[6].2["ZipFile"].as_str().unwrap()).unwrap(), zip_bytes);
    assert!(refs[1].2["Code"]["ZipFile"].as_str().unwrap().ends_with("..."), "the dry run cuts the zip short");
}

#[test]
fn the_fake_scf_answers_in_the_sdk_s_response_shape() {
    let Some(python) = sdk_python() else { return };
    let answer = function_json("fn", "CreateFailed", "CustomRuntime", &["bootstrap not found"]);
    let results = load(&python, &[("response", "GetFunction", answer.clone())]);
    assert_eq!(results[0]["ok"], answer, "{}", results[0]);
}
