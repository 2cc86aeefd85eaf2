//! OCI image archives without a daemon: [`write()`] packs a bootstrap into a
//! FROM-scratch image as an `oci-archive` (a tar of an OCI image layout,
//! what `skopeo`, `podman load` and `docker load` read), and [`read`] opens
//! such an archive, or one another tool made, back into its config and its
//! files.
//!
//! ```text
//! archive.tar                      (plain tar, entries sorted by name)
//! ├── blobs/sha256/<layer>         gzip of a tar holding /bootstrap (0755)
//! ├── blobs/sha256/<config>        Entrypoint ["/bootstrap"], Cmd ["serve"],
//! │                                ExposedPorts 9000/tcp, os, architecture
//! ├── blobs/sha256/<manifest>      config + layer descriptors
//! ├── index.json                   the manifest, ref name "latest"
//! └── oci-layout                   {"imageLayoutVersion":"1.0.0"}
//! ```
//!
//! The same input always gives the same bytes: every tar entry has mtime
//! 0, uid and gid 0 and no user or group names; the gzip header has no
//! name and mtime 0; JSON keys come in a fixed order. The archive has no
//! directory entries (`blobs/`, `blobs/sha256/`): readers create parent
//! directories, and each entry would cost 512 bytes of a budget counted
//! in kilobytes. The layer is gzip (`tar+gzip`, the one compression every
//! image reader takes), compressed with zopfli.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, Read};
use std::path::{Component, Path, PathBuf};

const LAYOUT: &str = r#"{"imageLayoutVersion":"1.0.0"}"#;
const INDEX_TYPE: &str = "application/vnd.oci.image.index.v1+json";
const MANIFEST_TYPE: &str = "application/vnd.oci.image.manifest.v1+json";
const CONFIG_TYPE: &str = "application/vnd.oci.image.config.v1+json";
const LAYER_GZIP_TYPE: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const REF_NAME: &str = "org.opencontainers.image.ref.name";

/// The CPU architecture an image is for, in OCI's (Go's) names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// `amd64`: SCF's (its functions run on x86-64 only).
    Amd64,
    /// `arm64`.
    Arm64,
}

impl Arch {
    pub fn name(self) -> &'static str {
        match self {
            Arch::Amd64 => "amd64",
            Arch::Arm64 => "arm64",
        }
    }
}

/// One file of an image's single layer.
#[derive(Debug, Clone, Copy)]
pub struct File<'a> {
    /// Its path in the image, absolute (`/bootstrap`).
    pub path: &'a str,
    /// Its permission bits (`0o755`).
    pub mode: u32,
    pub data: &'a [u8],
}

/// What an image holds and how it starts.
#[derive(Debug, Clone)]
pub struct Spec<'a> {
    /// The files of its one layer, in any order (the layer lists them
    /// sorted by path).
    pub files: Vec<File<'a>>,
    pub entrypoint: Vec<&'a str>,
    pub cmd: Vec<&'a str>,
    /// Ports the image exposes (`9000/tcp`).
    pub exposed_ports: Vec<&'a str>,
    /// `KEY=VALUE` pairs of the config's `Env`.
    pub env: Vec<&'a str>,
    pub arch: Arch,
    /// The index's `org.opencontainers.image.ref.name` (`latest`).
    pub ref_name: &'a str,
}

