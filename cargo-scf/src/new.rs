//! `cargo scf new`: a function project, anywhere, that builds with a plain
//! `cargo build --release` as well as with `cargo scf build`.
//!
//! What the runtime's link needs comes from the runtime crate or from the
//! files written here, nothing typed by hand:
//! - `build.rs` re-emits the link arguments the runtime's build script
//!   publishes (`DEP_SCF_BOOTSTRAP_LINK_ARG_<n>`: its linker script, and for
//!   C the compiled handler); for Zig it also compiles src/handler.zig;
//! - `.cargo/config.toml`: the musl target and the runtime's own sections
//!   for the two musl targets (rustflags, the aarch64 linker), copied from
//!   the packaged crate's `.cargo/config.toml` (codegen flags such as
//!   relocation-model cannot come from a dependency); for C,
//!   SCF_HANDLER_LIBS naming src/handler.c, which the runtime's build script
//!   compiles;
//! - `Cargo.toml`: the runtime by version, the platform as features (`scf`,
//!   `lambda`) over the runtime's, its `[profile.release]` (cargo takes
//!   profiles from the workspace being built only), and, while the runtime
//!   is unpublished, the `[patch.crates-io]` that names its source.

use crate::elf::Arch;
use crate::package::Platform;
use crate::{names, runtime, Fatal, Msg};
use std::fs;
use std::path::{Path, PathBuf};

/// The handler's language.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    Rust,
    C,
    Zig,
}

impl Lang {
    pub fn from_name(name: &str) -> Option<Lang> {
        match name {
            "rust" => Some(Lang::Rust),
            "c" => Some(Lang::C),
            "zig" => Some(Lang::Zig),
            _ => None,
        }
    }

    fn title(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::C => "C",
            Lang::Zig => "Zig",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Lang::Rust => "src/main.rs",
            Lang::C => "src/handler.c",
            Lang::Zig => "src/handler.zig",
        }
    }
}

/// Where the project's scf-bootstrap comes from while it is unpublished.
#[derive(Debug)]
pub enum Source {
    /// The crate cargo-scf carries, unpacked in its cache.
    Carried,
    /// A directory holding the crate (a clone, or an unpacked .crate).
    Path(PathBuf),
    /// A git repository.
    Git(String),
}

/// What `cargo scf new` was asked for.
#[derive(Debug)]
pub struct NewArgs {
    pub path: PathBuf,
    pub name: Option<String>,
    pub lang: Lang,
    pub std: bool,
    pub platform: Platform,
    pub source: Source,
}

/// The Zig flags of a handler object: no stack probes, no UBSan calls and
/// no PIC, each of which would leave symbols undefined (compiler_rt,
/// `__ubsan_*`) or relocations the static link cannot take; no debug info.
pub const ZIG_FLAGS: &[&str] = &["-O", "ReleaseSmall", "-fno-stack-check", "-fno-sanitize-c", "-fno-PIC", "-fstrip"];

const GUIDE_EVENT: &str = scf_emulator::GUIDE_EVENT;

/// A TOML basic string (JSON's escapes are TOML's).
fn toml_str(s: &str) -> String {
    serde_json::to_string(s).expect("a string serialises")
}

fn toml_list(items: &[String]) -> String {
    let quoted: Vec<String> = items.iter().map(|s| toml_str(s)).collect();
    format!("[{}]", quoted.join(", "))
}

/// The `[patch.crates-io]` value for the source, and the line above it.
fn patch(source: &Source) -> Result<(String, &'static str), Fatal> {
    Ok(match source {
        Source::Carried => {
            let dir = runtime::ensure_unpacked()?;
            let path =
                dir.to_str().ok_or_else(|| Fatal::new(format!("the cache path {} is not UTF-8", dir.display())))?;
            (
                format!("{{ path = {} }}", toml_str(path)),
                "# the copy cargo-scf carries, unpacked outside any checkout (cargo scf\n\
                 # rewrites it before each build; CARGO_SCF_CACHE moves it).",
            )
        }
        Source::Path(dir) => {
            let abs =
                fs::canonicalize(dir).map_err(|e| Fatal::new(format!("--runtime-path {}: {e}", dir.display())))?;
            let manifest = fs::read_to_string(abs.join("Cargo.toml")).unwrap_or_default();
            if !manifest.lines().any(|l| l.trim() == "name = \"scf-bootstrap\"") {
                return Err(Fatal::new(format!(
                    "--runtime-path {}: no scf-bootstrap crate there (its Cargo.toml must name the package scf-bootstrap)",
                    dir.display()
                )));
            }
            let path =
                abs.to_str().ok_or_else(|| Fatal::new(format!("--runtime-path {}: not UTF-8", dir.display())))?;
            (format!("{{ path = {} }}", toml_str(path)), "# the directory given to cargo scf new --runtime-path.")
        }
        Source::Git(url) => {
            (format!("{{ git = {} }}", toml_str(url)), "# the repository given to cargo scf new --runtime-git.")
        }
    })
}

