//! TencentCloud API 3.0 request signing, TC3-HMAC-SHA256 ("signature v3"),
//! as a pure function of the request and a timestamp: no clock, no I/O.
//!
//! What is signed, as Tencent's Python SDK signs a JSON `POST`
//! (`tencentcloud/common/abstract_client.py`, `_build_req_with_tc3_signature`
//! and `_get_tc3_signature`; `sign.py`, `sign_tc3`):
//!
//! ```text
//! CanonicalRequest = "POST\n/\n\ncontent-type:application/json\nhost:HOST\n\ncontent-type;host\n"
//!                    + hex(sha256(payload))
//! StringToSign     = "TC3-HMAC-SHA256\nTIMESTAMP\nDATE/SERVICE/tc3_request\n"
//!                    + hex(sha256(CanonicalRequest))
//! key              = hmac(hmac(hmac("TC3" + SecretKey, DATE), SERVICE), "tc3_request")
//! Authorization    = "TC3-HMAC-SHA256 Credential=SECRETID/DATE/SERVICE/tc3_request, "
//!                    + "SignedHeaders=content-type;host, Signature=" + hex(hmac(key, StringToSign))
//! ```
//!
//! DATE is the UTC date of TIMESTAMP (`YYYY-MM-DD`). Only `content-type`
//! and `host` are signed, so the request must carry exactly those two
//! values on the wire; the other `X-TC-*` headers travel unsigned, as the
//! SDK sends them. `deploy/tests/sdk.rs` compares [`sign`]'s headers with
//! the SDK's own, byte for byte, on the same requests.

use ring::{digest, hmac};
use std::fmt;

/// The content type of every request: a JSON body.
pub const CONTENT_TYPE: &str = "application/json";

/// API keys, from the environment only (see [`Credentials::from_env`]).
/// `Debug` shows the SecretId but never the key or the token.
#[derive(Clone, Debug)]
pub struct Credentials {
    secret_id: String,
    secret_key: Secret,
    token: Option<Secret>,
}

/// A value `Debug` does not show.
#[derive(Clone)]
struct Secret(String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<hidden>")
    }
}

/// The environment variables the credentials come from.
pub const SECRET_ID_VAR: &str = "TENCENTCLOUD_SECRET_ID";
/// See [`SECRET_ID_VAR`].
pub const SECRET_KEY_VAR: &str = "TENCENTCLOUD_SECRET_KEY";
/// See [`SECRET_ID_VAR`]; set only for temporary keys.
pub const TOKEN_VAR: &str = "TENCENTCLOUD_SESSION_TOKEN";

impl Credentials {
    /// Keys as given. Each must be a valid HTTP header value (printable
    /// ASCII: SecretId and the token travel in headers); the error names
    /// the variable, never the value.
    pub fn new(secret_id: &str, secret_key: &str, token: Option<&str>) -> Result<Credentials, String> {
        let header_safe = |name: &str, v: &str| {
            if v.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                Ok(())
            } else {
                Err(format!("{name} holds a character an HTTP header cannot carry (a line break, or not ASCII)"))
            }
        };
        header_safe(SECRET_ID_VAR, secret_id)?;
        header_safe(SECRET_KEY_VAR, secret_key)?;
        if let Some(t) = token {
            header_safe(TOKEN_VAR, t)?;
        }
        Ok(Credentials {
            secret_id: secret_id.to_string(),
            secret_key: Secret(secret_key.to_string()),
            token: token.map(|t| Secret(t.to_string())),
        })
    }

    /// The keys from [`SECRET_ID_VAR`], [`SECRET_KEY_VAR`] and, when set
    /// and not empty, [`TOKEN_VAR`], looked up with `var`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Credentials, String> {
        let get = |name| var(name).filter(|v: &String| !v.is_empty());
        match (get(SECRET_ID_VAR), get(SECRET_KEY_VAR)) {
            (Some(id), Some(key)) => Credentials::new(&id, &key, get(TOKEN_VAR).as_deref()),
            _ => Err(format!("set {SECRET_ID_VAR} and {SECRET_KEY_VAR} (and {TOKEN_VAR} for temporary keys)")),
        }
    }

    /// The SecretId (not a secret: it names the key).
    pub fn secret_id(&self) -> &str {
        &self.secret_id
    }
}