impl<'a> Spec<'a> {
    /// The image of an SCF event function served by `bootstrap`: `/bootstrap`
    /// (0755) alone, started as `/bootstrap serve`, exposing 9000/tcp.
    pub fn bootstrap(bootstrap: &'a [u8], arch: Arch) -> Spec<'a> {
        Spec {
            files: vec![File {
                path: "/bootstrap",
                mode: 0o755,
                data: bootstrap,
            }],
            entrypoint: vec!["/bootstrap"],
            cmd: vec!["serve"],
            exposed_ports: vec!["9000/tcp"],
            env: Vec::new(),
            arch,
            ref_name: "latest",
        }
    }
}

/// The `oci-archive` of [`Spec::bootstrap`]: `bootstrap` as `/bootstrap`
/// of a FROM-scratch image for `arch`, started as `/bootstrap serve`.
pub fn write(bootstrap: &[u8], arch: Arch) -> Vec<u8> {
    write_spec(&Spec::bootstrap(bootstrap, arch))
}

/// The `oci-archive` of any [`Spec`].
pub fn write_spec(spec: &Spec) -> Vec<u8> {
    let mut files = spec.files.clone();
    files.sort_by(|a, b| a.path.cmp(b.path));
    let layer_tar = tar_of(
        files
            .iter()
            .map(|f| (f.path.trim_start_matches('/'), f.mode, f.data)),
    );
    let layer = gzip(&layer_tar);
    let config = ConfigJson {
        created: "1970-01-01T00:00:00Z",
        architecture: spec.arch.name(),
        os: "linux",
        config: RunConfig {
            exposed_ports: spec
                .exposed_ports
                .iter()
                .map(|p| (p.to_string(), Empty {}))
                .collect(),
            env: spec.env.iter().map(|s| s.to_string()).collect(),
            entrypoint: spec.entrypoint.iter().map(|s| s.to_string()).collect(),
            cmd: spec.cmd.iter().map(|s| s.to_string()).collect(),
            working_dir: None,
        },
        rootfs: RootFs {
            kind: "layers".into(),
            diff_ids: vec![digest(&layer_tar)],
        },
    };
    let config = json(&config);
    let manifest = json(&ManifestJson {
        schema_version: 2,
        media_type: Some(MANIFEST_TYPE.into()),
        config: Descriptor::of(CONFIG_TYPE, &config),
        layers: vec![Descriptor::of(LAYER_GZIP_TYPE, &layer)],
    });
    let mut described = Descriptor::of(MANIFEST_TYPE, &manifest);
    described
        .annotations
        .insert(REF_NAME.into(), spec.ref_name.into());
    described.platform = Some(Platform {
        architecture: spec.arch.name().into(),
        os: "linux".into(),
    });
    let index = json(&IndexJson {
        schema_version: 2,
        media_type: Some(INDEX_TYPE.into()),
        manifests: vec![described],
    });
    let blob = |data: &[u8]| format!("blobs/sha256/{}", hex(data));
    let mut entries = [
        (blob(&layer), layer.as_slice()),
        (blob(&config), config.as_slice()),
        (blob(&manifest), manifest.as_slice()),
        ("index.json".to_string(), index.as_slice()),
        ("oci-layout".to_string(), LAYOUT.as_bytes()),
    ];
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    tar_of(
        entries
            .iter()
            .map(|(name, data)| (name.as_str(), 0o644, *data)),
    )
}

/// A tar of regular files, deterministic: mtime 0, owner 0:0, no names.
fn tar_of<'a>(files: impl Iterator<Item = (&'a str, u32, &'a [u8])>) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, mode, data) in files {
        let mut h = tar::Header::new_ustar();
        // Paths here are ASCII and short (a blob's is 77 bytes, under
        // ustar's 100), so setting one cannot fail.
        h.set_path(path)
            .expect("a short ASCII path fits a ustar header");
        h.set_size(data.len() as u64);
        h.set_mode(mode & 0o7777);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        h.set_cksum();
        b.append(&h, data).expect("writing to memory cannot fail");
    }
    b.into_inner().expect("writing to memory cannot fail")
}

/// gzip by zopfli, its settings fixed here so that the bytes do not change
/// with the crate's defaults; the header has no name and mtime 0. Five
/// iterations instead of the default 15: on the default bootstrap the
/// stream is 3 bytes longer (26,682 against 26,679 B, measured with the
/// zopfli Python package on the same tar), which the tar's 512-byte
/// padding absorbs, in a third of the time.
fn gzip(data: &[u8]) -> Vec<u8> {
    let options = zopfli::Options {
        iteration_count: std::num::NonZeroU64::new(5).expect("5 is not zero"),
        iterations_without_improvement: std::num::NonZeroU64::MAX,
        maximum_block_splits: 15,
    };
    let mut out = Vec::new();
    zopfli::compress(options, zopfli::Format::Gzip, data, &mut out)
        .expect("compressing in memory cannot fail");
    out
}

