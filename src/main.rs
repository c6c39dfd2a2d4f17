//! The `nfsha` multi-call binary: called through a symlink named after an
//! agent, it is that OCF agent; called by the name of one of CloudStack's
//! KVM HA scripts (`kvmheartbeat.sh`, `kvmsmpheartbeat.sh`,
//! `kvmspheartbeat.sh`, `kvmvmactivity.sh`), it is that script; called as
//! `nfsha`, it is the command line.

use std::path::Path;

fn main() {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    let called_as = Path::new(&argv0)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    if let Some(script) = nfsha::cloudstack::find(&called_as) {
        // One of CloudStack's scripts, replaced by a symlink to us.
        std::process::exit(nfsha::cloudstack::run(
            script,
            std::env::args_os().collect(),
        ));
    }
    if let Some(agent) = nfsha::agents::find(&called_as) {
        // OCF: the action is the only argument; all others are ignored.
        let action = args.next().map(|a| a.to_string_lossy().into_owned());
        let env = std::env::vars().collect();
        let sys = nfsha::sys::Real::new();
        std::process::exit(nfsha::ocf::run_process(agent, action.as_deref(), env, &sys));
    }
    std::process::exit(nfsha::cli::main(std::env::args_os().collect()));
}