/// One API call to sign.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The service's short name, the endpoint's first label (`scf`).
    pub service: &'a str,
    /// The `Host` header the request is sent with: the endpoint's host,
    /// with `:port` when the URL names a port.
    pub host: &'a str,
    /// `X-TC-Action`, e.g. `GetFunction`.
    pub action: &'a str,
    /// `X-TC-Version`, the API version (`2018-04-16` for SCF).
    pub version: &'a str,
    /// `X-TC-Region`.
    pub region: &'a str,
    /// The JSON body, as sent.
    pub payload: &'a [u8],
}

/// The headers of `req` signed with `cred` at `timestamp` (Unix seconds):
/// `Content-Type`, `Host`, `X-TC-Action`, `X-TC-Timestamp`, `X-TC-Version`,
/// `X-TC-Region`, `X-TC-Token` (temporary keys only) and `Authorization`,
/// in that order.
pub fn sign(cred: &Credentials, req: &Request<'_>, timestamp: u64) -> Vec<(&'static str, String)> {
    let date = utc_date(timestamp);
    let canonical = format!(
        "POST\n/\n\ncontent-type:{CONTENT_TYPE}\nhost:{}\n\ncontent-type;host\n{}",
        req.host,
        hex(digest::digest(&digest::SHA256, req.payload).as_ref())
    );
    let scope = format!("{date}/{}/tc3_request", req.service);
    let to_sign = format!(
        "TC3-HMAC-SHA256\n{timestamp}\n{scope}\n{}",
        hex(digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref())
    );
    let mac = |key: &[u8], msg: &str| hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), msg.as_bytes());
    let k_date = mac(format!("TC3{}", cred.secret_key.0).as_bytes(), &date);
    let k_service = mac(k_date.as_ref(), req.service);
    let k_signing = mac(k_service.as_ref(), "tc3_request");
    let signature = hex(mac(k_signing.as_ref(), &to_sign).as_ref());
    let mut headers = vec![
        ("Content-Type", CONTENT_TYPE.to_string()),
        ("Host", req.host.to_string()),
        ("X-TC-Action", req.action.to_string()),
        ("X-TC-Timestamp", timestamp.to_string()),
        ("X-TC-Version", req.version.to_string()),
        ("X-TC-Region", req.region.to_string()),
    ];
    if let Some(token) = &cred.token {
        headers.push(("X-TC-Token", token.0.clone()));
    }
    headers.push((
        "Authorization",
        format!(
            "TC3-HMAC-SHA256 Credential={}/{scope}, SignedHeaders=content-type;host, Signature={signature}",
            cred.secret_id
        ),
    ));
    headers
}