fn hex(data: &[u8]) -> String {
    format!("{:x}", Sha256::digest(data))
}

fn digest(data: &[u8]) -> String {
    format!("sha256:{}", hex(data))
}

fn json<T: Serialize>(v: &T) -> Vec<u8> {
    serde_json::to_vec(v).expect("plain data serializes")
}

#[derive(Serialize, Deserialize, Clone, Debug)]
#[serde(rename_all = "camelCase")]
struct Descriptor {
    media_type: String,
    digest: String,
    size: u64,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    annotations: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    platform: Option<Platform>,
}

impl Descriptor {
    fn of(media_type: &str, data: &[u8]) -> Descriptor {
        Descriptor {
            media_type: media_type.into(),
            digest: digest(data),
            size: data.len() as u64,
            annotations: BTreeMap::new(),
            platform: None,
        }
    }
}

#[derive(Serialize, Deserialize, Clone, Debug)]
struct Platform {
    architecture: String,
    os: String,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct IndexJson {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    manifests: Vec<Descriptor>,
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ManifestJson {
    schema_version: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    media_type: Option<String>,
    config: Descriptor,
    layers: Vec<Descriptor>,
}

#[derive(Serialize)]
struct ConfigJson<'a> {
    created: &'a str,
    architecture: &'a str,
    os: &'a str,
    config: RunConfig,
    rootfs: RootFs,
}

#[derive(Serialize, Deserialize)]
struct Empty {}

/// The part of an image config that says how to run it.
#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RunConfig {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    exposed_ports: BTreeMap<String, Empty>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    env: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    entrypoint: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    cmd: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    working_dir: Option<String>,
}

/// Docker writes `null` for an unset list.
fn null_as_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

#[derive(Serialize, Deserialize)]
struct RootFs {
    #[serde(rename = "type")]
    kind: String,
    diff_ids: Vec<String>,
}

#[derive(Deserialize)]
struct ConfigIn {
    #[serde(default)]
    architecture: String,
    #[serde(default)]
    os: String,
    #[serde(default)]
    config: Option<RunConfig>,
}

/// A Docker archive's `manifest.json` entry (`docker save` before OCI).
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DockerManifest {
    config: String,
    layers: Vec<String>,
}

/// Why an archive could not be read. Each names one fault.
#[derive(Debug)]
pub enum Error {
    /// Not a tar, or a tar entry that cannot be read.
    Tar(io::Error),
    /// Neither `index.json` (OCI) nor `manifest.json` (Docker) found.
    NotAnImage,
    /// A file the image refers to is not in it.
    Missing(String),
    /// A JSON document that does not parse as what it should be.
    Json(&'static str, serde_json::Error),
    /// A blob whose content does not match its digest.
    Digest(String),
    /// The index lists no image manifest.
    NoManifest,
    /// A layer compressed with something other than gzip (zstd, say).
    Compression(String),
    /// A layer entry that would land outside the image's root (`..`).
    Path(String),
    /// Writing the unpacked files failed.
    Io(PathBuf, io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Tar(e) => write!(f, "not a readable tar archive: {e}"),
            Error::NotAnImage => {
                f.write_str("not an image archive: it has neither index.json (OCI layout) nor manifest.json (docker save)")
            }
            Error::Missing(name) => write!(f, "the image refers to {name}, which the archive does not hold"),
            Error::Json(what, e) => write!(f, "invalid {what}: {e}"),
            Error::Digest(name) => write!(f, "{name} does not match its digest"),
            Error::NoManifest => f.write_str("the image index lists no image manifest"),
            Error::Compression(name) => {
                write!(f, "layer {name} is neither a tar nor gzip-compressed (zstd layers are not supported)")
            }
            Error::Path(name) => write!(f, "layer entry {name:?} would land outside the image root"),
            Error::Io(path, e) => write!(f, "cannot write {}: {e}", path.display()),
        }
    }
}

impl std::error::Error for Error {}

/// How an image starts, from its config.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSpec {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    /// `KEY=VALUE` pairs.
    pub env: Vec<String>,
    pub working_dir: Option<String>,
    /// `9000/tcp` and the like, sorted.
    pub exposed_ports: Vec<String>,
}

