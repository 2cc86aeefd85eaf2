//! `scf-emulator run --apigw`: HTTP requests in as SCF's API gateway event,
//! the function's integrated response out as the HTTP response; over plain
//! HTTP, and in headless Chromium. The function is
//! `tests/fixtures/apigw-page`, a Python bootstrap that serves a page.

mod common;

use common::*;
use scf_emulator::http::client::Client;
use serde_json::Value;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::Duration;

const T: Option<Duration> = Some(Duration::from_secs(10));

fn serve(extra: &[&str]) -> (Running, SocketAddr, scf_emulator::code::TempDir) {
    let dir = copy_fixture("apigw-page");
    let d = dir.path().to_str().unwrap().to_string();
    let emu = Running::start(
        &[
            &["run", &d, "--apigw", "--listen", "127.0.0.1:0", "--quiet"],
            extra,
        ]
        .concat(),
    );
    let addr = emu.endpoint();
    (emu, addr, dir)
}

#[test]
fn http_requests_become_gateway_events_and_answers_become_responses() {
    let (emu, addr, _dir) = serve(&[]);
    let mut c = Client::connect(addr, T).unwrap();

    let r = c
        .request("GET", "/hello/%E4%B8%96%E7%95%8C?name=scf&x=a+b", b"")
        .unwrap();
    assert_eq!(r.status(), 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let page = r.text();
    assert!(
        page.contains("<h1 id='greeting'>Hello from SCF, scf</h1>"),
        "{page}"
    );
    assert!(page.contains("path <b id='path'>/hello/世界</b>"), "{page}");
    assert_eq!(r.header("x-api-requestid").map(str::len), Some(36));

    // The event the function saw, in the gateway's shape.
    let r = c
        .request_with(
            "POST",
            "/event?k=v&k2=%20x",
            &[("X-Custom", "one")],
            b"{\"in\":\"body\"}",
        )
        .unwrap();
    assert_eq!(r.status(), 200);
    let ev: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(ev["httpMethod"], "POST");
    assert_eq!(ev["path"], "/event");
    assert_eq!(ev["body"], "{\"in\":\"body\"}");
    assert_eq!(ev["isBase64Encoded"], false);
    assert_eq!(ev["queryString"], serde_json::json!({"k": "v", "k2": " x"}));
    assert_eq!(ev["queryStringParameters"], ev["queryString"]);
    assert_eq!(ev["headers"]["x-custom"], "one");
    assert_eq!(ev["headers"]["host"], "localhost");
    assert_eq!(ev["requestContext"]["httpMethod"], "POST");
    assert_eq!(ev["requestContext"]["sourceIp"], "127.0.0.1");
    assert_eq!(ev["requestContext"]["stage"], "release");
    for k in ["pathParameters", "headerParameters"] {
        assert!(ev[k].is_object(), "{k}: {ev}");
    }
    // A body that is not UTF-8 travels base64-encoded.
    let r = c.request("PUT", "/event", &[0xff, 0x00, 0x80]).unwrap();
    let ev: Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(
        (&ev["body"], &ev["isBase64Encoded"]),
        (&"/wCA".into(), &true.into())
    );

    let r = c.request("GET", "/favicon.ico", b"").unwrap();
    assert_eq!((r.status(), r.text().as_str()), (404, "no icon\n"));

    // Not an integrated response: 502, saying why.
    let r = c.request("GET", "/?shape=bad", b"").unwrap();
    assert_eq!(r.status(), 502);
    assert!(
        r.text().starts_with("502 Bad Gateway: the function did not answer with an integrated response: its answer is not JSON"),
        "{}",
        r.text()
    );
    drop(emu);
}

#[test]
fn a_failed_invocation_is_a_502_naming_the_failure() {
    // The guide's echo answers text, and fails on "fail": neither is an
    // integrated response.
    let dir = copy_fixture("bash-curl-error");
    let emu = Running::serve(dir.path(), dir.path(), &["--apigw"]);
    let addr = emu.endpoint();
    let r = Client::connect(addr, T)
        .unwrap()
        .request("GET", "/please/fail", b"")
        .unwrap();
    assert_eq!(r.status(), 502);
    assert_eq!(
        r.text(),
        "502 Bad Gateway: the function failed (InvokeResult 430): parse event error\n"
    );
}

#[test]
fn a_browser_renders_the_page() {
    let Some(chromium) = chromium() else { return };
    let (emu, addr, dir) = serve(&[]);
    let url = format!("http://{addr}/hello?name=Chromium");
    let profile = dir.path().join("chromium-profile");
    let shot = dir.path().join("page.png");
    // One launch: the DOM on stdout and the screenshot in a file.
    let out = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=800,600",
            "--dump-dom",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--screenshot={}", shot.display()))
        .arg(&url)
        .stdin(Stdio::null())
        .output()
        .expect("run chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dom = String::from_utf8_lossy(&out.stdout);
    assert!(
        dom.contains("<h1 id=\"greeting\">Hello from SCF, Chromium</h1>"),
        "{dom}"
    );
    assert!(dom.contains("<b id=\"method\">GET</b>"), "{dom}");
    assert!(
        dom.contains("HeadlessChrome"),
        "the page shows the browser's user agent: {dom}"
    );
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "a PNG");
    let size = |at: usize| u32::from_be_bytes(png[at..at + 4].try_into().unwrap());
    assert_eq!((size(16), size(20)), (800, 600), "IHDR: the window's size");
    // A blank 800x600 page compresses to about 2.7 KB; this one's text and
    // colour took 25 KB on the development machine.
    assert!(
        png.len() > 10_000,
        "a rendered page, not a blank one: {} bytes",
        png.len()
    );
    drop(emu);
}