fn cargo_toml(name: &str, a: &NewArgs) -> Result<String, Fatal> {
    let (patch, patch_note) = patch(&a.source)?;
    // The runtime's default features other than the platforms', forwarded
    // so that the project's own defaults keep them when it chooses one
    // platform (--no-default-features).
    let others: Vec<String> =
        runtime::default_features().iter().filter(|f| **f != "scf" && **f != "lambda").map(|f| f.to_string()).collect();
    let mut defaults = vec![a.platform.feature().to_string()];
    defaults.extend(others.iter().cloned());
    let mut dep = format!("{{ version = {}, default-features = false", toml_str(runtime::VERSION));
    if a.std {
        dep.push_str(", features = [\"std\"]");
    }
    dep.push_str(" }");
    let (scf, scf_note) = if runtime::has_feature("scf") {
        ("[\"scf-bootstrap/scf\"]", "")
    } else {
        ("[]", "\n# `scf` enables nothing: this runtime speaks SCF in every build.")
    };
    let mut t = format!(
        "# A function in {lang} on the scf-bootstrap runtime, made by `cargo scf new`.\n\
         # `cargo scf build` writes the zip (target/{plat}/{name}.zip); `cargo build\n\
         # --release` the bootstrap alone (target/x86_64-unknown-linux-musl/release/).\n\
         [package]\n\
         name = {name_s}\n\
         version = \"0.1.0\"\n\
         edition = \"2021\"\n\
         publish = false\n\
         \n\
         [[bin]]\n\
         name = \"bootstrap\"\n\
         path = \"src/main.rs\"\n\
         test = false\n\
         bench = false\n\
         \n\
         [dependencies]\n\
         scf-bootstrap = {dep}\n",
        lang = a.lang.title(),
        plat = a.platform.feature(),
        name_s = toml_str(name),
    );
    if a.std {
        t.push_str("serde = { version = \"1\", features = [\"derive\"] }\nserde_json = \"1\"\n");
    }
    t.push_str(&format!(
        "\n[features]\n\
         # The platform whose runtime API the bootstrap speaks: `scf` (Tencent Cloud\n\
         # SCF) or `lambda` (AWS Lambda); both: chosen at start from the environment.\n\
         # `cargo scf build --platform` picks one; the other defaults are the\n\
         # runtime's own.{scf_note}\n\
         default = {defaults}\n\
         scf = {scf}\n\
         lambda = [\"scf-bootstrap/lambda\"]\n",
        defaults = toml_list(&defaults),
    ));
    for f in &others {
        t.push_str(&format!("{f} = [\"scf-bootstrap/{f}\"]\n"));
    }
    if runtime::has_feature("serve") && !others.iter().any(|f| f == "serve") {
        t.push_str(
            "# Push mode for SCF image functions (`bootstrap serve`); `cargo scf build\n\
             # --image` turns it on.\n\
             serve = [\"scf-bootstrap/serve\"]\n",
        );
    }
    if runtime::has_feature("resolve") && !others.iter().any(|f| f == "resolve") {
        t.push_str(
            "# Host names for the runtime API (neither platform passes one, so not a\n\
             # default: the runtime's docs/platforms.md).\n\
             resolve = [\"scf-bootstrap/resolve\"]\n",
        );
    }
    t.push_str("\n# A workspace of its own, wherever the directory is.\n[workspace]\n");
    for profile in ["release", "dev"] {
        if let Some(section) = runtime::profile(profile) {
            t.push_str(&format!("\n# scf-bootstrap's own [profile.{profile}] (from its Cargo.toml).\n{section}"));
        }
    }
    t.push_str(&format!(
        "\n# Until scf-bootstrap is on crates.io, the dependency above comes from\n\
         {patch_note}\n\
         # Delete these two lines once it is published.\n\
         [patch.crates-io]\n\
         scf-bootstrap = {patch}\n"
    ));
    Ok(t)
}

