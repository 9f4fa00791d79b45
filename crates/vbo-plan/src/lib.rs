//! The planner of vboctl: compares the organizations the manifests describe with those the
//! server reports and says what apply would do, without talking to anything.
//!
//! - [`plan`] turns [`Desired`] organizations and the server's
//!   [`Organization`](vbo_model::Organization)s into a [`Plan`]: one [`Change`] per
//!   organization (create `+`, update `~`, delete `-` or no-op), unmanaged organizations, and
//!   errors for what cannot be planned.
//! - [`render`] shows a plan as text, Markdown or JSON, and its errors as CI annotations.
//! - [`schema`] is the JSON Schema of the plan document.
//! - [`PlanFile`] is a saved plan, with the fingerprints that let apply refuse a stale one.
//!
//! Everything here is pure: no I/O, no clock, no async. Secrets appear only as references
//! (`{"fromEnv": ..}`, `{"fromFile": ..}`) or as the `{"sensitive": ..}` marker of a literal,
//! never as values.

mod model;
mod planner;
pub mod render;
mod saved;
pub mod schema;
pub mod selector;

pub use model::{
    Action, Body, Change, Desired, ErrorReport, FieldChange, Narrowed, Narrowing,
    PLAN_FORMAT_VERSION, Plan, PlanError, PlanOptions, Summary, TargetMiss, Unmanaged, address,
};
pub use planner::{REPORTED_WHEN_SET, diff_state, plan};
pub use saved::{
    Fingerprints, LiteralSecret, OrganizationFingerprint, PlanFile, PlanFileError,
    SAVED_PLAN_FORMAT_VERSION, Staleness, fingerprint, list_fingerprint,
};
pub use selector::{Selector, SelectorError};