/// Lowercase hexadecimal, as the signature's digests are written.
fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// The UTC calendar date of a Unix time, `YYYY-MM-DD` (the proleptic
/// Gregorian calendar; days to civil date after Howard Hinnant's
/// `civil_from_days`).
pub fn utc_date(timestamp: u64) -> String {
    let days = timestamp / 86_400;
    // Shift the epoch to 0000-03-01, so that a leap day ends its year.
    let z = days + 719_468;
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let mp = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_dates_across_month_year_and_leap_day_boundaries() {
        for (t, date) in [
            (0, "1970-01-01"),
            (86_399, "1970-01-01"),
            (86_400, "1970-01-02"),
            (951_782_400, "2000-02-29"), // 2000 is a leap year (divisible by 400)
            (951_868_800, "2000-03-01"),
            (1_709_164_800, "2024-02-29"),
            (1_709_251_199, "2024-02-29"),
            (1_709_251_200, "2024-03-01"),
            (1_735_689_599, "2024-12-31"),
            (1_735_689_600, "2025-01-01"),
            (4_107_542_400, "2100-03-01"), // 2100 is not: Feb 28 is followed by Mar 1
            (4_107_456_000, "2100-02-28"),
        ] {
            assert_eq!(utc_date(t), date, "{t}");
        }
    }

    #[test]
    fn hex_is_lowercase_two_digits_a_byte() {
        assert_eq!(hex(&[0x00, 0x0f, 0xa5, 0xff]), "000fa5ff");
    }

    fn cred(token: Option<&str>) -> Credentials {
        Credentials::new("AKIDexample", "secret", token).unwrap()
    }

    fn req(payload: &[u8]) -> Request<'_> {
        Request {
            service: "scf",
            host: "scf.tencentcloudapi.com",
            action: "GetFunction",
            version: "2018-04-16",
            region: "ap-guangzhou",
            payload,
        }
    }

    #[test]
    fn headers_in_order_with_the_token_only_for_temporary_keys() {
        let names = |h: Vec<(&'static str, String)>| h.into_iter().map(|(n, _)| n).collect::<Vec<_>>();
        let plain = ["Content-Type", "Host", "X-TC-Action", "X-TC-Timestamp", "X-TC-Version", "X-TC-Region"];
        assert_eq!(names(sign(&cred(None), &req(b"{}"), 1)), [&plain[..], &["Authorization"]].concat());
        assert_eq!(
            names(sign(&cred(Some("tok")), &req(b"{}"), 1)),
            [&plain[..], &["X-TC-Token", "Authorization"]].concat()
        );
    }

    #[test]
    fn the_signature_covers_payload_host_key_and_time() {
        let auth = |c: &Credentials, r: &Request<'_>, t| sign(c, r, t).pop().unwrap().1;
        let base = auth(&cred(None), &req(b"{}"), 1_700_000_000);
        assert!(
            base.starts_with("TC3-HMAC-SHA256 Credential=AKIDexample/2023-11-14/scf/tc3_request, SignedHeaders=content-type;host, Signature="),
            "{base}"
        );
        let sig = |a: &str| a.rsplit('=').next().unwrap().to_string();
        assert_eq!(sig(&base).len(), 64);
        let other_key = Credentials::new("AKIDexample", "secreT", None).unwrap();
        let mut other_host = req(b"{}");
        other_host.host = "127.0.0.1:9000";
        for changed in [
            auth(&cred(None), &req(b"{ }"), 1_700_000_000),
            auth(&cred(None), &req(b"{}"), 1_700_000_001),
            auth(&other_key, &req(b"{}"), 1_700_000_000),
            auth(&cred(None), &other_host, 1_700_000_000),
        ] {
            assert_ne!(sig(&changed), sig(&base));
        }
        // The token is not signed (the SDK signs content-type and host only).
        assert_eq!(sig(&auth(&cred(Some("t")), &req(b"{}"), 1_700_000_000)), sig(&base));
    }

    #[test]
    fn credentials_refuse_header_breaking_values_without_showing_them() {
        let e = Credentials::new("AKID", "key", Some("tok\r\nX-Evil: 1")).unwrap_err();
        assert_eq!(
            e,
            "TENCENTCLOUD_SESSION_TOKEN holds a character an HTTP header cannot carry (a line break, or not ASCII)"
        );
        assert!(Credentials::new("AKID\n", "key", None).unwrap_err().starts_with("TENCENTCLOUD_SECRET_ID "));
        let c = Credentials::new("AKID", "hunter2", Some("tok-secret")).unwrap();
        let shown = format!("{c:?}");
        assert!(shown.contains("AKID") && !shown.contains("hunter2") && !shown.contains("tok-secret"), "{shown}");
    }

    #[test]
    fn credentials_from_the_environment_need_both_keys() {
        let env = |pairs: &'static [(&'static str, &'static str)]| {
            move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
        };
        let missing = "set TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY (and TENCENTCLOUD_SESSION_TOKEN for temporary keys)";
        assert_eq!(Credentials::from_env(env(&[])).unwrap_err(), missing);
        assert_eq!(Credentials::from_env(env(&[(SECRET_ID_VAR, "id")])).unwrap_err(), missing);
        assert_eq!(Credentials::from_env(env(&[(SECRET_ID_VAR, "id"), (SECRET_KEY_VAR, "")])).unwrap_err(), missing);
        let c = Credentials::from_env(env(&[(SECRET_ID_VAR, "id"), (SECRET_KEY_VAR, "k"), (TOKEN_VAR, "")])).unwrap();
        assert_eq!((c.secret_id(), c.token.is_none()), ("id", true), "an empty token is no token");
        let c = Credentials::from_env(env(&[(SECRET_ID_VAR, "id"), (SECRET_KEY_VAR, "k"), (TOKEN_VAR, "t")])).unwrap();
        assert_eq!(c.token.map(|t| t.0).as_deref(), Some("t"));
    }
}
