//! pcs.
use super::*;
use std::sync::Arc;
pub fn parse_commands(_t: &str, _f: &Arc<str>) -> Result<Model, ParseError> {
    Ok(Model::default())
}
pub fn parse_config(_t: &str, _f: &Arc<str>) -> Result<Model, ParseError> {
    Ok(Model::default())
}
