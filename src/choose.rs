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
    // message is the build's only error.
    #[cfg(not(feature = "scf"))]
    compile_error!(
        "scf-bootstrap needs a platform: enable the cargo feature `scf` (Tencent Cloud SCF, the default), `lambda` \
         (AWS Lambda), or both (chosen at start)"
    );

    /// The dialect served: SCF's.
    pub type Chosen = crate::scf::Scf;
}

#[cfg(feature = "lambda")]
#[path = "choose/lambda.rs"]
mod chosen;

pub use chosen::Chosen;
