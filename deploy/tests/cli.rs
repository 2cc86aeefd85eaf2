//! The `scf-deploy` command as a user runs it (the same code is `cargo scf
//! deploy`): help, one-line refusals, the dry run and --print-request
//! without credentials, the default zip, and whole deployments against a
//! fake SCF on loopback (`--endpoint`), which checks every request's
//! signature against what arrived.

mod common;

use common::*;
use serde_json::Value;

#[test]
fn help_shows_the_defaults_and_what_is_not_created() {
    for flag in ["--help", "-h"] {
        let (status, out, err) = outcome(&deploy(&[flag], &[]));
        assert_eq!((status, err.as_str()), (Some(0), ""));
        assert_eq!(out, scf_deploy::command::help("scf-deploy", &scf_deploy::Project::default()));
        assert!(out.contains("Usage: scf-deploy ZIP --name NAME [OPTIONS]"), "{out}");
        assert!(out.contains("Not created or changed: triggers"), "{out}");
    }
}

#[test]
fn settings_outside_the_documented_ranges_are_refused_in_one_line() {
    let dir = scratch("cli-ranges");
    let zip = good_zip(&dir);
    for (args, message) in [
        (&["--memory", "100"][..], "--memory 100: SCF takes 64 MB or 128 to 3072 MB in steps of 128"),
        (&["--timeout", "901"], "--timeout 901: must be 1 to 900 seconds"),
        (&["--init-timeout", "0"], "--init-timeout 0: must be 1 to 300 seconds"),
        (&["--name", "bad_"], "--name \"bad_\": must end with a letter or a digit"),
        (&["--handler", "main_handler"], "--handler \"main_handler\": must be FILE.FUNCTION"),
        (
            &["--endpoint", "http://example.com"],
            "--endpoint \"http://example.com\": plain http is taken only to loopback",
        ),
    ] {
        let argv = [&[zip.to_str().unwrap(), "--dry-run", "--name", "fn"][..], args].concat();
        let (status, out, err) = outcome(&deploy(&argv, &[]));
        assert_eq!((status, out.as_str()), (Some(1), ""), "{args:?}: {err}");
        assert!(err.starts_with(&format!("scf-deploy: error: {message}")), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
    }
}

#[test]
fn command_line_mistakes_exit_2_in_one_line() {
    for (args, message) in [
        (&["f.zip"][..], "--name is required: the function's name on SCF (see --help)"),
        (&["--nmae", "x"], "unknown option --nmae (did you mean --name?) (see --help)"),
        (&["--memory", "big", "--name", "fn"], "--memory: expected a whole number of MB, got \"big\" (see --help)"),
        (&["--name"], "missing argument for option '--name' (see --help)"),
    ] {
        let (status, out, err) = outcome(&deploy(args, &[]));
        assert_eq!((status, out.as_str()), (Some(2), ""), "{args:?}: {err}");
        assert_eq!(err, format!("scf-deploy: error: {message}\n"));
    }
}

#[test]
fn on_its_own_the_command_needs_a_zip() {
    // No project around scf-deploy: no default zip (cargo scf deploy's is
    // the one cargo scf build wrote, tested in src/command.rs).
    let (status, out, err) = outcome(&deploy(&["--dry-run", "--name", "fn"], &[]));
    assert_eq!((status, out.as_str()), (Some(2), ""));
    assert_eq!(err, "scf-deploy: error: ZIP is required: the function zip to deploy (see --help)\n");
}

#[test]
fn the_dry_run_needs_no_credentials_and_sends_nothing() {
    let dir = scratch("cli-dry-run");
    let zip = good_zip(&dir);
    let fake = FakeScf::start(Script::states(&[None]));
    let endpoint = fake.endpoint();
    let (status, out, err) =
        outcome(&deploy(&[zip.to_str().unwrap(), "--dry-run", "--name", "fn", "--endpoint", &endpoint], &[]));
    assert_eq!((status, err.as_str()), (Some(0), ""));
    let doc: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(doc["Endpoint"].as_str(), Some(format!("{endpoint}/").as_str()));
    assert_eq!(doc["Requests"].as_array().map(Vec::len), Some(4));
    assert_eq!(fake.actions(), Vec::<String>::new(), "nothing sent");
}

#[test]
fn without_credentials_one_line_names_the_variables() {
    let dir = scratch("cli-no-keys");
    let zip = good_zip(&dir);
    let (status, out, err) = outcome(&deploy(&[zip.to_str().unwrap(), "--name", "fn"], &[]));
    assert_eq!((status, out.as_str()), (Some(1), ""));
    assert_eq!(
        err,
        "scf-deploy: error: set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY \
         (and TENCENTCLOUD_SESSION_TOKEN for temporary keys)\n"
    );
}

/// Deploys the good zip to `fake` with `extra` arguments and the test keys.
fn deploy_to(fake: &FakeScf, name: &str, extra: &[&str], token: bool) -> (Option<i32>, String, String) {
    let dir = scratch(name);
    let zip = good_zip(&dir);
    let endpoint = fake.endpoint();
    let argv = [&[zip.to_str().unwrap(), "--name", "fn", "--endpoint", &endpoint][..], extra].concat();
    let (status, out, err) = outcome(&deploy(&argv, &keys(token)));
    for secret in [SECRET_KEY, TOKEN] {
        assert!(!out.contains(secret) && !err.contains(secret), "a secret was printed:\n{out}{err}");
    }
    (status, out, err)
}

#[test]
fn a_new_function_is_created_and_waited_for() {
    let fake = FakeScf::start(Script::states(&[None, Some("Creating"), Some("Active")]));
    let (status, out, err) = deploy_to(&fake, "cli-create", &["--memory", "128", "--region", "ap-shanghai"], true);
    assert_eq!((status, err.as_str()), (Some(0), ""), "{out}");
    assert_eq!(fake.actions(), ["GetFunction", "CreateFunction", "GetFunction", "GetFunction"]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[..4],
        [
            "creating fn in ap-shanghai/default",
            "fn: Creating",
            "fn: Active",
            "fn in ap-shanghai/default: Active, Runtime CustomRuntime, Handler index.main_handler, \
             MemorySize 64 MB, Timeout 3 s, InitTimeout 3 s, CodeSize 20000 B",
        ]
    );
    assert!(lines[4].starts_with("Not created or changed: triggers"), "{out}");
    let calls = fake.calls();
    for c in &calls {
        assert!(c.signed, "{}: the signature does not match what arrived: {:?}", c.action, c.headers);
        assert_eq!(c.header("x-tc-version"), Some("2018-04-16"));
        assert_eq!(c.header("x-tc-region"), Some("ap-shanghai"));
        assert_eq!(c.header("x-tc-token"), Some(TOKEN));
        assert_eq!(c.header("content-type"), Some("application/json"));
        assert!(c.header("authorization").unwrap().starts_with(&format!("TC3-HMAC-SHA256 Credential={SECRET_ID}/")));
    }
    let create = &calls[1].body;
    assert_eq!((create["Runtime"].as_str(), create["MemorySize"].as_u64()), (Some("CustomRuntime"), Some(128)));
    assert!(create["Code"]["ZipFile"].as_str().unwrap().starts_with("UEsDB"), "the whole zip, base64");
}

#[test]
fn an_existing_function_gets_its_code_then_its_configuration_updated() {
    let states = [Some("Active"), Some("Active"), Some("Updating"), Some("Active"), Some("Active")];
    let fake = FakeScf::start(Script::states(&states));
    let (status, out, err) = deploy_to(&fake, "cli-update", &["--timeout", "10"], false);
    assert_eq!((status, err.as_str()), (Some(0), ""), "{out}");
    assert_eq!(
        fake.actions(),
        [
            "GetFunction",
            "GetFunction",
            "UpdateFunctionCode",
            "GetFunction",
            "GetFunction",
            "UpdateFunctionConfiguration",
            "GetFunction"
        ]
    );
    let calls = fake.calls();
    assert!(calls.iter().all(|c| c.signed && c.header("x-tc-token").is_none()), "permanent keys: no token");
    assert_eq!(calls[5].body["Timeout"], 10);
    assert!(out.starts_with("updating fn in ap-guangzhou/default\nfn: Active\nfn: Updating\nfn: Active\n"), "{out}");
}

#[test]
fn a_failed_state_stops_with_scf_s_reasons_in_one_line() {
    let mut script = Script::states(&[None, Some("CreateFailed")]);
    script.reasons = vec!["bootstrap not found"];
    let fake = FakeScf::start(script);
    let (status, out, err) = deploy_to(&fake, "cli-failed", &[], false);
    assert_eq!(status, Some(1), "{out}");
    assert_eq!(out, "creating fn in ap-guangzhou/default\nfn: CreateFailed\n");
    assert_eq!(
        err,
        "scf-deploy: error: creating the function ended in CreateFailed: InternalError: bootstrap not found\n"
    );
}

#[test]
fn a_function_of_another_runtime_is_left_alone() {
    let mut script = Script::states(&[Some("Active")]);
    script.runtime = "Python3.9";
    let fake = FakeScf::start(script);
    let (status, _, err) = deploy_to(&fake, "cli-runtime", &[], false);
    assert_eq!(status, Some(1));
    assert_eq!(
        err,
        "scf-deploy: error: fn exists with Runtime Python3.9, not CustomRuntime: choose another --name or delete it\n"
    );
    assert_eq!(fake.actions(), ["GetFunction"]);
}

#[test]
fn a_function_that_never_settles_times_out() {
    let fake = FakeScf::start(Script::states(&[None, Some("Creating")]));
    let (status, _, err) = deploy_to(&fake, "cli-timeout", &["--wait", "0.6"], false);
    assert_eq!(status, Some(1));
    assert_eq!(err, "scf-deploy: error: still Creating after 1 s creating the function; see the SCF console\n");
}

#[test]
fn wrong_keys_are_named_without_being_shown() {
    let fake = FakeScf::start(Script::states(&[None]));
    let dir = scratch("cli-wrong-key");
    let zip = good_zip(&dir);
    let endpoint = fake.endpoint();
    let wrong = [("TENCENTCLOUD_SECRET_ID", SECRET_ID), ("TENCENTCLOUD_SECRET_KEY", "not-the-key-0123")];
    let (status, out, err) =
        outcome(&deploy(&[zip.to_str().unwrap(), "--name", "fn", "--endpoint", &endpoint], &wrong));
    assert_eq!((status, out.as_str()), (Some(1), ""));
    assert_eq!(
        err,
        "scf-deploy: error: GetFunction failed: AuthFailure.SignatureFailure: The provided credentials could not be \
         validated. (request req-err); check TENCENTCLOUD_SECRET_KEY\n"
    );
    assert!(!err.contains("not-the-key-0123"));
    assert_eq!(fake.actions(), ["GetFunction"], "nothing after a refused call");
}

#[test]
fn an_endpoint_that_is_not_api_3_0_is_named_in_one_line() {
    let mut script = Script::states(&[None]);
    script.raw = Some("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 25\r\n\r\n<html>bad gateway</html>\n");
    let fake = FakeScf::start(script);
    let (status, _, err) = deploy_to(&fake, "cli-gateway", &[], false);
    assert_eq!(status, Some(1));
    assert_eq!(
        err,
        "scf-deploy: error: GetFunction failed: the endpoint answered HTTP 502, not an API 3.0 response: \
         <html>bad gateway</html>\n"
    );
    // Nobody listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = scratch("cli-closed");
    let zip = good_zip(&dir);
    let endpoint = format!("http://127.0.0.1:{port}");
    let (status, _, err) =
        outcome(&deploy(&[zip.to_str().unwrap(), "--name", "fn", "--endpoint", &endpoint], &keys(false)));
    assert_eq!(status, Some(1));
    assert_eq!(err, format!("scf-deploy: error: GetFunction failed: cannot reach {endpoint}/: connection refused\n"));
}

#[test]
fn the_checkout_s_deploy_scf_deploy_runs_the_same_command_from_anywhere() {
    // From a directory whose cargo configuration names another target (as
    // a function project's names the musl one): the wrapper builds from
    // the checkout's root, so that configuration does not apply.
    let dir = scratch("cli-wrapper");
    std::fs::create_dir_all(dir.join(".cargo")).unwrap();
    std::fs::write(dir.join(".cargo/config.toml"), "[build]\ntarget = \"no-such-target\"\n").unwrap();
    let o = std::process::Command::new(root().join("deploy/scf-deploy"))
        .current_dir(&dir)
        .arg("--help")
        .output()
        .expect("run deploy/scf-deploy");
    let (status, out, err) = outcome(&o);
    assert_eq!((status, err.as_str()), (Some(0), ""));
    assert_eq!(out, scf_deploy::command::help("scf-deploy", &scf_deploy::Project::default()));
}

#[test]
fn docs_deploy_md_shows_the_help_as_the_command_prints_it() {
    let doc = std::fs::read_to_string(root().join("docs/deploy.md")).unwrap();
    // In a project named hello, as cargo-scf describes it.
    let hello = scf_deploy::Project { zip: Some("target/scf/hello.zip".into()), name: Some("hello".into()) };
    let help = scf_deploy::command::help("cargo scf deploy", &hello);
    assert!(
        doc.contains(&format!("```text\n{help}```\n")),
        "docs/deploy.md's copy of --help is not the command's:\n{help}"
    );
}

#[test]
fn a_proxy_in_the_environment_is_not_used_for_a_loopback_endpoint() {
    let fake = FakeScf::start(Script::states(&[Some("Active")]));
    let dir = scratch("cli-proxy");
    let zip = good_zip(&dir);
    let endpoint = fake.endpoint();
    // Nothing listens on port 9 (discard): a request sent there fails.
    let mut env = keys(false);
    for var in ["ALL_PROXY", "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy"] {
        env.push((var, "http://127.0.0.1:9"));
    }
    let (status, out, err) = outcome(&deploy(&[zip.to_str().unwrap(), "--name", "fn", "--endpoint", &endpoint], &env));
    assert_eq!((status, err.as_str()), (Some(0), ""), "{out}");
    assert_eq!(fake.actions()[..3], ["GetFunction", "GetFunction", "UpdateFunctionCode"]);
}
