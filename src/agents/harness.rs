//! The agents' unit-test harness: run an action as Pacemaker would, against
//! the test double, and see what it logged.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use tracing::field::{Field, Visit};
use tracing::{span, Event, Metadata, Subscriber};

use crate::ocf::Agent;
use crate::sys::System;

/// Run `action` of `agent` on `sys` as Pacemaker would (a recurring monitor
/// unless `meta` says otherwise): (exit code, stderr).
pub fn run_agent(
    agent: &dyn Agent,
    sys: &dyn System,
    action: &str,
    params: &[(&str, &str)],
    meta: &[(&str, &str)],
) -> (i32, String) {
    let mut env: BTreeMap<String, String> = params
        .iter()
        .map(|(k, v)| (format!("OCF_RESKEY_{k}"), v.to_string()))
        .collect();
    for (k, v) in meta {
        env.insert(format!("OCF_RESKEY_CRM_meta_{k}"), v.to_string());
    }
    env.entry("OCF_RESKEY_CRM_meta_interval".into())
        .or_insert_with(|| "10000".into());
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let rc = crate::ocf::run(agent, Some(action), env, sys, &mut out, &mut err);
    (rc, String::from_utf8(err).unwrap())
}

/// [`run_agent`], also returning what the action logged, one
/// `LEVEL message` line per event (this thread's events only).
pub fn run_agent_logged(
    agent: &dyn Agent,
    sys: &dyn System,
    action: &str,
    params: &[(&str, &str)],
) -> (i32, String, Vec<String>) {
    let ((rc, err), lines) = logged(|| run_agent(agent, sys, action, params, &[]));
    (rc, err, lines)
}

/// Run `f` and return what it logged on this thread, `LEVEL message` each.
pub fn logged<T>(f: impl FnOnce() -> T) -> (T, Vec<String>) {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let out = tracing::subscriber::with_default(Capture(lines.clone()), f);
    let lines = lines.lock().unwrap().clone();
    (out, lines)
}

struct Capture(Arc<Mutex<Vec<String>>>);

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

impl Subscriber for Capture {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &span::Attributes<'_>) -> span::Id {
        span::Id::from_u64(1)
    }
    fn record(&self, _: &span::Id, _: &span::Record<'_>) {}
    fn record_follows_from(&self, _: &span::Id, _: &span::Id) {}
    fn event(&self, event: &Event<'_>) {
        let mut m = Message(String::new());
        event.record(&mut m);
        self.0
            .lock()
            .unwrap()
            .push(format!("{} {}", event.metadata().level(), m.0));
    }
    fn enter(&self, _: &span::Id) {}
    fn exit(&self, _: &span::Id) {}
}