fn cargo_config(lang: Lang) -> Result<String, Fatal> {
    let mut t = String::from(
        "# Made by `cargo scf new`. Cargo reads this file for builds started in this\n\
         # directory (cargo scf build runs cargo here too).\n\
         [build]\n\
         target = \"x86_64-unknown-linux-musl\"\n",
    );
    for arch in Arch::ALL {
        let section = runtime::target_config(arch.triple()).ok_or_else(|| {
            Fatal::new(format!("the carried runtime crate has no [target.{}] in its .cargo/config.toml", arch.triple()))
        })?;
        t.push_str(&format!("\n# scf-bootstrap's own link settings (its .cargo/config.toml).\n{section}"));
    }
    if lang == Lang::C {
        t.push_str(
            "\n# The C handler: the runtime's build script compiles it for musl against\n\
             # scf_bootstrap.h, and build.rs passes the object on to the link. More\n\
             # sources, objects or archives: `:`-separated.\n\
             [env]\n\
             SCF_HANDLER_LIBS = { value = \"src/handler.c\", relative = true }\n",
        );
    }
    Ok(t)
}

fn readme(name: &str, a: &NewArgs) -> String {
    let deploy = match a.platform {
        Platform::Scf => "cargo scf deploy                  # to SCF (see `cargo scf deploy --help`)".to_string(),
        Platform::Lambda => format!(
            "aws lambda create-function --function-name {name} --runtime provided.al2023 \\\n    \
             --architectures x86_64 --handler index.main_handler --role arn:aws:iam::ACCOUNT:role/ROLE \\\n    \
             --zip-file fileb://target/lambda/{name}.zip"
        ),
    };
    format!(
        "# {name}\n\n\
         A function for {platform} with its handler, `main_handler`, in `{source}`, linked\n\
         into the scf-bootstrap runtime. Made by `cargo scf new`.\n\n\
         ```sh\n\
         cargo scf invoke                  # build, then invoke locally with event.json\n\
         cargo scf invoke --event events/apigw.json\n\
         cargo scf run --watch             # serve POST /invoke on 127.0.0.1:9001; rebuilt on each edit\n\
         cargo scf build                   # target/{plat}/{name}.zip\n\
         {deploy}\n\
         ```\n\n\
         `events/` holds a sample event of each trigger. `cargo scf run --apigw` turns\n\
         every HTTP request into an API gateway event, for a handler that answers\n\
         with the gateway's integrated response. The handler setting is\n\
         `index.main_handler`: the part after the dot picks the handler linked into\n\
         the bootstrap.\n",
        platform = match a.platform {
            Platform::Scf => "Tencent Cloud SCF",
            Platform::Lambda => "AWS Lambda",
        },
        source = a.lang.source(),
        plat = a.platform.feature(),
    )
}

/// The sample events of the platform's triggers (templates/events).
fn events(platform: Platform) -> &'static [(&'static str, &'static str)] {
    match platform {
        Platform::Scf => &[
            ("apigw.json", include_str!("../templates/events/scf/apigw.json")),
            ("timer.json", include_str!("../templates/events/scf/timer.json")),
            ("cos.json", include_str!("../templates/events/scf/cos.json")),
            ("cmq.json", include_str!("../templates/events/scf/cmq.json")),
            ("ckafka.json", include_str!("../templates/events/scf/ckafka.json")),
        ],
        Platform::Lambda => &[
            ("apigw.json", include_str!("../templates/events/lambda/apigw.json")),
            ("schedule.json", include_str!("../templates/events/lambda/schedule.json")),
            ("s3.json", include_str!("../templates/events/lambda/s3.json")),
            ("sqs.json", include_str!("../templates/events/lambda/sqs.json")),
        ],
    }
}

