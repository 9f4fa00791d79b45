//! Reading request bodies as the real server does: [`vbo_model::lenient`], whose reading of
//! names in any case, string booleans and unknown properties is Json.NET's.

use std::sync::LazyLock;

use vbo_model::lenient::{BodyError, Lenient};
use vbo_model::{OrganizationBody, Secret};

/// The reader of `POST` and `PUT` bodies, built once from the body's schema.
static BODY: LazyLock<Lenient> = LazyLock::new(Lenient::of::<OrganizationBody<Secret>>);

/// Reads a POST or PUT body, or says which property is wrong (never with its value).
pub(crate) fn parse_body(bytes: &[u8]) -> Result<OrganizationBody<Secret>, BodyError> {
    BODY.read_request(bytes)
}
