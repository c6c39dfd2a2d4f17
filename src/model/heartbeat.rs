//! The KVM-host heartbeat settings (`/etc/nfsha/heartbeat.toml`), kept as
//! text with the file they came from. Nothing here reads them: the one
//! reader is the heartbeat's own strict parser
//! ([`crate::heartbeat::config::Config::parse`]), which the lint calls too, so
//! a file the daemon rejects never lints clean.

use std::sync::Arc;

use super::*;

pub fn parse(text: &str, file: &Arc<str>) -> Result<HeartbeatFile, ParseError> {
    Ok(HeartbeatFile {
        file: file.clone(),
        text: text.to_string(),
    })
}
