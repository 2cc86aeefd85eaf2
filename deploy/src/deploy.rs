//! The deployment: GetFunction, then CreateFunction, or UpdateFunctionCode
//! and UpdateFunctionConfiguration, each followed by polling GetFunction
//! until the function is `Active`, printing each state seen; a state
//! ending in `Failed` stops it with SCF's reasons.
//!
//! Failure policy: every fault ends the deployment with one line
//! ([`Refused`]); nothing is retried (a retried CreateFunction after a lost
//! answer would fail on the function it made), and what was already done
//! in the cloud stays done: the line says which step failed.

use crate::api::{ApiError, Scf};
use crate::requests::{Action, Plan};
use crate::settings::RUNTIME;
use serde::Deserialize;
use std::io::Write;
use std::time::{Duration, Instant};

/// A one-line reason the deployment stopped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

/// The GetFunction fields the deployment reads (SDK: `GetFunctionResponse`).
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Function {
    /// FunctionName.
    pub function_name: String,
    /// `Active`, `Creating`, `Updating`, `CreateFailed`...
    pub status: String,
    /// Why the status is what it is, in words.
    pub status_desc: String,
    /// Why a `...Failed` status failed.
    pub status_reasons: Vec<StatusReason>,
    /// Runtime.
    pub runtime: String,
    /// Handler.
    pub handler: String,
    /// MemorySize, MB.
    pub memory_size: u64,
    /// Timeout, s.
    pub timeout: u64,
    /// InitTimeout, s.
    pub init_timeout: u64,
    /// CodeSize, bytes.
    pub code_size: u64,
}

/// One of GetFunction's `StatusReasons`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct StatusReason {
    /// ErrorCode.
    pub error_code: String,
    /// ErrorMessage.
    pub error_message: String,
}

/// Time, for the waits: real, or the tests' fake.
pub trait Clock {
    /// Time since some fixed start.
    fn now(&mut self) -> Duration;
    /// Waits `d`.
    fn sleep(&mut self, d: Duration);
}

/// The machine's monotonic clock.
pub struct RealClock(Instant);

impl Default for RealClock {
    fn default() -> RealClock {
        RealClock(Instant::now())
    }
}

impl Clock for RealClock {
    fn now(&mut self) -> Duration {
        self.0.elapsed()
    }
    fn sleep(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// The first pause between two GetFunction polls; each next one doubles,
/// up to [`POLL_MAX`].
pub const POLL_FIRST: Duration = Duration::from_millis(500);
/// See [`POLL_FIRST`].
pub const POLL_MAX: Duration = Duration::from_secs(5);

/// One deployment against `scf`, printing its progress to `out`.
pub struct Deployer<'a> {
    /// The API.
    pub scf: &'a mut dyn Scf,
    /// Where the progress lines go.
    pub out: &'a mut dyn Write,
    /// The waits' clock.
    pub clock: &'a mut dyn Clock,
    /// How long each wait for `Active` may take.
    pub wait_limit: Duration,
}

impl Deployer<'_> {
    fn say(&mut self, line: &str) {
        // Progress is best effort: a closed stdout does not stop a deployment.
        let _ = writeln!(self.out, "{line}");
        let _ = self.out.flush();
    }

    fn call(&mut self, plan: &Plan<'_>, action: Action) -> Result<serde_json::Value, Refused> {
        self.scf.call(action, &plan.body(action)).map_err(|e| Refused(format!("{} failed: {e}", action.name())))
    }

    /// GetFunction's answer, or `None` when the function does not exist
    /// (error code `ResourceNotFound.Function`, or any `ResourceNotFound`).
    fn get(&mut self, plan: &Plan<'_>) -> Result<Option<Function>, Refused> {
        match self.scf.call(Action::GetFunction, &plan.body(Action::GetFunction)) {
            Ok(v) => serde_json::from_value(v)
                .map(Some)
                .map_err(|e| Refused(format!("GetFunction answered in an unexpected shape: {e}"))),
            Err(ApiError::Api { code, .. }) if code.starts_with("ResourceNotFound") => Ok(None),
            Err(e) => Err(Refused(format!("GetFunction failed: {e}"))),
        }
    }

