//! The requests of a deployment, as the API's JSON parameters: built once
//! from the settings and the zip, sent compact, printed by `--dry-run`
//! (the zip's base64 cut short) and `--print-request` (whole).

use crate::package::REQUEST_MAX;
use crate::settings::{Settings, RUNTIME};
use base64::Engine as _;
use serde::Serialize;

/// The API actions a deployment sends (SCF, API version [`API_VERSION`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Does the function exist, and what is its state.
    GetFunction,
    /// A new function: the code and every setting.
    CreateFunction,
    /// An existing function's code and handler.
    UpdateFunctionCode,
    /// An existing function's memory, timeouts and description.
    UpdateFunctionConfiguration,
}

/// SCF's API version in TencentCloud API 3.0.
pub const API_VERSION: &str = "2018-04-16";

impl Action {
    /// Every action, in the order a deployment may send them.
    pub const ALL: [Action; 4] =
        [Action::GetFunction, Action::CreateFunction, Action::UpdateFunctionCode, Action::UpdateFunctionConfiguration];

    /// The action's name (`X-TC-Action`).
    pub fn name(self) -> &'static str {
        match self {
            Action::GetFunction => "GetFunction",
            Action::CreateFunction => "CreateFunction",
            Action::UpdateFunctionCode => "UpdateFunctionCode",
            Action::UpdateFunctionConfiguration => "UpdateFunctionConfiguration",
        }
    }

    /// The action named `name`, exactly as the API spells it.
    pub fn from_name(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    /// When the deployment sends it.
    fn when(self) -> &'static str {
        match self {
            Action::GetFunction => "always, then until Status is Active",
            Action::CreateFunction => "if GetFunction says the function does not exist",
            Action::UpdateFunctionCode => "if it exists",
            Action::UpdateFunctionConfiguration => "if it exists, once the code update is Active",
        }
    }
}

/// One request's parameters, in the order the API reference lists them;
/// absent fields are left out.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Params<'a> {
    function_name: &'a str,
    namespace: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    runtime: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    handler: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<Code<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    zip_file: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    memory_size: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timeout: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    init_timeout: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
}

/// CreateFunction's `Code` structure.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Code<'a> {
    zip_file: &'a str,
}

/// Every request of one deployment.
#[derive(Debug)]
pub struct Plan<'a> {
    settings: Settings<'a>,
    zip_len: usize,
    zip_base64: String,
}

/// How much of the zip's base64 the dry run shows.
const SHOWN_BASE64: usize = 32;

impl<'a> Plan<'a> {
    /// The requests for `settings` (checked already) and the zip's bytes.
    pub fn new(settings: Settings<'a>, zip: &[u8]) -> Plan<'a> {
        Plan { settings, zip_len: zip.len(), zip_base64: base64::engine::general_purpose::STANDARD.encode(zip) }
    }

    /// The settings the requests carry.
    pub fn settings(&self) -> &Settings<'a> {
        &self.settings
    }

    fn params<'p>(&'p self, action: Action, zip: &'p str) -> Params<'p> {
        let s = &self.settings;
        let config = matches!(action, Action::CreateFunction | Action::UpdateFunctionConfiguration);
        Params {
            function_name: s.name,
            namespace: s.namespace,
            runtime: (action == Action::CreateFunction).then_some(RUNTIME),
            handler: matches!(action, Action::CreateFunction | Action::UpdateFunctionCode).then_some(s.handler),
            code: (action == Action::CreateFunction).then_some(Code { zip_file: zip }),
            zip_file: (action == Action::UpdateFunctionCode).then_some(zip),
            memory_size: config.then_some(s.memory),
            timeout: config.then_some(s.timeout),
            init_timeout: config.then_some(s.init_timeout),
            description: config.then_some(s.description),
        }
    }

    /// `action`'s request body, compact, as it is sent.
    pub fn body(&self, action: Action) -> Vec<u8> {
        serde_json::to_vec(&self.params(action, &self.zip_base64)).expect("plain data serializes")
    }

    /// `action`'s request, whole and indented: for `tccli scf ACTION
    /// --cli-input-json file://FILE`.
    pub fn pretty(&self, action: Action) -> String {
        serde_json::to_string_pretty(&self.params(action, &self.zip_base64)).expect("plain data serializes")
    }

    /// `Err` (one line) when a request would be larger than API 3.0 takes
    /// ([`REQUEST_MAX`]); CreateFunction's is the largest.
    pub fn check_size(&self) -> Result<(), String> {
        let largest = Action::ALL.into_iter().map(|a| self.body(a).len()).max().unwrap_or(0);
        if largest <= REQUEST_MAX {
            return Ok(());
        }
        Err(format!(
            "the zip is {} bytes, so CreateFunction's request (the zip as base64) is {largest} bytes: \
             TencentCloud API 3.0 takes at most {REQUEST_MAX} bytes (10 MB), so a zip of up to about 7.5 MB; \
             make it smaller, or upload it to COS and deploy from there (docs/deploy.md)",
            self.zip_len
        ))
    }