impl RunSpec {
    /// The command the image runs: its entrypoint, then its cmd.
    pub fn command(&self) -> Vec<String> {
        self.entrypoint.iter().chain(&self.cmd).cloned().collect()
    }
}

/// One node of an image's file tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir { mode: u32 },
    File { mode: u32, data: Vec<u8> },
    Symlink(String),
}

/// An image read back: its platform, how it starts, and its files with
/// every layer applied in order (later layers win; whiteouts delete).
#[derive(Debug, Clone)]
pub struct Image {
    pub architecture: String,
    pub os: String,
    pub run: RunSpec,
    /// Paths relative to the root (`bootstrap`, `usr/bin/env`), sorted.
    pub files: BTreeMap<String, Node>,
}

impl Image {
    /// A regular file's content, by its path in the image (`/bootstrap`).
    pub fn file(&self, path: &str) -> Option<&[u8]> {
        match self.files.get(path.trim_start_matches('/')) {
            Some(Node::File { data, .. }) => Some(data),
            _ => None,
        }
    }

    /// A regular file's permission bits.
    pub fn mode(&self, path: &str) -> Option<u32> {
        match self.files.get(path.trim_start_matches('/')) {
            Some(Node::File { mode, .. }) => Some(*mode),
            _ => None,
        }
    }

    /// Writes the file tree under `root` (which must exist): directories,
    /// then files with their permission bits, then symbolic links (last,
    /// so that nothing is written through one). Owners are not kept.
    pub fn unpack(&self, root: &Path) -> Result<(), Error> {
        use std::os::unix::fs::PermissionsExt;
        let io = |p: &Path| {
            let p = p.to_path_buf();
            move |e| Error::Io(p, e)
        };
        for pass in 0..3 {
            for (name, node) in &self.files {
                let path = root.join(name);
                match (pass, node) {
                    (0, Node::Dir { .. }) => std::fs::create_dir_all(&path).map_err(io(&path))?,
                    (1, Node::File { mode, data }) => {
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent).map_err(io(parent))?;
                        }
                        std::fs::write(&path, data).map_err(io(&path))?;
                        let perm = std::fs::Permissions::from_mode(mode & 0o777);
                        std::fs::set_permissions(&path, perm).map_err(io(&path))?;
                    }
                    (2, Node::Symlink(target)) => {
                        if let Some(parent) = path.parent() {
                            std::fs::create_dir_all(parent).map_err(io(parent))?;
                        }
                        std::os::unix::fs::symlink(target, &path).map_err(io(&path))?;
                    }
                    _ => {}
                }
            }
        }
        // Directory modes last (a read-only directory would refuse its
        // files), kept writable by their owner so that the tree can be
        // removed again.
        for (name, node) in &self.files {
            if let Node::Dir { mode } = node {
                let path = root.join(name);
                let perm = std::fs::Permissions::from_mode((mode & 0o777) | 0o700);
                std::fs::set_permissions(&path, perm).map_err(io(&path))?;
            }
        }
        Ok(())
    }
}

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// `data` decompressed if it is gzip, else as it is.
fn gunzipped(data: &[u8]) -> Result<Vec<u8>, Error> {
    if !data.starts_with(&GZIP_MAGIC) {
        return Ok(data.to_vec());
    }
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(data)
        .read_to_end(&mut out)
        .map_err(Error::Tar)?;
    Ok(out)
}

/// The files of an archive or layout, by name.
type Blobs = BTreeMap<String, Vec<u8>>;

/// Reads an `oci-archive` (a tar of an OCI image layout, as [`write()`],
/// `skopeo copy ... oci-archive:` or `docker save` since Docker 25 make
/// it) or an older `docker save` archive (`manifest.json` with layer
/// tars). The archive's tar may itself be gzip-compressed.
pub fn read(archive: &[u8]) -> Result<Image, Error> {
    let archive = gunzipped(archive)?;
    let mut blobs = Blobs::new();
    let mut ar = tar::Archive::new(archive.as_slice());
    for entry in ar.entries().map_err(Error::Tar)? {
        let mut entry = entry.map_err(Error::Tar)?;
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let name = normal(&entry.path().map_err(Error::Tar)?.to_string_lossy()).unwrap_or_default();
        let mut data = Vec::new();
        entry.read_to_end(&mut data).map_err(Error::Tar)?;
        blobs.insert(name, data);
    }
    from_blobs(&blobs)
}

