//! What an invocation returns to its caller: the Invoke API's `Result`.
//!
//! Field types follow Tencent Cloud's API SDK (`scf/v20180416` `Result`:
//! `Duration` float milliseconds, `BillDuration` integer milliseconds,
//! `MemUsage` bytes, `InvokeResult` "0 is correct"). Extra measurements go
//! in a separate `Emulator` object so the `Result` shape stays SCF's.
//!
//! Status codes and messages are from SCF's "Cloud Function Status Code"
//! page (tencentcloud.com/document/product/583/35311; its English source is
//! in the public `tencentyun/intlcloud-documents` repository,
//! `.../开发指南/云函数状态码_intl_en.md`). The page names the codes but does
//! not say what `InvokeResult` carries for each failure; this emulator puts
//! the status code there (so a failure is never 0) and the status message
//! at the start of `ErrMsg`, except where a more specific wording is known
//! (see [`Status::TimeLimitReached`]).

use serde::Serialize;
use std::time::Duration;

/// SCF's synchronous event and response limit: 6 MB ("6 MB for sync request
/// events", status 406; "exceeds the upper limit (6MB)", status 407), taken
/// as 6291456 bytes (6 × 2^20), the byte count the runtime enforces too
/// (`scf_bootstrap::MAX_RESPONSE`, which says why). The emulator's one
/// definition of the figure; its messages name it "6 MB".
pub const SYNC_LIMIT: usize = 6 * 1024 * 1024;

/// The outcome class of an invocation, with SCF's status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// 200 Success.
    Success,
    /// 400 InvalidParameterValue: "The request event passed in ... is not
    /// of the JSON type."
    InvalidParameterValue,
    /// 405 ContainerStateExited: "The container exits. Check your image or
    /// bootstrap file to see whether it can be properly started locally."
    /// Used when the bootstrap exits before `init/ready`.
    ContainerStateExited,
    /// 406 RequestTooLarge: the event is over 6 MB.
    RequestTooLarge,
    /// 407 "The size of response exceeds the upper limit (6MB)".
    ResponseTooLarge,
    /// 430 "User code exception caught": the function reported an error
    /// through `/runtime/invocation/error`. (Which code SCF uses for a
    /// Custom Runtime's error push is undocumented; 430 is the generic
    /// user-code failure.)
    UserCodeException,
    /// 433 TimeLimitReached: no result before `Timeout`; triggers instance
    /// repossession. `ErrMsg` reads "Invoking task timed out after N
    /// seconds", the wording SCF-backed platforms show for 433 (quoted
    /// alongside `"statusCode":433` in public WeChat CloudBase logs).
    TimeLimitReached,
    /// 434 MemoryLimitReached: the instance used more than its memory
    /// size ("The memory used during the function execution exceeds the
    /// upper limit"); it is ended.
    MemoryLimitReached,
    /// 439 "User process exit when running": "The user process exits
    /// accidentally"; triggers instance repossession.
    UserProcessExit,
    /// 445 ContainerInitError: "Container start fails. Check whether your
    /// bootstrap file has been uploaded successfully and ensure that the
    /// invocation path is correct." Used for a missing or non-executable
    /// `bootstrap`.
    ContainerInitError,
    /// 446 PortBindingFailed: "Port listening fails." An image function
    /// whose HTTP server does not accept connections within SCF's 30 s
    /// start limit; `ErrMsg` carries the health check's message, "The
    /// request timed out in 30000ms.Please confirm your http server have
    /// enabled listening on port 9000."
    PortBindingFailed,
    /// 450 InitContainerTimeout: "The container start duration exceeds the
    /// initialization timeout period."
    InitContainerTimeout,
    /// 500 InternalError: the emulator itself failed.
    InternalError,
}

