//! Fuzz the cib parser; any model it yields is also ordered and linted.
#![no_main]

use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use nfsha::model::{self, HostConfig};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let file: Arc<str> = Arc::from("fuzz");
    let parsed = model::cib::parse(&text, &file);
    if let Ok(m) = parsed {
        let _ = nfsha::start_order::StartOrder::compute(&m);
        let _ = nfsha::lint::lint_model(&m, &nfsha::lint::Config::default());
    }
});