/// Reads an OCI image layout directory (`skopeo copy ... oci:DIR`, or an
/// extracted archive).
pub fn read_layout(dir: &Path) -> Result<Image, Error> {
    let mut blobs = Blobs::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        for e in std::fs::read_dir(&d).map_err(|e| Error::Io(d.clone(), e))? {
            let path = e.map_err(|e| Error::Io(d.clone(), e))?.path();
            if path.is_dir() {
                todo.push(path);
            } else if let Ok(rel) = path.strip_prefix(dir) {
                let data = std::fs::read(&path).map_err(|e| Error::Io(path.clone(), e))?;
                blobs.insert(rel.to_string_lossy().into_owned(), data);
            }
        }
    }
    from_blobs(&blobs)
}

fn from_blobs(blobs: &Blobs) -> Result<Image, Error> {
    let get = |name: &str| {
        blobs
            .get(name)
            .ok_or_else(|| Error::Missing(name.to_string()))
    };
    let (config, layers): (&[u8], Vec<&[u8]>) = if let Some(index) = blobs.get("index.json") {
        let blob = |d: &Descriptor| -> Result<&[u8], Error> {
            let name = format!("blobs/{}", d.digest.replacen(':', "/", 1));
            let data = get(&name)?;
            if digest(data) != d.digest {
                return Err(Error::Digest(name));
            }
            Ok(data)
        };
        let mut index: IndexJson =
            serde_json::from_slice(index).map_err(|e| Error::Json("index.json", e))?;
        // An index may point at another (a multi-platform image): follow it.
        let manifest = loop {
            let pick = pick_manifest(&index.manifests).ok_or(Error::NoManifest)?;
            let data = blob(pick)?;
            if pick.media_type == INDEX_TYPE || pick.media_type.ends_with("manifest.list.v2+json") {
                index = serde_json::from_slice(data).map_err(|e| Error::Json("image index", e))?;
                continue;
            }
            break serde_json::from_slice::<ManifestJson>(data)
                .map_err(|e| Error::Json("image manifest", e))?;
        };
        let layers = manifest.layers.iter().map(blob).collect::<Result<_, _>>()?;
        (blob(&manifest.config)?, layers)
    } else if let Some(m) = blobs.get("manifest.json") {
        let m: Vec<DockerManifest> =
            serde_json::from_slice(m).map_err(|e| Error::Json("manifest.json", e))?;
        let m = m.first().ok_or(Error::NoManifest)?;
        (
            get(&m.config)?,
            m.layers
                .iter()
                .map(|l| get(l).map(Vec::as_slice))
                .collect::<Result<_, _>>()?,
        )
    } else {
        return Err(Error::NotAnImage);
    };
    let config: ConfigIn =
        serde_json::from_slice(config).map_err(|e| Error::Json("image config", e))?;
    let run = config.config.unwrap_or_default();
    let mut files = BTreeMap::new();
    for (i, layer) in layers.iter().enumerate() {
        apply_layer(&mut files, layer).map_err(|e| match e {
            Error::Tar(e) => Error::Tar(io::Error::new(e.kind(), format!("layer {}: {e}", i + 1))),
            e => e,
        })?;
    }
    Ok(Image {
        architecture: config.architecture,
        os: config.os,
        run: RunSpec {
            entrypoint: run.entrypoint,
            cmd: run.cmd,
            env: run.env,
            working_dir: run.working_dir.filter(|w| !w.is_empty()),
            exposed_ports: run.exposed_ports.into_keys().collect(),
        },
        files,
    })
}

/// The manifest to use: the only one, else the linux/amd64 one, else the
/// first.
fn pick_manifest(ms: &[Descriptor]) -> Option<&Descriptor> {
    let amd64 = |d: &&Descriptor| {
        d.platform
            .as_ref()
            .is_some_and(|p| p.os == "linux" && p.architecture == "amd64")
    };
    ms.iter().find(amd64).or(ms.first())
}