impl Status {
    /// SCF's status code.
    pub fn code(self) -> u16 {
        match self {
            Status::Success => 200,
            Status::InvalidParameterValue => 400,
            Status::ContainerStateExited => 405,
            Status::RequestTooLarge => 406,
            Status::ResponseTooLarge => 407,
            Status::UserCodeException => 430,
            Status::TimeLimitReached => 433,
            Status::MemoryLimitReached => 434,
            Status::UserProcessExit => 439,
            Status::ContainerInitError => 445,
            Status::PortBindingFailed => 446,
            Status::InitContainerTimeout => 450,
            Status::InternalError => 500,
        }
    }

    /// SCF's status message for the code.
    pub fn message(self) -> &'static str {
        match self {
            Status::Success => "Success",
            Status::InvalidParameterValue => "InvalidParameterValue",
            Status::ContainerStateExited => "ContainerStateExited",
            Status::RequestTooLarge => "RequestTooLarge",
            Status::ResponseTooLarge => "The size of response exceeds the upper limit (6MB)",
            Status::UserCodeException => "User code exception caught",
            Status::TimeLimitReached => "TimeLimitReached",
            Status::MemoryLimitReached => "MemoryLimitReached",
            Status::UserProcessExit => "User process exit when running",
            Status::ContainerInitError => "ContainerInitError",
            Status::PortBindingFailed => "PortBindingFailed",
            Status::InitContainerTimeout => "InitContainerTimeout",
            Status::InternalError => "InternalError",
        }
    }

    /// `InvokeResult`: 0 on success, else the status code.
    pub fn invoke_result(self) -> i64 {
        if self == Status::Success {
            0
        } else {
            self.code().into()
        }
    }

    /// Whether SCF ends the instance after this outcome (the next
    /// invocation cold-starts).
    pub fn ends_instance(self) -> bool {
        matches!(
            self,
            Status::TimeLimitReached
                | Status::MemoryLimitReached
                | Status::UserProcessExit
                | Status::ContainerStateExited
                | Status::InitContainerTimeout
                | Status::PortBindingFailed
                | Status::ContainerInitError
        )
    }
}

/// Why an invocation was refused before any function handled it: the
/// statuses [`InvokeReport::refused`] accepts (never success, so a refused
/// report that says "Success" cannot be built):
///
/// ```compile_fail
/// use scf_emulator::{InvokeReport, Status};
/// let r = InvokeReport::refused("id".into(), Status::Success, String::new());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    InvalidParameterValue,
    RequestTooLarge,
    ContainerInitError,
    ContainerStateExited,
    InitContainerTimeout,
    PortBindingFailed,
    MemoryLimitReached,
    InternalError,
}

impl From<Refusal> for Status {
    fn from(r: Refusal) -> Status {
        match r {
            Refusal::InvalidParameterValue => Status::InvalidParameterValue,
            Refusal::RequestTooLarge => Status::RequestTooLarge,
            Refusal::ContainerInitError => Status::ContainerInitError,
            Refusal::ContainerStateExited => Status::ContainerStateExited,
            Refusal::InitContainerTimeout => Status::InitContainerTimeout,
            Refusal::PortBindingFailed => Status::PortBindingFailed,
            Refusal::MemoryLimitReached => Status::MemoryLimitReached,
            Refusal::InternalError => Status::InternalError,
        }
    }
}

/// `LogType` of the Invoke API: whether `Log` carries the output.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogType {
    /// The last 4 KB of output (SCF's default).
    #[default]
    Tail,
    /// An empty `Log`.
    None,
}

impl std::str::FromStr for LogType {
    type Err = String;
    fn from_str(s: &str) -> Result<LogType, String> {
        match s {
            "Tail" => Ok(LogType::Tail),
            "None" => Ok(LogType::None),
            _ => Err(format!("LogType must be None or Tail, not {s:?}")),
        }
    }
}