    /// Polls GetFunction until `Active`; prints each state seen.
    fn wait_active(&mut self, plan: &Plan<'_>, what: &str) -> Result<Function, Refused> {
        let start = self.clock.now();
        let mut delay = POLL_FIRST;
        let mut seen: Option<String> = None;
        loop {
            let Some(f) = self.get(plan)? else {
                return Err(Refused(format!("the function disappeared while {what}")));
            };
            if seen.as_deref() != Some(&f.status) {
                self.say(&format!("{}: {}", f.function_name, f.status));
                seen = Some(f.status.clone());
            }
            if f.status == "Active" {
                return Ok(f);
            }
            if f.status.ends_with("Failed") {
                let reasons: Vec<String> =
                    f.status_reasons.iter().map(|r| format!("{}: {}", r.error_code, r.error_message)).collect();
                let why = if reasons.is_empty() {
                    let desc = if f.status_desc.is_empty() { "no reason given" } else { &f.status_desc };
                    format!(" ({desc})")
                } else {
                    format!(": {}", reasons.join("; "))
                };
                return Err(Refused(format!("{what} ended in {}{why}", f.status)));
            }
            if self.clock.now().saturating_sub(start) > self.wait_limit {
                return Err(Refused(format!(
                    "still {} after {:.0} s {what}; see the SCF console",
                    f.status,
                    self.wait_limit.as_secs_f64()
                )));
            }
            self.clock.sleep(delay);
            delay = (delay * 2).min(POLL_MAX);
        }
    }