/// Every file of the project, by path.
fn files(name: &str, a: &NewArgs) -> Result<Vec<(String, String)>, Fatal> {
    let mut files = vec![
        ("Cargo.toml".to_string(), cargo_toml(name, a)?),
        (".cargo/config.toml".to_string(), cargo_config(a.lang)?),
        ("README.md".to_string(), readme(name, a)),
        ("event.json".to_string(), if a.std { "{\"name\":\"SCF\"}".to_string() } else { GUIDE_EVENT.to_string() }),
        (".gitignore".to_string(), "/target\n*.zip\n".to_string()),
    ];
    for (file, text) in events(a.platform) {
        files.push((format!("events/{file}"), text.to_string()));
    }
    let build_rs = include_str!("../templates/build.rs");
    let sources: &[(&str, &str)] = match (a.lang, a.std) {
        (Lang::Rust, false) => {
            &[("src/main.rs", include_str!("../templates/rust/src/main.rs")), ("build.rs", build_rs)]
        }
        (Lang::Rust, true) => {
            &[("src/main.rs", include_str!("../templates/rust-std/src/main.rs")), ("build.rs", build_rs)]
        }
        (Lang::C, _) => &[
            ("src/main.rs", include_str!("../templates/c/src/main.rs")),
            ("src/handler.c", include_str!("../templates/c/src/handler.c")),
            ("build.rs", build_rs),
        ],
        (Lang::Zig, _) => &[
            ("src/main.rs", include_str!("../templates/zig/src/main.rs")),
            ("src/handler.zig", include_str!("../templates/zig/src/handler.zig")),
        ],
    };
    files.extend(sources.iter().map(|(p, t)| (p.to_string(), t.to_string())));
    if a.lang == Lang::Zig {
        // One Rust string literal a line (JSON's escapes are Rust's too).
        let flags: Vec<String> = ZIG_FLAGS.iter().map(|f| format!("    {},", toml_str(f))).collect();
        files.push((
            "build.rs".into(),
            include_str!("../templates/zig/build.rs").replace("@ZIG_FLAGS@", &flags.join("\n")),
        ));
        // The ABI declarations src/handler.zig imports.
        let abi = runtime::file("include/scf_bootstrap.zig")
            .ok_or_else(|| Fatal::new("the carried runtime crate has no include/scf_bootstrap.zig"))?;
        files.push(("src/scf_bootstrap.zig".into(), String::from_utf8_lossy(abi).into_owned()));
    }
    Ok(files)
}

/// Creates the project; returns its name.
pub fn create(a: &NewArgs, msg: &Msg) -> Result<String, Fatal> {
    if a.std && a.lang != Lang::Rust {
        return Err(Fatal::new("--std is for --lang rust (C and Zig handlers bring their own libraries)"));
    }
    let name = match &a.name {
        Some(n) => n.clone(),
        None => a.path.file_name().and_then(|n| n.to_str()).map(String::from).ok_or_else(|| {
            Fatal::new(format!("{}: no function name in that path; give one with --name", a.path.display()))
        })?,
    };
    if let Some(problem) = names::problem(&name, a.platform) {
        return Err(Fatal::new(format!("function name '{name}': {problem}")));
    }
    let dir = &a.path;
    if dir.exists() && (!dir.is_dir() || fs::read_dir(dir).map(|mut d| d.next().is_some()).unwrap_or(true)) {
        return Err(Fatal::new(format!("{} already exists and is not an empty directory", dir.display())));
    }
    let files = files(&name, a)?;
    let existed = dir.exists();
    let write = || -> std::io::Result<()> {
        for (rel, text) in &files {
            let path = dir.join(rel);
            fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
            fs::write(&path, text)?;
        }
        Ok(())
    };
    if let Err(e) = write() {
        if !existed {
            let _ = fs::remove_dir_all(dir);
        }
        return Err(Fatal::new(format!("cannot write the project in {}: {e}", dir.display())));
    }
    let shown = shell_word(&dir.display().to_string());
    let std = if a.std { " (std)" } else { "" };
    msg.out(&format!("created {}{std} function {name} for {} in {shown}", a.lang.title(), a.platform.title()));
    msg.out(&format!("  cd {shown} && cargo scf invoke     # build it, invoke it locally with event.json"));
    Ok(name)
}

/// `s` quoted for a POSIX shell if it needs it.
fn shell_word(s: &str) -> String {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+=:@%,".contains(c)) {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_words_are_quoted_when_they_must_be() {
        assert_eq!(shell_word("../fns/hello"), "../fns/hello");
        assert_eq!(shell_word("my fns/hello"), "'my fns/hello'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }

    /// Each sample event is JSON (the emulator refuses anything else, as
    /// SCF does), and SCF's API gateway sample has every field of the
    /// event in Tencent's guide (tests/fixtures/examples/apigw-guide.json).
    #[test]
    fn sample_events_are_json_and_the_gateway_s_has_the_guide_s_fields() {
        for platform in [Platform::Scf, Platform::Lambda] {
            for (name, text) in events(platform) {
                serde_json::from_str::<serde_json::Value>(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            }
        }
        let guide: serde_json::Value =
            serde_json::from_str(include_str!("../../tests/fixtures/examples/apigw-guide.json")).unwrap();
        let ours: serde_json::Value = serde_json::from_str(events(Platform::Scf)[0].1).unwrap();
        for key in guide.as_object().unwrap().keys() {
            assert!(ours.get(key).is_some(), "the SCF apigw sample lacks {key}");
        }
        for key in guide["requestContext"].as_object().unwrap().keys() {
            assert!(ours["requestContext"].get(key).is_some(), "the SCF apigw sample's requestContext lacks {key}");
        }
    }
}