/// One invocation's result and measurements.
#[derive(Debug, Clone)]
pub struct InvokeReport {
    pub request_id: String,
    pub status: Status,
    /// The function's response (`RetMsg`), empty unless successful.
    pub ret_msg: String,
    /// The error text (`ErrMsg`), empty on success.
    pub err_msg: String,
    /// The function's output during this invocation, last 4 KB.
    pub log: String,
    /// Dispatch to first result (zero when nothing was dispatched).
    pub duration: Duration,
    /// Peak RSS of the bootstrap process in bytes.
    pub mem_usage: u64,
    /// Whether this invocation started a new instance.
    pub cold: bool,
    /// Exec of `bootstrap` to its first `init/ready`, on a cold start that
    /// got that far (or the time init ran before failing).
    pub init_duration: Option<Duration>,
    /// How many `/next` requests received this event.
    pub polls: u32,
    /// The bootstrap's exit code, when it exited during this invocation.
    pub exit_code: Option<i32>,
    /// The signal that ended the bootstrap during this invocation.
    pub exit_signal: Option<i32>,
    /// How the previous instance ended when it died while idle between
    /// invocations (`SIGKILL`, `code 3`), so that this one cold-started.
    pub previous_exit: Option<String>,
}

/// The Invoke API's `Result`, field for field (SDK `scf/v20180416`).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResultJson<'a> {
    pub ret_msg: &'a str,
    pub err_msg: &'a str,
    pub log: &'a str,
    pub duration: f64,
    pub bill_duration: u64,
    pub mem_usage: u64,
    pub function_request_id: &'a str,
    pub invoke_result: i64,
}