    /// The dry run: every request the deployment may send and when, as one
    /// JSON document, the zip's base64 cut to its first characters.
    pub fn dry_run(&self, endpoint: &str) -> String {
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Doc<'p> {
            region: &'p str,
            endpoint: &'p str,
            zip_bytes: usize,
            requests: Vec<Entry<'p>>,
        }
        #[derive(Serialize)]
        #[serde(rename_all = "PascalCase")]
        struct Entry<'p> {
            action: &'static str,
            when: &'static str,
            request: Params<'p>,
        }
        let cut = self.zip_base64.get(..SHOWN_BASE64).unwrap_or(&self.zip_base64);
        let shown = format!("{cut}...");
        let doc = Doc {
            region: self.settings.region,
            endpoint,
            zip_bytes: self.zip_len,
            requests: Action::ALL
                .into_iter()
                .map(|a| Entry { action: a.name(), when: a.when(), request: self.params(a, &shown) })
                .collect(),
        };
        serde_json::to_string_pretty(&doc).expect("plain data serializes")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::DEFAULTS;
    use serde_json::{json, Value};

    fn plan(zip: &[u8]) -> Plan<'static> {
        Plan::new(Settings { name: "fn", memory: 256, description: "ünïcode 函数", ..DEFAULTS }, zip)
    }

    fn body(p: &Plan<'_>, a: Action) -> Value {
        serde_json::from_slice(&p.body(a)).unwrap()
    }

    #[test]
    fn each_request_carries_its_fields_and_no_other() {
        let p = plan(b"PK\x03\x04zip");
        let zip = "UEsDBHppcA==";
        assert_eq!(body(&p, Action::GetFunction), json!({"FunctionName": "fn", "Namespace": "default"}));
        assert_eq!(
            body(&p, Action::CreateFunction),
            json!({"FunctionName": "fn", "Namespace": "default", "Runtime": "CustomRuntime",
                   "Handler": "index.main_handler", "Code": {"ZipFile": zip}, "MemorySize": 256, "Timeout": 3,
                   "InitTimeout": 3, "Description": "ünïcode 函数"})
        );
        assert_eq!(
            body(&p, Action::UpdateFunctionCode),
            json!({"FunctionName": "fn", "Namespace": "default", "Handler": "index.main_handler", "ZipFile": zip})
        );
        assert_eq!(
            body(&p, Action::UpdateFunctionConfiguration),
            json!({"FunctionName": "fn", "Namespace": "default", "MemorySize": 256, "Timeout": 3, "InitTimeout": 3,
                   "Description": "ünïcode 函数"})
        );
        // UTF-8 as it is, not \u escapes (the signature covers these bytes).
        assert!(String::from_utf8(p.body(Action::CreateFunction)).unwrap().contains("ünïcode 函数"));
    }

    #[test]
    fn the_dry_run_lists_every_request_with_the_zip_cut_short() {
        let zip = vec![7u8; 1000];
        let p = plan(&zip);
        let doc: Value = serde_json::from_str(&p.dry_run("https://scf.tencentcloudapi.com")).unwrap();
        assert_eq!(doc["Region"], "ap-guangzhou");
        assert_eq!(doc["Endpoint"], "https://scf.tencentcloudapi.com");
        assert_eq!(doc["ZipBytes"], 1000);
        let actions: Vec<&str> =
            doc["Requests"].as_array().unwrap().iter().map(|r| r["Action"].as_str().unwrap()).collect();
        assert_eq!(actions, ["GetFunction", "CreateFunction", "UpdateFunctionCode", "UpdateFunctionConfiguration"]);
        let create = &doc["Requests"][1]["Request"];
        assert_eq!(create["Code"]["ZipFile"].as_str().unwrap().len(), 32 + 3);
        assert!(create["Code"]["ZipFile"].as_str().unwrap().ends_with("..."));
        assert_eq!(doc["Requests"][2]["Request"]["ZipFile"], create["Code"]["ZipFile"]);
        assert_eq!(doc["Requests"][3]["When"], "if it exists, once the code update is Active");
    }

    #[test]
    fn the_whole_request_for_tccli_is_the_sent_one() {
        let p = plan(b"PK\x03\x04 the zip");
        for a in Action::ALL {
            let pretty: Value = serde_json::from_str(&p.pretty(a)).unwrap();
            assert_eq!(pretty, body(&p, a), "{a:?}");
        }
    }

    #[test]
    fn a_request_over_api_3_0_s_10_mb_is_refused() {
        // base64 is 4 bytes for 3: the largest zip whose CreateFunction
        // request fits, and one 3 bytes bigger.
        let overhead = plan(b"").body(Action::CreateFunction).len();
        let fits = (REQUEST_MAX - overhead) / 4 * 3;
        assert_eq!(plan(&vec![0; fits]).check_size(), Ok(()));
        let e = plan(&vec![0; fits + 3]).check_size().unwrap_err();
        assert!(e.starts_with(&format!("the zip is {} bytes, so CreateFunction's request", fits + 3)), "{e}");
        assert!(e.contains("at most 10485760 bytes (10 MB)") && e.contains("COS"), "{e}");
    }

    #[test]
    fn action_names_round_trip() {
        for a in Action::ALL {
            assert_eq!(Action::from_name(a.name()), Some(a));
        }
        assert_eq!(Action::from_name("getfunction"), None);
    }
}
