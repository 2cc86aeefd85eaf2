//! The function's settings, their defaults, and the documented ranges they
//! are checked against before anything is sent.
//!
//! Where each figure comes from. "SDK doc" is the parameter documentation
//! in tencentcloud-sdk-python-scf 3.1.100 (`tencentcloud/scf/v20180416/
//! models.py`, the version `.ci/run` installs), which is generated from
//! Tencent's API reference for SCF (API 2018-04-16).

/// `Runtime` of every function this deploys: SCF executes `bootstrap`.
pub const RUNTIME: &str = "CustomRuntime";

/// MemorySize (CreateFunction, SDK doc): 64, or 128 to 3072 in steps of
/// 128 (MB); the API's default is 128.
pub const MEMORY_MIN: u32 = 64;
/// See [`MEMORY_MIN`].
pub const MEMORY_STEP: u32 = 128;
/// See [`MEMORY_MIN`].
pub const MEMORY_MAX: u32 = 3072;
/// Timeout (CreateFunction, SDK doc): 1 to 900 seconds; the API's default
/// is 3.
pub const TIMEOUT_RANGE: (u32, u32) = (1, 900);
/// InitTimeout: the SDK doc gives only the default (65 s; 90 s for image
/// functions), no range. 1 to 300 s is NOT checked against a document: it
/// is the range this deployer has always used (Tencent's Custom Runtime
/// guide shows 3). SCF refuses a value out of its own range with an error.
pub const INIT_TIMEOUT_RANGE: (u32, u32) = (1, 300);
/// Description (CreateFunction, SDK doc): "at most 1000 English letters,
/// digits, spaces, commas, newlines and periods; Chinese supported". The
/// length is checked; a character outside that set gets a warning, not a
/// refusal (what "Chinese" covers is not said, so non-ASCII passes).
pub const DESCRIPTION_MAX: usize = 1000;

/// What `cargo scf deploy` sends unless told otherwise (shown by `--help`,
/// which prints these values).
pub const DEFAULTS: Settings<'static> = Settings {
    name: "",
    region: "ap-guangzhou",
    namespace: "default",
    // Custom Runtime execs `bootstrap`; the part after the dot picks the
    // handler linked into it (every example registers `main_handler`).
    handler: "index.main_handler",
    // The bootstrap's peak resident memory is well under a megabyte: SCF's
    // smallest size, and the cheapest.
    memory: MEMORY_MIN,
    timeout: 3,
    // The runtime is ready in about a millisecond after exec; 3 s is the
    // figure of Tencent's Custom Runtime guide.
    init_timeout: 3,
    // Only characters the Description doc lists.
    description: "Deployed by cargo scf",
};

/// One function's settings, as the command line gave them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings<'a> {
    /// FunctionName.
    pub name: &'a str,
    /// The region (`X-TC-Region`).
    pub region: &'a str,
    /// Namespace.
    pub namespace: &'a str,
    /// Handler, `FILE.FUNCTION`.
    pub handler: &'a str,
    /// MemorySize, MB.
    pub memory: u32,
    /// Timeout, seconds.
    pub timeout: u32,
    /// InitTimeout, seconds.
    pub init_timeout: u32,
    /// Description.
    pub description: &'a str,
}

/// Why `name` is not a valid SCF function name, or `None`.
///
/// FunctionName (CreateFunction, SDK doc): the 26 letters in either case,
/// digits, `-` and `_`; the first character a letter; the last not `-` or
/// `_`; 2 to 60 characters.
pub fn function_name_problem(name: &str) -> Option<String> {
    let count = name.chars().count();
    if !(2..=60).contains(&count) {
        return Some(format!("must be 2 to 60 characters long, not {count}"));
    }
    if !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
        return Some("must start with a letter".into());
    }
    if let Some(bad) = name.chars().find(|&c| !(c.is_ascii_alphanumeric() || c == '-' || c == '_')) {
        return Some(format!("may hold only letters, digits, '-' and '_', not {bad:?}"));
    }
    if name.ends_with(['-', '_']) {
        return Some("must end with a letter or a digit".into());
    }
    None
}

