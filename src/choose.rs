//! The one place that chooses the dialect, by the cargo features `scf`
//! and `lambda`: with one of them, its dialect is the loop's type
//! (nothing of the other is compiled); with both, `Both`
//! (src/choose/both.rs), which chooses at start from the environment
//! (`AWS_LAMBDA_RUNTIME_API` set: Lambda; else SCF); with neither, a
//! compile error that names them. Outside this module and the two
//! dialects, only lib.rs names the `lambda` feature (the dialects' module
//! declarations and the fuzz targets' re-export).

#[cfg(not(feature = "lambda"))]
mod chosen {
    // With neither feature, SCF's dialect is compiled only so that this
    // message is the build's only error, or (push mode alone, `serve`) for
    // the pull loop's types, which such a build never runs.
    #[cfg(not(any(feature = "scf", feature = "serve")))]
    compile_error!(
        "scf-bootstrap needs a platform: enable the cargo feature `scf` (Tencent Cloud SCF, the default), `lambda` \
         (AWS Lambda), or both (chosen at start); or `serve` alone (push mode only)"
    );

    /// The dialect served: SCF's.
    pub type Chosen = crate::scf::Scf;
}

#[cfg(feature = "lambda")]
#[path = "choose/lambda.rs"]
mod chosen;

pub use chosen::Chosen;

/// Whether the build has a pull loop: a platform feature is on. Without
/// one, the build is push mode alone (`serve`; `Chosen` is SCF's dialect
/// for the loop's types only) and refuses to start without `serve`.
pub const PULLS: bool = cfg!(any(feature = "scf", feature = "lambda"));
