//! Image functions: the emulator starts the image's command (`/bootstrap
//! serve`) with `SCF_BOOTSTRAP_LISTEN`, waits for it to accept, posts each
//! event to `/event-invoke` with SCF's headers, and reports as for a zip
//! function. The server is not this project's: `tests/fixtures/
//! image-server` is Python's http.server (what it does per event is in its
//! docstring).

mod common;

use common::*;
use scf_emulator::code::TempDir;
use scf_emulator::oci::{self, Arch, File, Spec};
use scf_emulator::{Emulator, FunctionCode, FunctionConfig, InvokeReport, Status};
use serde_json::Value;
use std::fs;
use std::path::Path;
use std::time::Duration;

/// The fixture server as a directory run with `image: true`, and `env`.
fn image_config(dir: &Path, env: &[(&str, &str)]) -> FunctionConfig {
    let mut cfg = config(dir);
    cfg.image = true;
    cfg.timeout = Duration::from_secs(3);
    cfg.start_timeout = Duration::from_secs(15);
    cfg.env
        .extend(env.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    cfg
}

fn image_emulator(env: &[(&str, &str)]) -> (Emulator, TempDir) {
    let dir = copy_fixture("image-server");
    let em = emulator(dir.path(), image_config(dir.path(), env));
    (em, dir)
}

/// The server's account of the request (its answer to an ordinary event).
fn seen(r: &InvokeReport) -> Value {
    assert_eq!(r.status, Status::Success, "{}", r.to_json());
    serde_json::from_str(&r.ret_msg).unwrap()
}

#[test]
fn events_are_posted_with_scf_headers_cold_then_warm_on_one_connection() {
    let (em, _dir) = image_emulator(&[]);
    let first = em.invoke(br#"{"n":1}"#);
    let v = json(&first);
    let s = seen(&first);
    assert_eq!(
        (s["method"].as_str(), s["path"].as_str()),
        (Some("POST"), Some("/event-invoke"))
    );
    assert_eq!(s["body"], r#"{"n":1}"#);
    assert_eq!(s["argv"], serde_json::json!(["serve"]), "the image's Cmd");
    let h = &s["headers"];
    let rid = v["RequestId"].as_str().unwrap();
    for (name, want) in [
        ("X-Scf-Request-Id", rid),
        ("X-Scf-Memory", "128"),
        ("X-Scf-Timeout", "3000"),
        ("X-Scf-Name", "function"),
        ("X-Scf-Version", "$LATEST"),
        ("X-Scf-Namespace", "default"),
        ("X-Scf-Region", "ap-guangzhou"),
        ("X-Scf-Appid", "1250000000"),
        ("X-Scf-Uin", "100000000001"),
        ("Content-Type", "application/json"),
        ("Content-Length", "7"),
        ("User-Agent", "Go-http-client/1.1"),
    ] {
        assert_eq!(h[name].as_str(), Some(want), "{name}: {h}");
    }
    assert!(
        h.get("Connection").is_none() && h.get("X-Scf-Secret-Id").is_none(),
        "{h}"
    );
    // The container's environment: SCF's image variables, the address to
    // serve, and no runtime API.
    let env = &s["env"];
    let listen = env["SCF_BOOTSTRAP_LISTEN"].as_str().unwrap();
    assert!(
        listen.starts_with("127.0.0.1:") && listen != "127.0.0.1:9000",
        "{listen}"
    );
    assert_eq!(h["Host"].as_str(), Some(listen));
    let image_env = [
        ("TENCENTCLOUD_RUNENV", "SCF"),
        ("USER_CODE_ROOT", "/var/user/"),
        ("SCF_FUNCTIONNAME", "function"),
        ("SCF_FUNCTIONVERSION", "$LATEST"),
        ("TENCENTCLOUD_REGION", "ap-guangzhou"),
    ];
    assert_eq!(
        image_env.map(|(k, _)| env[k].as_str()),
        image_env.map(|(_, v)| Some(v)),
        "{env}"
    );
    assert!(
        env.get("SCF_RUNTIME_API").is_none() && env.get("_HANDLER").is_none(),
        "{env}"
    );
    // Cold, with the time to listening; the log is the server's output.
    assert_eq!(v["Emulator"]["Cold"], true);
    assert!(
        v["Emulator"]["InitDurationUs"]
            .as_u64()
            .is_some_and(|us| us > 0),
        "{v}"
    );
    assert!(
        v["Result"]["Log"]
            .as_str()
            .unwrap()
            .contains(&format!("handling {rid}")),
        "{v}"
    );
    assert!(v["Result"]["MemUsage"].as_u64().unwrap() > 0);

    let second = em.invoke(b"{}");
    let v2 = json(&second);
    let s2 = seen(&second);
    assert_eq!(v2["Emulator"]["Cold"], false);
    assert!(v2["Emulator"]["InitDurationUs"].is_null());
    assert_eq!(s2["pid"], s["pid"], "the same instance");
    assert_eq!(
        s2["connection"], s["connection"],
        "the same keep-alive connection"
    );
    assert_ne!(s2["headers"]["X-Scf-Request-Id"], h["X-Scf-Request-Id"]);
}

#[test]
fn push_close_and_http10_servers_get_a_connection_per_event() {
    for (close, env) in [(true, &[][..]), (false, &[("HTTP10", "1")][..])] {
        let dir = copy_fixture("image-server");
        let mut cfg = image_config(dir.path(), env);
        cfg.push_close = close;
        let em = emulator(dir.path(), cfg);
        let a = seen(&em.invoke(b"{}"));
        let b = seen(&em.invoke(b"{}"));
        assert_eq!(a["pid"], b["pid"]);
        assert_ne!(a["connection"], b["connection"], "close {close} {env:?}");
        let connection = a["headers"].get("Connection").and_then(Value::as_str);
        assert_eq!(connection, close.then_some("close"));
    }
}

/// Whether the server keeps the connection (HTTP/1.1) or closes it after
/// each answer (HTTP/1.0, where the emulator waits a moment to see whether
/// the process dies), an error answer from a live server is 430.
#[test]
fn a_handler_error_is_430_and_the_instance_goes_on() {
    for env in [&[][..], &[("HTTP10", "1")][..]] {
        let (em, _dir) = image_emulator(env);
        let pid = seen(&em.invoke(b"{}"))["pid"].clone();
        let r = em.invoke(br#"{"error":"bad input: no key1"}"#);
        let v = json(&r);
        assert_eq!(r.status, Status::UserCodeException, "{env:?}: {v}");
        assert_eq!(v["Result"]["ErrMsg"], "bad input: no key1");
        assert_eq!(v["Result"]["RetMsg"], "");
        assert!(v["Emulator"].get("ExitSignal").is_none());
        let after = em.invoke(b"{}");
        assert_eq!(seen(&after)["pid"], pid, "the same instance serves on");
        assert_eq!(json(&after)["Emulator"]["Cold"], false);
    }
}

#[test]
fn a_crash_answer_then_death_is_439_with_the_crash_line() {
    let (em, _dir) = image_emulator(&[]);
    let line = "handler 'main_handler' crashed: SIGSEGV while handling request x";
    let r = em.invoke(format!(r#"{{"crash":"{line}"}}"#).as_bytes());
    let v = json(&r);
    assert_eq!(r.status, Status::UserProcessExit, "{v}");
    assert_eq!(v["Result"]["ErrMsg"], line);
    assert_eq!(v["Emulator"]["ExitSignal"], "SIGSEGV");
    assert_eq!(em.instance_pid(), None, "the instance is gone");
    let after = em.invoke(b"{}");
    assert_eq!(
        json(&after)["Emulator"]["Cold"],
        true,
        "the next invoke is a cold start"
    );
    seen(&after);
}

#[test]
fn death_without_an_answer_is_439_naming_the_signal() {
    let (em, _dir) = image_emulator(&[]);
    let r = em.invoke(br#"{"die":true}"#);
    let v = json(&r);
    assert_eq!(r.status, Status::UserProcessExit, "{v}");
    assert_eq!(
        v["Result"]["ErrMsg"],
        "User process exit when running: /bootstrap serve exited with signal 11 (SIGSEGV) during the invocation"
    );
    assert_eq!(v["Emulator"]["ExitSignal"], "SIGSEGV");
    assert!(
        v["Result"]["Log"]
            .as_str()
            .unwrap()
            .starts_with("listening on"),
        "{v}"
    );
}

/// A live server that hangs up without an answer, or answers something
/// that is not HTTP: 430 naming which, and the instance serves on.
#[test]
fn a_hang_up_or_a_malformed_answer_is_430() {
    let (em, _dir) = image_emulator(&[]);
    let pid = seen(&em.invoke(b"{}"))["pid"].clone();
    for (event, want) in [
        (
            &br#"{"hangup":true}"#[..],
            "the function's HTTP server closed the connection without answering POST /event-invoke",
        ),
        (
            br#"{"garbage":true}"#,
            "the function's HTTP server answered POST /event-invoke with a malformed response: unsupported HTTP version",
        ),
    ] {
        let r = em.invoke(event);
        assert_eq!((r.status, r.err_msg.as_str()), (Status::UserCodeException, want), "{}", r.to_json());
    }
    assert_eq!(seen(&em.invoke(b"{}"))["pid"], pid);
}

#[test]
fn no_answer_in_time_is_433_and_ends_the_instance() {
    let dir = copy_fixture("image-server");
    let mut cfg = image_config(dir.path(), &[]);
    cfg.timeout = Duration::from_secs(1);
    let em = emulator(dir.path(), cfg);
    let pid = seen(&em.invoke(b"{}"))["pid"].as_u64().unwrap() as u32;
    let r = em.invoke(br#"{"sleep":5}"#);
    let v = json(&r);
    assert_eq!(r.status, Status::TimeLimitReached, "{v}");
    assert_eq!(
        v["Result"]["ErrMsg"],
        "Invoking task timed out after 1 second"
    );
    let ms = v["Result"]["Duration"].as_f64().unwrap();
    assert!((1000.0..4000.0).contains(&ms), "{ms} ms");
    assert!(wait_gone(pid), "the timed-out instance was killed");
    assert_eq!(json(&em.invoke(b"{}"))["Emulator"]["Cold"], true);
}

#[test]
fn a_server_not_listening_within_the_start_limit_is_446_with_scfs_message() {
    let dir = copy_fixture("image-server");
    let mut cfg = image_config(dir.path(), &[("NO_LISTEN", "1")]);
    cfg.start_timeout = Duration::from_millis(700);
    let em = emulator(dir.path(), cfg);
    let r = em.invoke(b"{}");
    let v = json(&r);
    assert_eq!(r.status, Status::PortBindingFailed, "{v}");
    assert_eq!(v["Result"]["InvokeResult"], 446);
    let msg = v["Result"]["ErrMsg"].as_str().unwrap();
    assert!(
        msg.starts_with(
            "PortBindingFailed: The request timed out in 700ms.Please confirm your http server have enabled listening on port 9000."
        ),
        "{msg}"
    );
    assert!(msg.contains("SCF_BOOTSTRAP_LISTEN=127.0.0.1:"), "{msg}");
    assert_eq!(v["Result"]["Log"], "not listening\n");
    assert_eq!(v["Emulator"]["Cold"], true);
    assert!(
        v["Emulator"]["InitDurationUs"].as_u64().unwrap() >= 700_000,
        "{v}"
    );
    assert_eq!(em.instance_pid(), None);
}

#[test]
fn exiting_before_listening_is_405_and_a_slow_start_within_the_limit_is_fine() {
    let (em, _dir) = image_emulator(&[("EXIT_AT_START", "3")]);
    let r = em.invoke(b"{}");
    let v = json(&r);
    assert_eq!(r.status, Status::ContainerStateExited, "{v}");
    let msg = v["Result"]["ErrMsg"].as_str().unwrap();
    assert!(
        msg.starts_with("ContainerStateExited: /bootstrap serve exited with exit code 3 before listening on 127.0.0.1:"),
        "{msg}"
    );
    assert_eq!(v["Emulator"]["ExitCode"], 3);

    let (em, _dir) = image_emulator(&[("START_DELAY", "0.4")]);
    let v = json(&em.invoke(b"{}"));
    assert_eq!(v["Result"]["InvokeResult"], 0, "{v}");
    assert!(
        v["Emulator"]["InitDurationUs"].as_u64().unwrap() >= 400_000,
        "{v}"
    );
}

#[test]
fn answers_over_6_mb_are_407_and_credentials_travel_as_headers() {
    let (em, _dir) = image_emulator(&[
        ("TENCENTCLOUD_SECRETID", "AKIDtest"),
        ("TENCENTCLOUD_SECRETKEY", "secret"),
        ("TENCENTCLOUD_SESSIONTOKEN", "token"),
    ]);
    let h = seen(&em.invoke(b"{}"))["headers"].clone();
    assert_eq!(
        (
            h["X-Scf-Secret-Id"].as_str(),
            h["X-Scf-Secret-Key"].as_str(),
            h["X-Scf-Session-Token"].as_str()
        ),
        (Some("AKIDtest"), Some("secret"), Some("token"))
    );
    let r = em.invoke(format!(r#"{{"big":{}}}"#, 6 * 1024 * 1024 + 1).as_bytes());
    assert_eq!(r.status, Status::ResponseTooLarge, "{}", r.to_json());
    assert_eq!(
        r.err_msg,
        "The size of response exceeds the upper limit (6MB): the function returned 6291457 bytes"
    );
    let ok = em.invoke(format!(r#"{{"big":{}}}"#, 6 * 1024 * 1024).as_bytes());
    assert_eq!(
        (ok.status, ok.ret_msg.len()),
        (Status::Success, 6 * 1024 * 1024)
    );
}

/// The fixture's server as the one file of an image.
fn image_archive(work: &Path) -> std::path::PathBuf {
    let script = fs::read(fixture("image-server/bootstrap")).unwrap();
    let mut spec = Spec::bootstrap(&script, Arch::Amd64);
    spec.files.push(File {
        path: "/etc/motd",
        mode: 0o644,
        data: b"an image\n",
    });
    spec.env = vec!["GREETING=from the image config"];
    let path = work.join("function.tar");
    fs::write(&path, oci::write_spec(&spec)).unwrap();
    path
}

#[test]
fn an_oci_archive_or_layout_is_an_image_function_by_itself() {
    let work = TempDir::new("scf-emu-image").unwrap();
    let archive = image_archive(work.path());
    // An OCI layout directory: the archive, extracted.
    let layout = work.path().join("layout");
    tar::Archive::new(fs::File::open(&archive).unwrap())
        .unpack(&layout)
        .unwrap();
    for code in [&archive, &layout] {
        let loaded = FunctionCode::load(code).unwrap();
        assert_eq!(loaded.image().unwrap().command(), ["/bootstrap", "serve"]);
        assert_eq!(
            fs::read(loaded.root().join("etc/motd")).unwrap(),
            b"an image\n"
        );
        let mut cfg = config(work.path());
        cfg.start_timeout = Duration::from_secs(15);
        let em = Emulator::new(loaded, cfg);
        let s = seen(&em.invoke(b"{}"));
        assert_eq!(s["env"]["GREETING"], "from the image config");
        assert_eq!(s["path"], "/event-invoke");
    }
    // A zip of the same root, with --image.
    let zip = work.path().join("function.zip");
    let script = fs::read(fixture("image-server/bootstrap")).unwrap();
    fs::write(
        &zip,
        scf_emulator::zip::write_stored(&[("bootstrap", 0o100755, &script)]),
    )
    .unwrap();
    let mut cfg = config(work.path());
    cfg.image = true;
    cfg.start_timeout = Duration::from_secs(15);
    let em = Emulator::new(FunctionCode::load(&zip).unwrap(), cfg);
    assert_eq!(
        seen(&em.invoke(b"{}"))["argv"],
        serde_json::json!(["serve"])
    );
}

#[test]
fn an_image_without_its_command_is_445() {
    let dir = TempDir::new("scf-emu-image").unwrap();
    let em = emulator(dir.path(), image_config(dir.path(), &[]));
    let r = em.invoke(b"{}");
    assert_eq!(r.status, Status::ContainerInitError, "{}", r.to_json());
    assert_eq!(
        r.err_msg,
        "ContainerInitError: the image's command /bootstrap file not found in the image"
    );
}

/// The command line, on an image: `invoke` prints the Invoke JSON; `run`
/// serves `POST /invoke`, TencentCloud API 3.0 `Invoke` and, with
/// `--apigw`, the gateway event, as for a zip function.
#[test]
fn invoke_run_api3_and_apigw_serve_an_image_function() {
    use scf_emulator::http::client::Client;
    let work = TempDir::new("scf-emu-image-cli").unwrap();
    fs::create_dir(work.path().join("tmp")).unwrap();
    let archive = image_archive(work.path());
    let event = work.path().join("event.json");
    fs::write(&event, GUIDE_EVENT_JSON).unwrap();
    let out = emulator_cmd(&[
        "invoke",
        archive.to_str().unwrap(),
        "--event",
        event.to_str().unwrap(),
    ])
    .output()
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    check_shape(&v);
    let ret: Value = serde_json::from_str(v["Result"]["RetMsg"].as_str().unwrap()).unwrap();
    assert_eq!(ret["body"], GUIDE_EVENT_JSON);
    assert_eq!(
        ret["headers"]["X-Scf-Name"], "function",
        "the archive's file name"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("InvokeResult: 0 (Success) Cold"),
        "{stderr}"
    );

    let emu = Running::serve(&archive, work.path(), &[]);
    let addr = emu.endpoint();
    let mut c = Client::connect(addr, Some(Duration::from_secs(20))).unwrap();
    let r = c
        .request("POST", "/invoke", GUIDE_EVENT_JSON.as_bytes())
        .unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(v["Result"]["InvokeResult"], 0, "{v}");
    assert_eq!(v["Emulator"]["Cold"], true);
    let body = format!(
        r#"{{"FunctionName":"function","ClientContext":{}}}"#,
        serde_json::to_string(GUIDE_EVENT_JSON).unwrap()
    );
    let r = c
        .request_with(
            "POST",
            "/",
            &[("X-TC-Action", "Invoke"), ("X-TC-Version", "2018-04-16")],
            body.as_bytes(),
        )
        .unwrap();
    let v: Value = serde_json::from_slice(&r.body).unwrap();
    let result = &v["Response"]["Result"];
    assert_eq!(result["InvokeResult"], 0, "{v}");
    let ret: Value = serde_json::from_str(result["RetMsg"].as_str().unwrap()).unwrap();
    assert_eq!(ret["body"], GUIDE_EVENT_JSON);
    assert_eq!(emu.terminate(), Some(128 + 15));

    let emu = Running::serve(&archive, work.path(), &["--apigw"]);
    let mut c = Client::connect(emu.endpoint(), Some(Duration::from_secs(20))).unwrap();
    let r = c.request("GET", "/hello?x=1", b"").unwrap();
    assert_eq!(
        (r.status(), r.text()),
        (200, "image function: GET /hello".to_string())
    );
    assert_eq!(r.header("content-type"), Some("text/plain"));
}

const GUIDE_EVENT_JSON: &str = scf_emulator::GUIDE_EVENT;