/// Handler (CreateFunction, SDK doc): "file.function"; each part starts and
/// ends with a letter, with letters, digits, `_` and `-` between; 2 to 60
/// characters (read here as each part: the doc's sentence covers both
/// names).
fn handler_part_ok(part: &str) -> bool {
    let b = part.as_bytes();
    (2..=60).contains(&b.len())
        && b[0].is_ascii_alphabetic()
        && b[b.len() - 1].is_ascii_alphabetic()
        && b.iter().all(|&c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// The regions of TencentCloud API 3.0's "Request Structure" page
/// (`ap-guangzhou`, `na-siliconvalley`, `eu-frankfurt`...) are lowercase
/// letters, digits and `-`. The region travels in a header (`X-TC-Region`),
/// so it is checked for that shape, not against the list, which grows.
fn region_ok(region: &str) -> bool {
    !region.is_empty() && region.bytes().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
}

impl Settings<'_> {
    /// One-line warnings for what the documentation does not allow but
    /// this does not refuse (see [`DESCRIPTION_MAX`]).
    pub fn warnings(&self) -> Vec<String> {
        let listed = |c: char| c.is_ascii_alphanumeric() || " ,.\n".contains(c) || !c.is_ascii();
        match self.description.chars().find(|&c| !listed(c)) {
            Some(c) => vec![format!(
                "--description holds {c:?}: the API documents letters, digits, spaces, commas, newlines, \
                 periods and Chinese, so SCF may refuse it"
            )],
            None => vec![],
        }
    }

    /// The first setting outside its documented range, as a one-line
    /// message naming the option, or `Ok`.
    pub fn check(&self) -> Result<(), String> {
        if let Some(problem) = function_name_problem(self.name) {
            return Err(format!("--name {:?}: {problem}", self.name));
        }
        let parts: Vec<&str> = self.handler.split('.').collect();
        if parts.len() != 2 || !parts.iter().all(|p| handler_part_ok(p)) {
            return Err(format!(
                "--handler {:?}: must be FILE.FUNCTION, each 2 to 60 letters, digits, '_' or '-', \
                 starting and ending with a letter (e.g. index.main_handler)",
                self.handler
            ));
        }
        let m = self.memory;
        if !(m == MEMORY_MIN || (MEMORY_STEP..=MEMORY_MAX).contains(&m) && m.is_multiple_of(MEMORY_STEP)) {
            return Err(format!(
                "--memory {m}: SCF takes {MEMORY_MIN} MB or {MEMORY_STEP} to {MEMORY_MAX} MB in steps of {MEMORY_STEP}"
            ));
        }
        for (flag, value, (lo, hi)) in
            [("--timeout", self.timeout, TIMEOUT_RANGE), ("--init-timeout", self.init_timeout, INIT_TIMEOUT_RANGE)]
        {
            if !(lo..=hi).contains(&value) {
                return Err(format!("{flag} {value}: must be {lo} to {hi} seconds"));
            }
        }
        let chars = self.description.chars().count();
        if chars > DESCRIPTION_MAX {
            return Err(format!("--description: {chars} characters, SCF takes at most {DESCRIPTION_MAX}"));
        }
        if self.namespace.is_empty() {
            return Err("--namespace must not be empty".into());
        }
        if !region_ok(self.region) {
            return Err(format!(
                "--region {:?}: a region name such as ap-guangzhou (lowercase letters, digits and '-')",
                self.region
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(f: impl FnOnce(&mut Settings<'static>)) -> Result<(), String> {
        let mut s = Settings { name: "fn", ..DEFAULTS };
        f(&mut s);
        s.check()
    }

    #[test]
    fn the_defaults_pass() {
        assert_eq!(with(|_| {}), Ok(()));
    }

    #[test]
    fn settings_outside_the_documented_ranges_are_refused() {
        let long_name: &'static str = "a".repeat(61).leak();
        let long_description: &'static str = "x".repeat(1001).leak();
        #[allow(clippy::type_complexity)]
        let cases: Vec<(Box<dyn FnOnce(&mut Settings<'static>)>, &str)> = vec![
            (Box::new(|s| s.memory = 100), "--memory 100: SCF takes 64 MB or 128 to 3072 MB in steps of 128"),
            (Box::new(|s| s.memory = 192), "--memory 192: SCF takes"),
            (Box::new(|s| s.memory = 3200), "--memory 3200: SCF takes"),
            (Box::new(|s| s.memory = 0), "--memory 0: SCF takes"),
            (Box::new(|s| s.memory = 63), "--memory 63: SCF takes"),
            (Box::new(|s| s.timeout = 0), "--timeout 0: must be 1 to 900 seconds"),
            (Box::new(|s| s.timeout = 901), "--timeout 901: must be 1 to 900 seconds"),
            (Box::new(|s| s.init_timeout = 0), "--init-timeout 0: must be 1 to 300 seconds"),
            (Box::new(|s| s.init_timeout = 301), "--init-timeout 301: must be 1 to 300 seconds"),
            (Box::new(|s| s.name = "1bad_"), "--name \"1bad_\": must start with a letter"),
            (Box::new(|s| s.name = "bad_"), "--name \"bad_\": must end with a letter or a digit"),
            (Box::new(|s| s.name = "bad-"), "--name \"bad-\": must end with a letter or a digit"),
            (Box::new(|s| s.name = "a"), "--name \"a\": must be 2 to 60 characters long, not 1"),
            (Box::new(|s| s.name = ""), "--name \"\": must be 2 to 60 characters long, not 0"),
            (Box::new(move |s| s.name = long_name), "must be 2 to 60 characters long, not 61"),
            (
                Box::new(|s| s.name = "bad name"),
                "--name \"bad name\": may hold only letters, digits, '-' and '_', not ' '",
            ),
            (Box::new(|s| s.name = "函数"), "--name \"函数\": must start with a letter"),
            (Box::new(|s| s.name = "fn函数"), "may hold only letters, digits, '-' and '_', not '函'"),
            (Box::new(|s| s.handler = "main_handler"), "--handler \"main_handler\": must be FILE.FUNCTION"),
            (Box::new(|s| s.handler = "index.handler2"), "--handler \"index.handler2\": must be FILE.FUNCTION"),
            (Box::new(|s| s.handler = "index.main.handler"), "must be FILE.FUNCTION"),
            (Box::new(|s| s.handler = "i.main"), "--handler \"i.main\""),
            (Box::new(|s| s.handler = "2x.main"), "--handler \"2x.main\""),
            (Box::new(|s| s.handler = "in dex.main"), "--handler \"in dex.main\""),
            (
                Box::new(move |s| s.description = long_description),
                "--description: 1001 characters, SCF takes at most 1000",
            ),
            (Box::new(|s| s.namespace = ""), "--namespace must not be empty"),
            (Box::new(|s| s.region = ""), "--region \"\": a region name such as ap-guangzhou"),
            (Box::new(|s| s.region = "ap-guangzhou\r\nX: y"), "--region \"ap-guangzhou\\r\\nX: y\": a region name"),
            (Box::new(|s| s.region = "AP-Guangzhou"), "--region \"AP-Guangzhou\""),
        ];
        for (change, message) in cases {
            let e = with(change).unwrap_err();
            assert!(e.starts_with(message) || e.contains(message), "{e:?} should say {message:?}");
            assert!(!e.contains('\n'), "one line: {e:?}");
        }
    }

    #[test]
    fn settings_at_the_edges_of_the_ranges_pass() {
        let sixty: &'static str = "a".repeat(60).leak();
        let handler_sixty: &'static str = format!("{sixty}.{sixty}").leak();
        let thousand: &'static str = "字".repeat(1000).leak();
        #[allow(clippy::type_complexity)]
        let cases: Vec<Box<dyn FnOnce(&mut Settings<'static>)>> = vec![
            Box::new(|s| s.memory = 64),
            Box::new(|s| s.memory = 128),
            Box::new(|s| s.memory = 1536),
            Box::new(|s| s.memory = 3072),
            Box::new(|s| s.timeout = 1),
            Box::new(|s| s.timeout = 900),
            Box::new(|s| s.init_timeout = 1),
            Box::new(|s| s.init_timeout = 300),
            Box::new(|s| s.name = "ab"),
            Box::new(move |s| s.name = sixty),
            Box::new(|s| s.name = "My_fn-2"),
            Box::new(|s| s.handler = "ab.cd"),
            Box::new(|s| s.handler = "my-file_1x.main_2-handler"),
            Box::new(move |s| s.handler = handler_sixty),
            // Characters, not bytes: 1000 CJK characters are 3000 bytes.
            Box::new(move |s| s.description = thousand),
            Box::new(|s| s.description = ""),
            Box::new(|s| s.region = "na-siliconvalley"),
        ];
        for (i, change) in cases.into_iter().enumerate() {
            assert_eq!(with(change), Ok(()), "case {i}");
        }
    }

    #[test]
    fn a_description_outside_the_documented_characters_gets_a_warning() {
        let warn = |d: &'static str| Settings { name: "fn", description: d, ..DEFAULTS }.warnings();
        assert_eq!(warn(DEFAULTS.description), Vec::<String>::new(), "the default is within the documented set");
        assert_eq!(warn("Echo, in C.\nLine two 中文 1"), Vec::<String>::new());
        assert_eq!(
            warn("scf-bootstrap"),
            ["--description holds '-': the API documents letters, digits, spaces, commas, newlines, periods and \
              Chinese, so SCF may refuse it"]
        );
    }

    #[test]
    fn every_memory_size_scf_takes_and_none_other() {
        let taken: Vec<u32> = (0..=4096).filter(|&m| with(|s| s.memory = m).is_ok()).collect();
        let expected: Vec<u32> = std::iter::once(64).chain((1..=24).map(|i| i * 128)).collect();
        assert_eq!(taken, expected);
    }
}
