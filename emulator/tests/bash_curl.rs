//! The emulator hosting the Custom Runtime guide's bash + curl bootstrap
//! (`tests/fixtures/bash-curl`, verbatim), checked on the Invoke JSON field
//! by field.

mod common;

use common::*;
use scf_emulator::code::TempDir;
use scf_emulator::report::SYNC_LIMIT;
use scf_emulator::{Emulator, FunctionConfig, Status};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// The guide's `index.sh`, verbatim.
fn guide_index_sh() -> String {
    fs::read_to_string(fixture("bash-curl/index.sh")).unwrap()
}

#[test]
fn success_cold_then_warm() {
    let dir = copy_fixture("bash-curl");
    let em = emulator(dir.path(), config(dir.path()));
    let r = em.invoke(EVENT.as_bytes());
    let v = json(&r);
    let res = &v["Result"];
    assert_eq!(res["InvokeResult"], 0, "{v}");
    assert_eq!(res["ErrMsg"], "");
    assert_eq!(res["RetMsg"], format!("Echoing request: '{EVENT}'"));
    // index.sh echoes the event to stderr.
    assert_eq!(res["Log"], format!("{EVENT}\n"));
    assert!(
        res["MemUsage"].as_u64().unwrap() > 100_000,
        "bash's peak RSS: {}",
        res["MemUsage"]
    );
    assert!(res["Duration"].as_f64().unwrap() > 0.0);
    assert_eq!(v["Emulator"]["Cold"], true);
    let init = v["Emulator"]["InitDurationUs"].as_u64().unwrap();
    assert!(init > 0 && init < 2_000_000, "init took {init} us");
    assert_eq!(v["Emulator"]["Polls"], 1);
    let pid = em.instance_pid().unwrap();

    let r2 = em.invoke(br#"{"second":true}"#);
    let v2 = json(&r2);
    assert_eq!(
        v2["Result"]["RetMsg"],
        r#"Echoing request: '{"second":true}'"#
    );
    assert_eq!(
        v2["Result"]["Log"], "{\"second\":true}\n",
        "only this invocation's output"
    );
    assert_eq!(v2["Emulator"]["Cold"], false);
    assert!(v2["Emulator"]["InitDurationUs"].is_null());
    assert_ne!(v2["RequestId"], v["RequestId"]);
    assert_eq!(em.instance_pid(), Some(pid), "warm: same instance");
    drop(em);
    assert!(wait_gone(pid), "dropping the emulator ends the instance");
}

#[test]
fn handler_error_goes_to_errmsg_and_keeps_the_instance() {
    let dir = copy_fixture("bash-curl-error");
    let em = emulator(dir.path(), config(dir.path()));
    let r = em.invoke(br#"{"please":"fail"}"#);
    let v = json(&r);
    assert_eq!(r.status, Status::UserCodeException);
    assert_eq!(v["Result"]["InvokeResult"], 430);
    assert_eq!(v["Result"]["ErrMsg"], "parse event error");
    assert_eq!(v["Result"]["RetMsg"], "");
    assert_eq!(v["Result"]["Log"], "{\"please\":\"fail\"}\n");
    assert_eq!(v["Emulator"]["StatusMessage"], "User code exception caught");
    let pid = em.instance_pid().unwrap();
    let v = json(&em.invoke(EVENT.as_bytes()));
    assert_eq!(v["Result"]["InvokeResult"], 0);
    assert_eq!(
        v["Emulator"]["Cold"], false,
        "an error push does not end the instance"
    );
    assert_eq!(em.instance_pid(), Some(pid));
}

#[test]
fn init_timeout_kills_the_instance_and_the_next_invoke_retries_init() {
    // Slow to initialize the first time only (a marker file remembers).
    let index = format!(
        "echo 'init starting' >&2\nif [ ! -e ./started-once ]; then touch ./started-once; sleep 30; fi\n{}",
        guide_index_sh()
    );
    let dir = bash_function(&index);
    let mut cfg = config(dir.path());
    cfg.init_timeout = Duration::from_secs(1);
    let em = emulator(dir.path(), cfg);
    let t = Instant::now();
    let r = em.invoke(EVENT.as_bytes());
    let took = t.elapsed();
    let v = json(&r);
    assert_eq!(r.status, Status::InitContainerTimeout, "{v}");
    assert_eq!(v["Result"]["InvokeResult"], 450);
    assert!(
        v["Result"]["ErrMsg"]
            .as_str()
            .unwrap()
            .contains("initialization timeout of 1 second"),
        "{v}"
    );
    assert_eq!(
        v["Result"]["Log"], "init starting\n",
        "init output is in the log"
    );
    assert_eq!(v["Result"]["RetMsg"], "");
    assert_eq!(
        v["Result"]["Duration"].as_f64(),
        Some(0.0),
        "nothing was dispatched"
    );
    assert_eq!(v["Emulator"]["Cold"], true);
    let init = v["Emulator"]["InitDurationUs"].as_u64().unwrap();
    assert!((1_000_000..1_900_000).contains(&init), "init ran {init} us");
    assert!(
        took < Duration::from_secs(3),
        "the 30 s sleep was killed: {took:?}"
    );
    assert_eq!(em.instance_pid(), None, "the instance is gone");

    let v = json(&em.invoke(EVENT.as_bytes()));
    assert_eq!(v["Result"]["InvokeResult"], 0, "{v}");
    assert_eq!(v["Emulator"]["Cold"], true);
    assert_eq!(
        v["Result"]["Log"],
        format!("init starting\n{EVENT}\n"),
        "init output joins the first log"
    );
}

#[test]
fn exit_during_init_reports_its_stderr() {
    let index = format!(
        "echo 'init failed: no config' >&2\nexit 7\n{}",
        guide_index_sh()
    );
    let dir = bash_function(&index);
    let em = emulator(dir.path(), config(dir.path()));
    let r = em.invoke(EVENT.as_bytes());
    let v = json(&r);
    assert_eq!(r.status, Status::ContainerStateExited, "{v}");
    assert_eq!(v["Result"]["InvokeResult"], 405);
    assert!(
        v["Result"]["ErrMsg"]
            .as_str()
            .unwrap()
            .contains("exit code 7"),
        "{v}"
    );
    assert_eq!(v["Result"]["Log"], "init failed: no config\n");
    assert_eq!(v["Emulator"]["Cold"], true);
    assert!(v["Emulator"]["InitDurationUs"].as_u64().is_some());
    assert_eq!(em.instance_pid(), None);
}

#[test]
fn invocation_timeout_then_cold_start() {
    let index = "function main_handler () {\n\
                 echo \"handling $1\" >&2\n\
                 case \"$1\" in *sleep*) sleep 30 ;; esac\n\
                 echo \"done $1\"\n}\n";
    let dir = bash_function(index);
    let em = emulator(dir.path(), config(dir.path()));
    let first = json(&em.invoke(br#"{"warm":"up"}"#));
    assert_eq!(first["Result"]["InvokeResult"], 0);
    let pid = em.instance_pid().unwrap();

    let t = Instant::now();
    let r = em.invoke(br#"{"sleep":true}"#);
    let took = t.elapsed();
    let v = json(&r);
    assert_eq!(r.status, Status::TimeLimitReached, "{v}");
    assert_eq!(v["Result"]["InvokeResult"], 433);
    assert_eq!(
        v["Result"]["ErrMsg"],
        "Invoking task timed out after 1 second"
    );
    assert_eq!(v["Result"]["RetMsg"], "");
    assert_eq!(v["Result"]["Log"], "handling {\"sleep\":true}\n");
    let ms = v["Result"]["Duration"].as_f64().unwrap();
    assert!(
        (1000.0..1500.0).contains(&ms),
        "Duration {ms} ms is the timeout"
    );
    assert!(v["Result"]["BillDuration"].as_u64().unwrap() >= 1000);
    assert!(v["Result"]["MemUsage"].as_u64().unwrap() > 0);
    assert_eq!(v["Emulator"]["Cold"], false);
    assert!(took < Duration::from_secs(3), "{took:?}");
    assert!(
        wait_gone(pid),
        "the timed-out instance's process group is killed"
    );
    assert_eq!(em.instance_pid(), None);

    let v = json(&em.invoke(br#"{"after":"timeout"}"#));
    assert_eq!(v["Result"]["InvokeResult"], 0, "{v}");
    assert_eq!(v["Result"]["RetMsg"], r#"done {"after":"timeout"}"#);
    assert_eq!(
        v["Emulator"]["Cold"], true,
        "the next invocation cold-starts"
    );
    assert!(v["Emulator"]["InitDurationUs"].as_u64().is_some());
    assert_ne!(em.instance_pid(), Some(pid));
}

#[test]
fn crash_mid_invocation_is_439_and_recycles_the_instance() {
    let index = "function main_handler () {\n\
                 case \"$1\" in *crash*) echo 'about to crash' >&2; exit 3 ;; esac\n\
                 echo \"ok $1\"\n}\n";
    let dir = bash_function(index);
    let em = emulator(dir.path(), config(dir.path()));
    let r = em.invoke(br#"{"crash":1}"#);
    let v = json(&r);
    assert_eq!(r.status, Status::UserProcessExit, "{v}");
    assert_eq!(v["Result"]["InvokeResult"], 439);
    let err = v["Result"]["ErrMsg"].as_str().unwrap();
    assert!(err.starts_with("User process exit when running"), "{err}");
    assert!(err.contains("exit code 3"), "{err}");
    assert_eq!(v["Emulator"]["ExitCode"], 3);
    assert!(v["Emulator"].get("ExitSignal").is_none());
    assert_eq!(v["Result"]["Log"], "about to crash\n");
    assert_eq!(v["Result"]["RetMsg"], "");
    assert!(v["Result"]["Duration"].as_f64().unwrap() > 0.0);
    assert_eq!(v["Emulator"]["Cold"], true);
    assert_eq!(em.instance_pid(), None);
    let v = json(&em.invoke(br#"{"fine":1}"#));
    assert_eq!(v["Result"]["RetMsg"], r#"ok {"fine":1}"#);
    assert_eq!(v["Emulator"]["Cold"], true);
}

#[test]
fn missing_bootstrap_is_a_start_failure() {
    let dir = TempDir::new("scf-emu-test").unwrap();
    fs::write(dir.path().join("index.sh"), guide_index_sh()).unwrap();
    let em = emulator(dir.path(), config(dir.path()));
    let r = em.invoke(EVENT.as_bytes());
    let v = json(&r);
    assert_eq!(r.status, Status::ContainerInitError);
    assert_eq!(v["Result"]["InvokeResult"], 445);
    assert!(
        v["Result"]["ErrMsg"]
            .as_str()
            .unwrap()
            .contains("bootstrap file not found"),
        "{v}"
    );
    assert_eq!(v["Result"]["Log"], "");
    assert_eq!(v["Result"]["MemUsage"], 0);
    assert_eq!(v["Emulator"]["Cold"], true);
    assert!(v["Emulator"]["InitDurationUs"].is_null());
}

#[test]
fn non_executable_bootstrap_is_a_start_failure() {
    let dir = copy_fixture("bash-curl");
    fs::set_permissions(
        dir.path().join("bootstrap"),
        fs::Permissions::from_mode(0o644),
    )
    .unwrap();
    let em = emulator(dir.path(), config(dir.path()));
    let r = em.invoke(EVENT.as_bytes());
    let v = json(&r);
    assert_eq!(v["Result"]["InvokeResult"], 445, "{v}");
    assert!(
        v["Result"]["ErrMsg"]
            .as_str()
            .unwrap()
            .contains("not executable (mode 644"),
        "{v}"
    );
    // A directory named bootstrap is no better.
    let dir = TempDir::new("scf-emu-test").unwrap();
    fs::create_dir(dir.path().join("bootstrap")).unwrap();
    let v = json(&emulator(dir.path(), config(dir.path())).invoke(EVENT.as_bytes()));
    assert_eq!(v["Result"]["InvokeResult"], 445);
    assert!(
        v["Result"]["ErrMsg"]
            .as_str()
            .unwrap()
            .contains("not a regular file"),
        "{v}"
    );
}

#[test]
fn oversized_and_non_json_events_are_refused_without_starting() {
    let dir = copy_fixture("bash-curl");
    let em = emulator(dir.path(), config(dir.path()));
    let mut big = br#"{"pad":""#.to_vec();
    big.resize(SYNC_LIMIT - 1, b'x');
    big.extend_from_slice(b"\"}");
    assert_eq!(big.len(), SYNC_LIMIT + 1);
    let r = em.invoke(&big);
    let v = json(&r);
    assert_eq!(r.status, Status::RequestTooLarge);
    assert_eq!(v["Result"]["InvokeResult"], 406);
    assert!(
        v["Result"]["ErrMsg"]
            .as_str()
            .unwrap()
            .contains("6291457 bytes"),
        "{v}"
    );
    assert_eq!(v["Emulator"]["Cold"], false);
    assert_eq!(em.instance_pid(), None, "no instance was started for it");

    let r = em.invoke(b"not json");
    let v = json(&r);
    assert_eq!(v["Result"]["InvokeResult"], 400);
    assert!(v["Result"]["ErrMsg"]
        .as_str()
        .unwrap()
        .starts_with("InvalidParameterValue"));
    assert_eq!(em.instance_pid(), None);

    let mut cfg = config(dir.path());
    cfg.require_json = false;
    let v = json(&emulator(dir.path(), cfg).invoke(b"not json"));
    assert_eq!(v["Result"]["RetMsg"], "Echoing request: 'not json'");
}

#[test]
fn oversized_response_is_407() {
    let dir = copy_fixture("big-response");
    let em = emulator(dir.path(), config(dir.path()));
    let r = em.invoke(EVENT.as_bytes());
    let v = json(&r);
    assert_eq!(r.status, Status::ResponseTooLarge, "{v}");
    assert_eq!(v["Result"]["InvokeResult"], 407);
    assert!(v["Result"]["ErrMsg"]
        .as_str()
        .unwrap()
        .starts_with("The size of response exceeds the upper limit (6MB)"));
    assert_eq!(v["Result"]["RetMsg"], "");
    // Exactly 6 MB is allowed.
    let mut cfg = config(dir.path());
    cfg.env
        .push(("RESPONSE_BYTES".into(), (SYNC_LIMIT).to_string()));
    let r = emulator(dir.path(), cfg).invoke(EVENT.as_bytes());
    assert_eq!(r.status, Status::Success);
    assert_eq!(r.ret_msg.len(), SYNC_LIMIT);
}

#[test]
fn log_capture_attribution_and_4kb_tail() {
    let index = "echo 'init line (stdout)'\necho 'init line (stderr)' >&2\n\
                 function main_handler () {\n\
                 case \"$1\" in *big*) for i in $(seq 1 400); do echo \"line $i of a long log\" >&2; done ;; esac\n\
                 echo \"handler stderr for $1\" >&2\n\
                 echo ok\n}\n";
    let dir = bash_function(index);
    let em = emulator(dir.path(), config(dir.path()));
    let log1 = json(&em.invoke(br#"{"n":1}"#))["Result"]["Log"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        log1.contains("init line (stdout)\n") && log1.contains("init line (stderr)\n"),
        "{log1}"
    );
    assert!(log1.ends_with("handler stderr for {\"n\":1}\n"), "{log1}");
    let log2 = json(&em.invoke(br#"{"n":2}"#))["Result"]["Log"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        log2, "handler stderr for {\"n\":2}\n",
        "init output only joins the first log"
    );
    let log3 = json(&em.invoke(br#"{"big":3}"#))["Result"]["Log"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(log3.len(), 4096, "tail-truncated to 4 KB");
    assert!(log3.ends_with("line 400 of a long log\nhandler stderr for {\"big\":3}\n"));
    assert!(!log3.contains("line 1 of a long log\n"));
}

#[test]
fn concurrent_invokes_are_queued_one_at_a_time() {
    let index = "function main_handler () {\nsleep 0.2\necho \"done $1 in $$\"\n}\n";
    let dir = bash_function(index);
    let em = Arc::new(emulator(dir.path(), config(dir.path())));
    let t = Instant::now();
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let em = em.clone();
            thread::spawn(move || em.invoke(format!("{{\"n\":{i}}}").as_bytes()))
        })
        .collect();
    let reports: Vec<_> = handles.into_iter().map(|h| h.join().unwrap()).collect();
    let took = t.elapsed();
    let pid = em.instance_pid().unwrap();
    for (i, r) in reports.iter().enumerate() {
        let v = json(r);
        assert_eq!(v["Result"]["InvokeResult"], 0, "{v}");
        assert_eq!(
            v["Result"]["RetMsg"],
            format!("done {{\"n\":{i}}} in {pid}"),
            "each caller gets its own result"
        );
        let ms = v["Result"]["Duration"].as_f64().unwrap();
        assert!(
            (200.0..800.0).contains(&ms),
            "Duration {ms} excludes time spent queued"
        );
    }
    assert_eq!(
        reports.iter().filter(|r| r.cold).count(),
        1,
        "one cold start, then warm"
    );
    assert!(
        took >= Duration::from_millis(800),
        "served one at a time: {took:?}"
    );
}

#[test]
fn environment_and_working_directory() {
    let index = "function main_handler () {\n\
                 echo \"$_HANDLER|$SCF_FUNCTIONNAME|$SCF_FUNCTIONVERSION|$SCF_NAMESPACE|$TENCENTCLOUD_REGION|$TENCENTCLOUD_RUNENV|$TENCENTCLOUD_APPID|$TENCENTCLOUD_UIN|$SCF_RUNTIME_API|$MY_VAR|$(pwd)|${HOME:-nohome}\"\n\
                 }\n";
    let dir = bash_function(index);
    let mut cfg: FunctionConfig = config(dir.path());
    cfg.name = "demo".into();
    cfg.env.push(("MY_VAR".into(), "my value".into()));
    let em = emulator(dir.path(), cfg);
    let r = em.invoke(b"{}");
    assert_eq!(r.status, Status::Success, "{}", r.to_json());
    let root = fs::canonicalize(dir.path()).unwrap();
    assert_eq!(
        r.ret_msg,
        format!(
            "index.main_handler|demo|$LATEST|default|ap-guangzhou|SCF|1250000000|100000000001|127.0.0.1|my value|{}|nohome",
            root.display()
        )
    );
}

#[test]
fn zip_packages_keep_unix_modes() {
    let bootstrap = fs::read(fixture("bash-curl/bootstrap")).unwrap();
    let index = fs::read(fixture("bash-curl/index.sh")).unwrap();
    let work = TempDir::new("scf-emu-zip").unwrap();
    let zip = scf_emulator::zip::write_stored(&[
        ("bootstrap", 0o100755, &bootstrap),
        ("index.sh", 0o100755, &index),
    ]);
    let zip_path = work.path().join("demo.zip");
    fs::write(&zip_path, zip).unwrap();
    let em = Emulator::new(
        scf_emulator::FunctionCode::load(&zip_path).unwrap(),
        config(work.path()),
    );
    assert_eq!(em.code().default_name(), "demo");
    let v = json(&em.invoke(EVENT.as_bytes()));
    assert_eq!(
        v["Result"]["RetMsg"],
        format!("Echoing request: '{EVENT}'"),
        "{v}"
    );
    let unpacked = em.code().root().to_path_buf();
    drop(em);
    assert!(!unpacked.exists(), "the unpacked copy is removed");

    // Without the executable bit (as from a Windows zip tool): start failure.
    let zip = scf_emulator::zip::write_stored(&[
        ("bootstrap", 0o100644, &bootstrap),
        ("index.sh", 0o100644, &index),
    ]);
    fs::write(&zip_path, zip).unwrap();
    let em = Emulator::new(
        scf_emulator::FunctionCode::load(&zip_path).unwrap(),
        config(work.path()),
    );
    assert_eq!(
        json(&em.invoke(EVENT.as_bytes()))["Result"]["InvokeResult"],
        445
    );
}