/// The emulator's own measurements, apart from SCF's fields.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EmulatorJson<'a> {
    status_code: u16,
    status_message: &'a str,
    cold: bool,
    init_duration_us: Option<u64>,
    duration_us: u64,
    polls: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_code: Option<i32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_signal: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    previous_exit: Option<&'a str>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AnswerJson<'a> {
    result: ResultJson<'a>,
    request_id: &'a str,
    emulator: EmulatorJson<'a>,
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

impl InvokeReport {
    /// The report of a dispatched invocation, successful until a failure
    /// is recorded in it.
    pub fn dispatched(request_id: String) -> InvokeReport {
        InvokeReport {
            request_id,
            status: Status::Success,
            ret_msg: String::new(),
            err_msg: String::new(),
            log: String::new(),
            duration: Duration::ZERO,
            mem_usage: 0,
            cold: false,
            init_duration: None,
            polls: 0,
            exit_code: None,
            exit_signal: None,
            previous_exit: None,
        }
    }

    /// A report for an invocation that never reached a function.
    pub fn refused(request_id: String, why: Refusal, err_msg: String) -> InvokeReport {
        InvokeReport {
            status: why.into(),
            err_msg,
            ..InvokeReport::dispatched(request_id)
        }
    }

    /// Marks the invocation failed.
    pub fn fail(&mut self, status: Status, err_msg: String) {
        self.status = status;
        self.err_msg = err_msg;
        self.ret_msg.clear();
    }

    pub fn is_success(&self) -> bool {
        self.status == Status::Success
    }

    /// `Duration` in milliseconds, to the microsecond.
    pub fn duration_ms(&self) -> f64 {
        self.duration.as_micros() as f64 / 1000.0
    }

    /// `BillDuration`: SCF bills "the actual execution duration" in
    /// milliseconds, no longer rounded up to 100 ms (SCF "Billing Mode"
    /// page: a 1,760 ms run bills 1,760 ms). How a fraction of a
    /// millisecond is billed is not documented; this rounds it up.
    pub fn bill_duration_ms(&self) -> u64 {
        u64::try_from(self.duration.as_micros().div_ceil(1000)).unwrap_or(u64::MAX)
    }

    /// The Invoke API's `Result` object.
    pub fn result(&self) -> ResultJson<'_> {
        ResultJson {
            ret_msg: &self.ret_msg,
            err_msg: &self.err_msg,
            log: &self.log,
            duration: self.duration_ms(),
            bill_duration: self.bill_duration_ms(),
            mem_usage: self.mem_usage,
            function_request_id: &self.request_id,
            invoke_result: self.status.invoke_result(),
        }
    }

    fn answer(&self) -> AnswerJson<'_> {
        AnswerJson {
            result: self.result(),
            request_id: &self.request_id,
            emulator: EmulatorJson {
                status_code: self.status.code(),
                status_message: self.status.message(),
                cold: self.cold,
                init_duration_us: self.init_duration.map(micros),
                duration_us: micros(self.duration),
                polls: self.polls,
                exit_code: self.exit_code,
                exit_signal: self.exit_signal.map(crate::sys::signal_name),
                previous_exit: self.previous_exit.as_deref(),
            },
        }
    }

    /// The Invoke API response, `{"Result": {...}, "RequestId": ...}`, plus
    /// the emulator's own `Emulator` object, as one line of JSON with the
    /// keys in SCF's order.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&self.answer()).expect("plain data serializes")
    }

    /// [`to_json`](Self::to_json), indented.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.answer()).expect("plain data serializes")
    }

    /// One line for a terminal: what happened and what it cost.
    pub fn summary(&self) -> String {
        let init = match self.init_duration {
            Some(d) if self.cold => format!(" Init: {:.3} ms", d.as_micros() as f64 / 1000.0),
            _ => String::new(),
        };
        let exit = match (self.exit_signal, self.exit_code) {
            (Some(s), _) => format!(" Exit: {}", crate::sys::signal_name(s)),
            (None, Some(c)) => format!(" Exit: code {c}"),
            _ => String::new(),
        };
        let previous = match &self.previous_exit {
            Some(how) => format!(" (the previous instance ended while idle: {how})"),
            None => String::new(),
        };
        format!(
            "RequestId: {} InvokeResult: {} ({}) {} Duration: {:.3} ms BillDuration: {} ms MemUsage: {} bytes{}{}{}",
            self.request_id,
            self.status.invoke_result(),
            self.status.message(),
            if self.cold { "Cold" } else { "Warm" },
            self.duration_ms(),
            self.bill_duration_ms(),
            self.mem_usage,
            init,
            exit,
            previous
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_rounds_up_to_the_millisecond() {
        let mut r = InvokeReport::dispatched("id".into());
        for (us, ms) in [
            (0, 0),
            (1, 1),
            (999, 1),
            (1000, 1),
            (1001, 2),
            (1_760_000, 1760),
        ] {
            r.duration = Duration::from_micros(us);
            assert_eq!(r.bill_duration_ms(), ms, "{us} us");
        }
    }

    #[test]
    fn json_shape() {
        let mut r = InvokeReport::dispatched("abc".into());
        r.fail(Status::TimeLimitReached, "timed out".into());
        r.exit_signal = Some(libc::SIGSEGV);
        r.duration = Duration::from_micros(1_234_567);
        r.log = "quote \" backslash \\ nl \n ctl \u{1} é".into();
        let text = r.to_json();
        assert!(text.starts_with("{\"Result\":{\"RetMsg\":"));
        let v: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(v["Result"]["Log"], r.log.as_str());
        assert_eq!(v["Emulator"]["InitDurationUs"], serde_json::Value::Null);
        assert_eq!(v["RequestId"], "abc");
        assert_eq!(v["Result"]["FunctionRequestId"], "abc");
        assert_eq!(v["Result"]["InvokeResult"], 433);
        assert_eq!(v["Result"]["Duration"], 1234.567);
        assert_eq!(v["Result"]["BillDuration"], 1235);
        assert_eq!(v["Emulator"]["StatusMessage"], "TimeLimitReached");
        let keys: Vec<&String> = v["Result"].as_object().unwrap().keys().collect();
        assert_eq!(keys.len(), 8);
        assert_eq!(v["Emulator"]["ExitSignal"], "SIGSEGV");
        assert!(v["Emulator"].get("ExitCode").is_none());
    }
}