/// A path inside the root, without `.`, leading `/` or `./`; `None` for the
/// root itself or one that climbs out of it.
fn normal(path: &str) -> Option<String> {
    let mut parts = Vec::new();
    for c in Path::new(path).components() {
        match c {
            Component::Normal(p) => parts.push(p.to_string_lossy().into_owned()),
            Component::CurDir | Component::RootDir => {}
            Component::ParentDir | Component::Prefix(_) => return None,
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Applies one layer (a tar, plain or gzip-compressed) to the tree:
/// `.wh.NAME` deletes NAME, `.wh..wh..opq` empties its directory (the OCI
/// whiteouts), hard links copy their target.
fn apply_layer(files: &mut BTreeMap<String, Node>, layer: &[u8]) -> Result<(), Error> {
    let tar = if layer.starts_with(&GZIP_MAGIC) {
        gunzipped(layer)?
    } else if layer.get(257..262) == Some(b"ustar") || layer.iter().all(|&b| b == 0) {
        layer.to_vec()
    } else {
        return Err(Error::Compression(digest(layer)));
    };
    let remove_under = |files: &mut BTreeMap<String, Node>, dir: &str| {
        let prefix = format!("{dir}/");
        files.retain(|k, _| !k.starts_with(&prefix));
    };
    let mut ar = tar::Archive::new(tar.as_slice());
    for entry in ar.entries().map_err(Error::Tar)? {
        let mut entry = entry.map_err(Error::Tar)?;
        let raw = entry
            .path()
            .map_err(Error::Tar)?
            .to_string_lossy()
            .into_owned();
        let Some(name) = normal(&raw) else {
            if raw.split('/').any(|c| c == "..") {
                return Err(Error::Path(raw));
            }
            continue; // the root directory itself
        };
        let (dir, base) = name.rsplit_once('/').unwrap_or(("", &name));
        if base == ".wh..wh..opq" {
            remove_under(files, dir);
            continue;
        }
        if let Some(gone) = base.strip_prefix(".wh.") {
            let gone = if dir.is_empty() {
                gone.to_string()
            } else {
                format!("{dir}/{gone}")
            };
            remove_under(files, &gone);
            files.remove(&gone);
            continue;
        }
        let header = entry.header();
        let mode = header.mode().map_err(Error::Tar)?;
        let node = match header.entry_type() {
            tar::EntryType::Directory => Node::Dir { mode },
            tar::EntryType::Symlink => {
                let target = entry.link_name().map_err(Error::Tar)?.unwrap_or_default();
                Node::Symlink(target.to_string_lossy().into_owned())
            }
            tar::EntryType::Link => {
                let target = entry.link_name().map_err(Error::Tar)?.unwrap_or_default();
                let target = normal(&target.to_string_lossy()).unwrap_or_default();
                match files.get(&target) {
                    Some(n @ Node::File { .. }) => n.clone(),
                    _ => return Err(Error::Missing(format!("{target} (hard link {name})"))),
                }
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut data = Vec::new();
                entry.read_to_end(&mut data).map_err(Error::Tar)?;
                Node::File { mode, data }
            }
            // Devices and FIFOs mean nothing to an unpacked tree.
            _ => continue,
        };
        // A non-directory replaces whatever was at its path, tree and all.
        if !matches!(node, Node::Dir { .. }) {
            remove_under(files, &name);
        }
        files.insert(name, node);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layer(entries: &[(&str, tar::EntryType, &[u8], &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, kind, data, link) in entries {
            let mut h = tar::Header::new_gnu();
            if h.set_path(path).is_err() {
                // The tar crate refuses to write `..`; other tools do not.
                h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            }
            h.set_entry_type(*kind);
            h.set_size(data.len() as u64);
            h.set_mode(if *kind == tar::EntryType::Directory {
                0o755
            } else {
                0o644
            });
            if !link.is_empty() {
                h.set_link_name(link).unwrap();
            }
            h.set_cksum();
            b.append(&h, *data).unwrap();
        }
        b.into_inner().unwrap()
    }

    #[test]
    fn layers_apply_in_order_with_whiteouts_and_links() {
        use tar::EntryType::*;
        let mut files = BTreeMap::new();
        let first = layer(&[
            ("./", Directory, b"", ""),
            ("etc/", Directory, b"", ""),
            ("etc/a", Regular, b"a1", ""),
            ("etc/b", Regular, b"b1", ""),
            ("opt/x/y", Regular, b"y", ""),
            ("bin/sh", Regular, b"#!", ""),
            ("bin/link", Link, b"", "bin/sh"),
            ("usr/bin/env", Symlink, b"", "/bin/sh"),
        ]);
        apply_layer(&mut files, &first).unwrap();
        let second = layer(&[
            ("etc/.wh.a", Regular, b"", ""),
            ("etc/b", Regular, b"b2", ""),
            ("opt/.wh..wh..opq", Regular, b"", ""),
            ("opt/z", Regular, b"z", ""),
        ]);
        apply_layer(&mut files, &gzip(&second)).unwrap();
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        // Only explicit directories are entries; "opt/" emptied by the opaque
        // whiteout, "a" deleted by its own.
        assert_eq!(
            names,
            ["bin/link", "bin/sh", "etc", "etc/b", "opt/z", "usr/bin/env"]
        );
        assert_eq!(
            files["etc/b"],
            Node::File {
                mode: 0o644,
                data: b"b2".to_vec()
            }
        );
        assert_eq!(files["bin/link"], files["bin/sh"]);
        assert_eq!(files["usr/bin/env"], Node::Symlink("/bin/sh".into()));
        // Climbing out of the root is refused; compression other than gzip too.
        let bad = layer(&[("../evil", Regular, b"x", "")]);
        assert!(matches!(apply_layer(&mut files, &bad), Err(Error::Path(p)) if p == "../evil"));
        let zstd = [0x28, 0xb5, 0x2f, 0xfd, 0, 0];
        assert!(matches!(
            apply_layer(&mut files, &zstd),
            Err(Error::Compression(_))
        ));
    }

    #[test]
    fn written_archives_read_back() {
        let bootstrap = b"\x7fELF not really".repeat(100);
        for arch in [Arch::Amd64, Arch::Arm64] {
            let archive = write(&bootstrap, arch);
            assert_eq!(write(&bootstrap, arch), archive, "deterministic");
            let image = read(&archive).unwrap();
            assert_eq!(image.file("/bootstrap"), Some(&bootstrap[..]));
            assert_eq!(image.mode("/bootstrap"), Some(0o755));
            assert_eq!(image.run.command(), ["/bootstrap", "serve"]);
            assert_eq!(image.run.exposed_ports, ["9000/tcp"]);
            assert_eq!(
                (image.architecture.as_str(), image.os.as_str()),
                (arch.name(), "linux")
            );
            assert_eq!(image.files.len(), 1);
        }
        assert_ne!(write(b"a", Arch::Amd64), write(b"b", Arch::Amd64));
    }

    #[test]
    fn the_archive_layout() {
        let archive = write(b"#!/bin/sh\n", Arch::Amd64);
        let mut ar = tar::Archive::new(archive.as_slice());
        let mut names = Vec::new();
        for e in ar.entries().unwrap() {
            let e = e.unwrap();
            let h = e.header();
            assert_eq!(
                (h.mtime().unwrap(), h.uid().unwrap(), h.gid().unwrap()),
                (0, 0, 0)
            );
            assert_eq!(
                (h.username().unwrap(), h.groupname().unwrap()),
                (Some(""), Some(""))
            );
            names.push(e.path().unwrap().to_string_lossy().into_owned());
        }
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "entries sorted by name");
        assert_eq!(names.len(), 5);
        assert!(
            names[..3]
                .iter()
                .all(|n| n.starts_with("blobs/sha256/") && n.len() == 77),
            "{names:?}"
        );
        assert_eq!(names[3..], ["index.json", "oci-layout"]);
        // The layer's gzip header: no name, mtime 0, no extra flags.
        let layer = archive
            .windows(4)
            .position(|w| w == [0x1f, 0x8b, 8, 0])
            .unwrap();
        assert_eq!(
            archive[layer..layer + 10],
            [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]
        );
        let image = read(&archive).unwrap();
        assert_eq!(image.file("bootstrap"), Some(&b"#!/bin/sh\n"[..]));
    }

    #[test]
    fn broken_archives_name_their_fault() {
        let good = write(b"x", Arch::Amd64);
        assert!(matches!(
            read(b"not a tar at all, and longer than nothing"),
            Err(Error::Tar(_) | Error::NotAnImage)
        ));
        assert!(matches!(
            read(&tar_of([("hello", 0o644, &b"x"[..])].into_iter())),
            Err(Error::NotAnImage)
        ));
        // A blob altered in place no longer matches its digest.
        let mut blobs = Blobs::new();
        let mut ar = tar::Archive::new(good.as_slice());
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let mut d = Vec::new();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            e.read_to_end(&mut d).unwrap();
            blobs.insert(name, d);
        }
        let layer = blobs
            .keys()
            .find(|k| blobs[*k].starts_with(&[0x1f, 0x8b]))
            .unwrap()
            .clone();
        let mut tampered = blobs.clone();
        tampered.get_mut(&layer).unwrap().push(0);
        assert!(matches!(from_blobs(&tampered), Err(Error::Digest(n)) if n == layer));
        let mut missing = blobs.clone();
        missing.remove(&layer);
        assert!(matches!(from_blobs(&missing), Err(Error::Missing(n)) if n == layer));
        for e in [
            Error::NotAnImage,
            Error::Missing(layer),
            Error::Path("../x".into()),
        ] {
            assert!(!e.to_string().contains('\n'));
        }
    }

    #[test]
    fn docker_save_archives_read_too() {
        let config = br#"{"architecture":"amd64","os":"linux","config":{"Entrypoint":null,"Cmd":["/app","-v"],"Env":["PATH=/bin"],"WorkingDir":"/srv"}}"#;
        let l = layer(&[("app", tar::EntryType::Regular, b"bin", "")]);
        let manifest = br#"[{"Config":"c.json","RepoTags":["x:latest"],"Layers":["l/layer.tar"]}]"#;
        let archive = tar_of(
            [
                ("c.json", 0o644, &config[..]),
                ("l/layer.tar", 0o644, &l),
                ("manifest.json", 0o644, &manifest[..]),
            ]
            .into_iter(),
        );
        let image = read(&archive).unwrap();
        assert_eq!(image.run.command(), ["/app", "-v"]);
        assert_eq!(
            (image.run.env.clone(), image.run.working_dir.clone()),
            (vec!["PATH=/bin".to_string()], Some("/srv".into()))
        );
        assert_eq!(image.file("/app"), Some(&b"bin"[..]));
        // The whole archive gzip-compressed is read as well.
        assert_eq!(
            read(&gzip(&archive)).unwrap().file("/app"),
            Some(&b"bin"[..])
        );
    }

    #[test]
    fn unpacks_with_modes_and_links() {
        let dir = crate::code::TempDir::new("scf-oci-test").unwrap();
        let mut files = BTreeMap::new();
        files.insert(
            "bootstrap".to_string(),
            Node::File {
                mode: 0o755,
                data: b"#!/bin/sh\n".to_vec(),
            },
        );
        files.insert("etc".to_string(), Node::Dir { mode: 0o555 });
        files.insert(
            "etc/x".to_string(),
            Node::File {
                mode: 0o600,
                data: b"x".to_vec(),
            },
        );
        files.insert("sh".to_string(), Node::Symlink("bootstrap".into()));
        let image = Image {
            architecture: "amd64".into(),
            os: "linux".into(),
            run: RunSpec::default(),
            files,
        };
        image.unpack(dir.path()).unwrap();
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &str| {
            std::fs::symlink_metadata(dir.path().join(p))
                .unwrap()
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!((mode("bootstrap"), mode("etc/x")), (0o755, 0o600));
        assert_eq!(
            std::fs::read_link(dir.path().join("sh")).unwrap(),
            Path::new("bootstrap")
        );
        assert_eq!(
            std::fs::read(dir.path().join("sh")).unwrap(),
            b"#!/bin/sh\n"
        );
    }
}
