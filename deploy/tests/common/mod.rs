//! Shared by deploy/'s integration tests: ELF and zip fixtures, the
//! `scf-deploy` binary, a fake SCF on loopback, and Tencent's Python SDK.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::VecDeque;
use std::io::{Cursor, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// An emptied scratch directory `name` under cargo's test tmpdir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scf-deploy").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A minimal ELF-64 little-endian executable: one PT_LOAD, a PT_INTERP
/// naming `interp` when given, and a PT_DYNAMIC holding `dynamic`'s (tag,
/// value) entries when given.
pub fn elf(machine: u16, interp: Option<&[u8]>, dynamic: Option<&[(i64, u64)]>) -> Vec<u8> {
    const PT_LOAD: u32 = 1;
    const PT_DYNAMIC: u32 = 2;
    const PT_INTERP: u32 = 3;
    let mut segments: Vec<(u32, Vec<u8>)> = Vec::new();
    if let Some(i) = interp {
        segments.push((PT_INTERP, [i, b"\0"].concat()));
    }
    if let Some(entries) = dynamic {
        let body = entries.iter().flat_map(|(t, v)| [t.to_le_bytes(), v.to_le_bytes()].concat()).collect();
        segments.push((PT_DYNAMIC, body));
    }
    segments.push((PT_LOAD, vec![0; 16]));
    let mut head = vec![0u8; 64];
    head[..7].copy_from_slice(b"\x7fELF\x02\x01\x01");
    head[16..18].copy_from_slice(&2u16.to_le_bytes()); // ET_EXEC
    head[18..20].copy_from_slice(&machine.to_le_bytes());
    head[32..40].copy_from_slice(&64u64.to_le_bytes()); // e_phoff
    head[52..54].copy_from_slice(&64u16.to_le_bytes()); // e_ehsize
    head[54..56].copy_from_slice(&56u16.to_le_bytes()); // e_phentsize
    head[56..58].copy_from_slice(&(segments.len() as u16).to_le_bytes());
    let (mut table, mut data) = (Vec::new(), Vec::new());
    let mut at = 64 + 56 * segments.len() as u64;
    for (p_type, body) in &segments {
        table.extend_from_slice(&p_type.to_le_bytes());
        table.extend_from_slice(&5u32.to_le_bytes()); // p_flags: R X
        for field in [at, 0, 0, body.len() as u64, body.len() as u64, 8] {
            table.extend_from_slice(&field.to_le_bytes());
        }
        data.extend_from_slice(body);
        at += body.len() as u64;
    }
    [head, table, data].concat()
}

/// A static x86_64 executable.
pub fn static_elf() -> Vec<u8> {
    elf(62, None, None)
}

/// A zip of `(name, contents, Unix st_mode or None for an entry made
/// without Unix modes)`, deflated.
pub fn make_zip(members: &[(&str, &[u8], Option<u32>)]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut w = zip::ZipWriter::new(Cursor::new(Vec::new()));
    for (name, data, mode) in members {
        let opts = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        let opts = match mode {
            Some(m) if m & 0o170_000 == 0o120_000 => {
                w.add_symlink(*name, String::from_utf8_lossy(data), opts.unix_permissions(*m)).unwrap();
                continue;
            }
            Some(m) => opts.unix_permissions(*m),
            None => opts,
        };
        w.start_file(*name, opts).unwrap();
        w.write_all(data).unwrap();
    }
    let mut bytes = w.finish().unwrap().into_inner();
    for (name, _, mode) in members {
        if mode.is_none() {
            set_made_by_dos(&mut bytes, name);
        }
    }
    bytes
}

/// Rewrites `name`'s central directory record as made on MS-DOS (host 0)
/// with no external attributes: a zip from a tool without Unix modes.
fn set_made_by_dos(zip: &mut [u8], name: &str) {
    let sig = 0x0201_4b50u32.to_le_bytes();
    let mut at = 0;
    while let Some(off) = zip[at..].windows(4).position(|w| w == sig) {
        let rec = at + off;
        let name_len = u16::from_le_bytes([zip[rec + 28], zip[rec + 29]]) as usize;
        if &zip[rec + 46..rec + 46 + name_len] == name.as_bytes() {
            zip[rec + 5] = 0;
            zip[rec + 38..rec + 42].copy_from_slice(&[0; 4]);
            return;
        }
        at = rec + 4;
    }
    panic!("no central record for {name}");
}

/// The zip of the runtime's own shape: a static x86_64 `bootstrap`, 0755.
pub fn good_zip(dir: &Path) -> PathBuf {
    let path = dir.join("function.zip");
    std::fs::write(&path, make_zip(&[("bootstrap", &static_elf(), Some(0o100_755))])).unwrap();
    path
}

/// The credentials every test signs with; the fake SCF checks them.
pub const SECRET_ID: &str = "AKIDtest0123456789";
pub const SECRET_KEY: &str = "test-secret-key-never-printed";
pub const TOKEN: &str = "test-session-token-never-printed";

/// `scf-deploy ARGS` in `dir`, with no TENCENTCLOUD_* variable but `env`.
pub fn deploy_in(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_scf-deploy"));
    cmd.current_dir(dir).args(args).stdin(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("TENCENTCLOUD_") {
            cmd.env_remove(k);
        }
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run scf-deploy")
}

/// [`deploy_in`] the current directory.
pub fn deploy(args: &[&str], env: &[(&str, &str)]) -> Output {
    deploy_in(Path::new("."), args, env)
}

/// The keys as environment variables; `token` adds the session token.
pub fn keys(token: bool) -> Vec<(&'static str, &'static str)> {
    let mut env = vec![("TENCENTCLOUD_SECRET_ID", SECRET_ID), ("TENCENTCLOUD_SECRET_KEY", SECRET_KEY)];
    if token {
        env.push(("TENCENTCLOUD_SESSION_TOKEN", TOKEN));
    }
    env
}

/// (exit status, stdout, stderr).
pub fn outcome(o: &Output) -> (Option<i32>, String, String) {
    (o.status.code(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

/// GetFunction's answer for a function in `status`, in the SDK's shape
/// (`deploy/tests/sdk.rs` loads it into `GetFunctionResponse`).
pub fn function_json(name: &str, status: &str, runtime: &str, reasons: &[&str]) -> Value {
    let reasons: Vec<Value> =
        reasons.iter().map(|r| json!({"ErrorCode": "InternalError", "ErrorMessage": r})).collect();
    json!({"FunctionName": name, "Status": status, "Runtime": runtime, "Handler": "index.main_handler",
           "MemorySize": 64, "Timeout": 3, "InitTimeout": 3, "CodeSize": 20000, "StatusDesc": "",
           "StatusReasons": reasons, "RequestId": "req-get"})
}

/// One request the fake SCF received.
#[derive(Debug, Clone)]
pub struct Call {
    /// `X-TC-Action`.
    pub action: String,
    /// Every header, names lowercased, in arrival order.
    pub headers: Vec<(String, String)>,
    /// The JSON body.
    pub body: Value,
    /// Whether `Authorization` is the signature of what arrived (Host,
    /// Content-Type, X-TC-Timestamp, the body) with the test keys.
    pub signed: bool,
}

impl Call {
    /// The value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// How the fake answers.
pub struct Script {
    /// GetFunction's answers in turn (`None`: no such function); the last
    /// one repeats.
    pub states: VecDeque<Option<&'static str>>,
    /// The existing function's runtime.
    pub runtime: &'static str,
    /// StatusReasons of every answer.
    pub reasons: Vec<&'static str>,
    /// Answer every request with this raw HTTP response instead.
    pub raw: Option<&'static str>,
}

impl Script {
    pub fn states(states: &[Option<&'static str>]) -> Script {
        Script { states: states.iter().copied().collect(), runtime: "CustomRuntime", reasons: vec![], raw: None }
    }
}

/// A fake SCF API 3.0 endpoint on 127.0.0.1: answers GetFunction from a
/// [`Script`], accepts the other actions, refuses a request whose
/// signature does not match what arrived (AuthFailure.SignatureFailure),
/// and records every call. Stopped when dropped.
pub struct FakeScf {
    addr: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeScf {
    pub fn start(script: Script) -> FakeScf {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let calls = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (c, s) = (calls.clone(), stop.clone());
        let script = Arc::new(Mutex::new(script));
        let thread = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let (c, script) = (c.clone(), script.clone());
                std::thread::spawn(move || serve(conn, &c, &script));
            }
        });
        FakeScf { addr, calls, stop, thread: Some(thread) }
    }

    /// The `--endpoint` to give scf-deploy.
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    pub fn actions(&self) -> Vec<String> {
        self.calls().into_iter().map(|c| c.action).collect()
    }
}

impl Drop for FakeScf {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves one connection: requests in turn until it closes (keep-alive),
/// read by the test kit's framer (scf_emulator::http).
fn serve(conn: TcpStream, calls: &Mutex<Vec<Call>>, script: &Mutex<Script>) {
    let mut conn = scf_emulator::http::Conn::new(conn);
    loop {
        let Ok(Some(raw)) = conn.read_head_bytes() else { return };
        let Ok(head) = scf_emulator::http::parse_request_head(&raw) else { return };
        let Ok(framing) = head.framing() else { return };
        let Ok(body) = conn.read_body(framing, 64 << 20) else { return };
        let headers: Vec<(String, String)> =
            head.headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.clone())).collect();
        let answer = answer(&headers, &body, calls, script);
        if conn.send(answer.as_bytes()).is_err() {
            return;
        }
    }
}

fn answer(headers: &[(String, String)], body: &[u8], calls: &Mutex<Vec<Call>>, script: &Mutex<Script>) -> String {
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap_or_default();
    let mut script = script.lock().unwrap();
    if let Some(raw) = script.raw {
        return raw.to_string();
    }
    let action = get("x-tc-action");
    let token = headers.iter().any(|(n, _)| n == "x-tc-token").then(|| get("x-tc-token"));
    let cred = scf_deploy::tc3::Credentials::new(SECRET_ID, SECRET_KEY, token.as_deref()).unwrap();
    let host = get("host");
    let timestamp = get("x-tc-timestamp").parse().unwrap_or(0);
    let (version, region) = (get("x-tc-version"), get("x-tc-region"));
    let req = scf_deploy::tc3::Request {
        service: "scf",
        host: &host,
        action: &action,
        version: &version,
        region: &region,
        payload: body,
    };
    let expected = scf_deploy::tc3::sign(&cred, &req, timestamp).pop().unwrap().1;
    let signed = get("authorization") == expected && get("content-type") == scf_deploy::tc3::CONTENT_TYPE;
    let params: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    calls.lock().unwrap().push(Call {
        action: action.clone(),
        headers: headers.to_vec(),
        body: params.clone(),
        signed,
    });
    let error =
        |code: &str, message: &str| json!({"Error": {"Code": code, "Message": message}, "RequestId": "req-err"});
    let response = if !signed {
        error("AuthFailure.SignatureFailure", "The provided credentials could not be validated.")
    } else if action == "GetFunction" {
        let state = if script.states.len() > 1 { script.states.pop_front().unwrap() } else { script.states[0] };
        match state {
            None => error("ResourceNotFound.Function", "the function does not exist"),
            Some(status) => {
                function_json(params["FunctionName"].as_str().unwrap_or(""), status, script.runtime, &script.reasons)
            }
        }
    } else {
        json!({"RequestId": format!("req-{action}")})
    };
    let text = json!({ "Response": response }).to_string();
    format!("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{text}", text.len())
}

#[path = "../../../emulator/tests/common/tools.rs"]
mod tools;
#[allow(unused_imports)]
pub use tools::{require_tool, sdk_python};

/// Runs deploy/tests/sdk/sdk.py `command` on `cases`; its results.
pub fn sdk(python: &Path, command: &str, cases: &Value) -> Vec<Value> {
    let mut child = Command::new(python)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/sdk/sdk.py"))
        .arg(command)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run python");
    let input = cases.to_string();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "sdk.py {command}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("sdk.py prints JSON")
}
