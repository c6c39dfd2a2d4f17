//! `nfsha install`: put the binary in place and lay out the OCF provider
//! directory `<ocf-root>/resource.d/nfsha/<agent>` as symlinks to it.
//! Idempotent: a second run changes nothing and says so.

use std::io;
use std::path::{Path, PathBuf};

use crate::agents;

#[derive(clap::Args, Debug)]
pub struct InstallArgs {
    /// Installation prefix; the binary goes to <prefix>/sbin/nfsha.
    #[arg(long, default_value = "/usr")]
    pub prefix: PathBuf,
    /// The OCF root Pacemaker searches (default: <prefix>/lib/ocf).
    #[arg(long)]
    pub ocf_root: Option<PathBuf>,
    /// Stage everything below this directory (for packaging); links still
    /// point at the final paths.
    #[arg(long)]
    pub destdir: Option<PathBuf>,
    /// The binary to install (default: this one).
    #[arg(long)]
    pub binary: Option<PathBuf>,
}

/// Prefix `path` (absolute) with `destdir`.
fn staged(destdir: Option<&Path>, path: &Path) -> PathBuf {
    match destdir {
        Some(d) => d.join(path.strip_prefix("/").unwrap_or(path)),
        None => path.to_path_buf(),
    }
}

fn same_file_content(a: &Path, b: &Path) -> bool {
    match (std::fs::read(a), std::fs::read(b)) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// What install did to one path.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    Installed(PathBuf),
    Linked(PathBuf, PathBuf),
    Unchanged(PathBuf),
}

/// Do the installation; returns the steps taken.
pub fn install(args: &InstallArgs) -> io::Result<Vec<Step>> {
    use std::os::unix::fs::PermissionsExt;
    let mut steps = Vec::new();
    let destdir = args.destdir.as_deref();
    let source = match &args.binary {
        Some(b) => b.clone(),
        None => std::env::current_exe()?,
    };
    let final_bin = args.prefix.join("sbin/nfsha");
    let staged_bin = staged(destdir, &final_bin);
    if same_file_content(&source, &staged_bin) {
        steps.push(Step::Unchanged(staged_bin.clone()));
    } else {
        if let Some(parent) = staged_bin.parent() {
            std::fs::create_dir_all(parent)?;
        }
        // Copy beside, then rename: a running agent keeps its old inode.
        let tmp = staged_bin.with_extension("nfsha-new");
        std::fs::copy(&source, &tmp)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))?;
        std::fs::rename(&tmp, &staged_bin)?;
        steps.push(Step::Installed(staged_bin.clone()));
    }
    let ocf_root = args
        .ocf_root
        .clone()
        .unwrap_or_else(|| args.prefix.join("lib/ocf"));
    let provider = staged(destdir, &ocf_root.join("resource.d/nfsha"));
    std::fs::create_dir_all(&provider)?;
    for agent in agents::all() {
        let link = provider.join(agent.spec().name);
        match std::fs::read_link(&link) {
            Ok(target) if target == final_bin => {
                steps.push(Step::Unchanged(link));
                continue;
            }
            Ok(_) => std::fs::remove_file(&link)?,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(_) => {
                return Err(io::Error::new(
                    io::ErrorKind::AlreadyExists,
                    format!(
                        "{} exists and is not a symlink; remove it first",
                        link.display()
                    ),
                ))
            }
        }
        std::os::unix::fs::symlink(&final_bin, &link)?;
        steps.push(Step::Linked(link, final_bin.clone()));
    }
    Ok(steps)
}

pub fn run(args: &InstallArgs) -> i32 {
    match install(args) {
        Ok(steps) => {
            for s in steps {
                match s {
                    Step::Installed(p) => println!("installed {}", p.display()),
                    Step::Linked(l, t) => println!("linked    {} -> {}", l.display(), t.display()),
                    Step::Unchanged(p) => println!("unchanged {}", p.display()),
                }
            }
            0
        }
        Err(e) => {
            eprintln!("nfsha install: {e}");
            1
        }
    }
}
