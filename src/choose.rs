//! The one place that chooses the dialect, by the cargo features `scf`
//! and `lambda`: with one of them, its dialect is the loop's type
//! (nothing of the other is compiled); with both, [`both::Both`], which
//! chooses at start from the environment (`AWS_LAMBDA_RUNTIME_API` set:
//! Lambda; else SCF); with neither, a compile error that names them. No
//! other module outside the two dialects names the `lambda` feature.

#[cfg(all(feature = "scf", feature = "lambda"))]
#[path = "choose/both.rs"]
mod chosen;

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

#[cfg(all(feature = "lambda", not(feature = "scf")))]
mod chosen {
    /// The dialect served: Lambda's.
    pub type Chosen = crate::lambda::Lambda;
}

pub use chosen::Chosen;
