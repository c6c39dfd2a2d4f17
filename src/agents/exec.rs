//! Running a program as a step of an agent's action: by a deadline, with a
//! missing program reported as `OCF_ERR_INSTALLED` naming the package it
//! comes from, and testing a path that may sit on hung storage from a child.

use std::path::Path;
use std::time::Duration;

use crate::ocf::{Ctx, OcfError, OcfResult};
use crate::sys::{Cmd, Deadline, Output, RunError};

/// Run `cmd` by `deadline`; a missing program is `OCF_ERR_INSTALLED` naming
/// `package`, a timeout or exec failure is a generic error.
pub fn run(ctx: &Ctx, cmd: &Cmd, deadline: Deadline, package: &str) -> OcfResult<Output> {
    ctx.sys.run(cmd, deadline).map_err(|e| match e {
        RunError::NotFound(p) => {
            OcfError::installed(format!("{p} is not installed (package {package})"))
        }
        e => OcfError::generic(e.to_string()),
    })
}

/// Run `cmd` and require exit 0.
pub fn run_ok(ctx: &Ctx, cmd: &Cmd, deadline: Deadline, package: &str) -> OcfResult<Output> {
    let out = run(ctx, cmd, deadline, package)?;
    if !out.success() {
        return Err(OcfError::generic(format!(
            "`{}` failed: {}",
            cmd.display(),
            out.failure_text()
        )));
    }
    Ok(out)
}

/// `test <flag> <path>` in a child with a short deadline: a `stat` of a path
/// on hung storage blocks in the kernel, and only a child can be abandoned.
/// `Err` when the test itself did not answer in time.
pub fn test_path(ctx: &Ctx, flag: &str, path: &Path) -> OcfResult<bool> {
    let cmd = Cmd::new("test").args([flag, &path.to_string_lossy()]);
    let out = ctx
        .sys
        .run(&cmd, ctx.step(Duration::from_secs(5)))
        .map_err(|e| OcfError::generic(format!("checking {}: {e}", path.display())))?;
    Ok(out.success())
}