    /// Creates or updates the function of `plan`, and waits until it is
    /// `Active`; its final state.
    pub fn deploy(&mut self, plan: &Plan<'_>) -> Result<Function, Refused> {
        let s = plan.settings().clone();
        let f = match self.get(plan)? {
            None => {
                self.say(&format!("creating {} in {}/{}", s.name, s.region, s.namespace));
                self.call(plan, Action::CreateFunction)?;
                self.wait_active(plan, "creating the function")?
            }
            Some(existing) => {
                if existing.runtime != RUNTIME {
                    return Err(Refused(format!(
                        "{} exists with Runtime {}, not {RUNTIME}: choose another --name or delete it",
                        s.name, existing.runtime
                    )));
                }
                self.say(&format!("updating {} in {}/{}", s.name, s.region, s.namespace));
                // An update is refused while the function is changing.
                self.wait_active(plan, "waiting for the function to settle")?;
                self.call(plan, Action::UpdateFunctionCode)?;
                // This takes the next Active as the update's end, assuming
                // SCF marks the function Updating when it accepts the call
                // (as its console shows; not checked against a document).
                self.wait_active(plan, "updating the code")?;
                self.call(plan, Action::UpdateFunctionConfiguration)?;
                self.wait_active(plan, "updating the configuration")?
            }
        };
        self.say(&format!(
            "{} in {}/{}: {}, Runtime {}, Handler {}, MemorySize {} MB, Timeout {} s, InitTimeout {} s, CodeSize {} B",
            f.function_name,
            s.region,
            s.namespace,
            f.status,
            f.runtime,
            f.handler,
            f.memory_size,
            f.timeout,
            f.init_timeout,
            f.code_size
        ));
        Ok(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{Settings, DEFAULTS};
    use serde_json::{json, Value};

    /// An SCF that answers GetFunction from a script of states (`None`: no
    /// such function; the last one repeats) and records every call.
    struct FakeScf {
        states: Vec<Option<&'static str>>,
        runtime: &'static str,
        reasons: Vec<&'static str>,
        fail: Option<(Action, &'static str)>,
        calls: Vec<(Action, Value)>,
    }

    impl FakeScf {
        fn new(states: &[Option<&'static str>]) -> FakeScf {
            FakeScf { states: states.to_vec(), runtime: RUNTIME, reasons: vec![], fail: None, calls: vec![] }
        }
        fn actions(&self) -> Vec<Action> {
            self.calls.iter().map(|c| c.0).collect()
        }
    }

    impl Scf for FakeScf {
        fn call(&mut self, action: Action, body: &[u8]) -> Result<Value, ApiError> {
            let params: Value = serde_json::from_slice(body).unwrap();
            self.calls.push((action, params.clone()));
            if let Some((a, code)) = self.fail {
                if a == action {
                    return Err(ApiError::Api {
                        code: code.into(),
                        message: "refused".into(),
                        request_id: "req-9".into(),
                    });
                }
            }
            if action != Action::GetFunction {
                return Ok(json!({"RequestId": "req-1"}));
            }
            let state = if self.states.len() > 1 { self.states.remove(0) } else { self.states[0] };
            let Some(status) = state else {
                return Err(ApiError::Api {
                    code: "ResourceNotFound.Function".into(),
                    message: "no such function".into(),
                    request_id: "req-1".into(),
                });
            };
            let reasons: Vec<Value> =
                self.reasons.iter().map(|r| json!({"ErrorCode": "InternalError", "ErrorMessage": r})).collect();
            Ok(json!({"FunctionName": params["FunctionName"], "Status": status, "Runtime": self.runtime,
                      "Handler": "index.main_handler", "MemorySize": 64, "Timeout": 3, "InitTimeout": 3,
                      "CodeSize": 20000, "StatusDesc": "", "StatusReasons": reasons, "RequestId": "req-2"}))
        }
    }

    /// A clock that only moves when slept on, and records the sleeps.
    #[derive(Default)]
    struct FakeClock {
        now: Duration,
        sleeps: Vec<Duration>,
    }

    impl Clock for FakeClock {
        fn now(&mut self) -> Duration {
            self.now
        }
        fn sleep(&mut self, d: Duration) {
            self.sleeps.push(d);
            self.now += d;
        }
    }

    fn deploy(scf: &mut FakeScf, settings: Settings<'_>, wait: u64) -> (String, Result<Function, Refused>, FakeClock) {
        let plan = Plan::new(settings, b"PK\x03\x04");
        let (mut out, mut clock) = (Vec::new(), FakeClock::default());
        let result =
            Deployer { scf, out: &mut out, clock: &mut clock, wait_limit: Duration::from_secs(wait) }.deploy(&plan);
        (String::from_utf8(out).unwrap(), result, clock)
    }

    const FN: Settings<'static> = Settings { name: "fn", ..DEFAULTS };

    #[test]
    fn a_new_function_is_created_and_waited_for() {
        let mut scf = FakeScf::new(&[None, Some("Creating"), Some("Creating"), Some("Active")]);
        let (out, result, clock) = deploy(&mut scf, Settings { memory: 128, ..FN }, 300);
        assert!(result.is_ok(), "{result:?}");
        use Action::*;
        assert_eq!(scf.actions(), [GetFunction, CreateFunction, GetFunction, GetFunction, GetFunction]);
        assert_eq!(scf.calls[1].1["Runtime"], "CustomRuntime");
        assert_eq!(scf.calls[1].1["MemorySize"], 128);
        assert_eq!(
            out.lines().collect::<Vec<_>>(),
            [
                "creating fn in ap-guangzhou/default",
                "fn: Creating",
                "fn: Active",
                "fn in ap-guangzhou/default: Active, Runtime CustomRuntime, Handler index.main_handler, \
                 MemorySize 64 MB, Timeout 3 s, InitTimeout 3 s, CodeSize 20000 B",
            ]
        );
        assert_eq!(clock.sleeps, [Duration::from_millis(500), Duration::from_secs(1)]);
    }

    #[test]
    fn an_existing_function_gets_its_code_then_its_configuration_updated() {
        let states =
            [Some("Active"), Some("Active"), Some("Updating"), Some("Active"), Some("Updating"), Some("Active")];
        let mut scf = FakeScf::new(&states);
        let (out, result, _) = deploy(&mut scf, Settings { timeout: 10, ..FN }, 300);
        assert!(result.is_ok(), "{result:?}");
        use Action::*;
        assert_eq!(
            scf.actions(),
            [
                GetFunction,
                GetFunction,
                UpdateFunctionCode,
                GetFunction,
                GetFunction,
                UpdateFunctionConfiguration,
                GetFunction,
                GetFunction
            ]
        );
        assert_eq!(scf.calls[2].1["ZipFile"], "UEsDBA==");
        assert_eq!(scf.calls[5].1["Timeout"], 10);
        assert_eq!(out.lines().next(), Some("updating fn in ap-guangzhou/default"));
        assert!(out.contains("fn: Updating\n"), "{out}");
    }

    #[test]
    fn a_failed_state_stops_the_wait_with_scf_s_reasons() {
        let mut scf = FakeScf::new(&[None, Some("Creating"), Some("CreateFailed")]);
        scf.reasons = vec!["bootstrap not found", "again"];
        let (_, result, _) = deploy(&mut scf, FN, 300);
        assert_eq!(
            result.unwrap_err().0,
            "creating the function ended in CreateFailed: InternalError: bootstrap not found; InternalError: again"
        );
        let mut scf = FakeScf::new(&[Some("Active"), Some("Active"), Some("UpdateFailed")]);
        let (_, result, _) = deploy(&mut scf, FN, 300);
        assert_eq!(result.unwrap_err().0, "updating the code ended in UpdateFailed (no reason given)");
    }

    #[test]
    fn an_existing_function_of_another_runtime_is_left_alone() {
        let mut scf = FakeScf::new(&[Some("Active")]);
        scf.runtime = "Python3.9";
        let (_, result, _) = deploy(&mut scf, FN, 300);
        assert_eq!(
            result.unwrap_err().0,
            "fn exists with Runtime Python3.9, not CustomRuntime: choose another --name or delete it"
        );
        assert_eq!(scf.actions(), [Action::GetFunction]);
    }

    #[test]
    fn a_function_that_never_settles_times_out_with_polls_growing_to_five_seconds() {
        let mut scf = FakeScf::new(&[None, Some("Creating")]);
        let (_, result, clock) = deploy(&mut scf, FN, 60);
        assert_eq!(result.unwrap_err().0, "still Creating after 60 s creating the function; see the SCF console");
        let ms: Vec<u128> = clock.sleeps.iter().map(Duration::as_millis).collect();
        assert_eq!(&ms[..6], [500, 1000, 2000, 4000, 5000, 5000]);
        assert!(clock.now > Duration::from_secs(60) && clock.now <= Duration::from_secs(65), "{:?}", clock.now);
    }

    #[test]
    fn a_function_that_disappears_while_waited_for_is_named() {
        let mut scf = FakeScf::new(&[None, Some("Creating"), None]);
        let (_, result, _) = deploy(&mut scf, FN, 300);
        assert_eq!(result.unwrap_err().0, "the function disappeared while creating the function");
    }

    #[test]
    fn an_api_error_names_the_step_that_failed() {
        let mut scf = FakeScf::new(&[None]);
        scf.fail = Some((Action::CreateFunction, "LimitExceeded.Function"));
        let (_, result, _) = deploy(&mut scf, FN, 300);
        assert_eq!(result.unwrap_err().0, "CreateFunction failed: LimitExceeded.Function: refused (request req-9)");
        let mut scf = FakeScf::new(&[None]);
        scf.fail = Some((Action::GetFunction, "AuthFailure.SignatureFailure"));
        let (_, result, _) = deploy(&mut scf, FN, 300);
        assert_eq!(
            result.unwrap_err().0,
            "GetFunction failed: AuthFailure.SignatureFailure: refused (request req-9); check TENCENTCLOUD_SECRET_KEY"
        );
        assert_eq!(scf.actions(), [Action::GetFunction], "nothing after a failed call");
    }
}
