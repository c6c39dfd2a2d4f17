//! crm shell text.
use super::*;
use std::sync::Arc;
pub fn parse(_t: &str, _f: &Arc<str>) -> Result<Model, ParseError> {
    Ok(Model::default())
}
