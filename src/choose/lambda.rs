//! With the `lambda` feature: Lambda's dialect alone, or, with `scf` too,
//! both, chosen at start (`choose/both.rs`).

/// The dialect served: Lambda's.
#[cfg(not(feature = "scf"))]
pub type Chosen = crate::lambda::Lambda;

#[cfg(feature = "scf")]
#[path = "both.rs"]
mod both;
#[cfg(feature = "scf")]
pub use both::Chosen;
