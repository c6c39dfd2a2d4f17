//! `nfsha lint`: the command line, and running every rule over the models.

use std::io::Write;
use std::path::PathBuf;

use super::config::object_id;
use super::inputs;
use super::nfs_utils::NfsUtils;
use super::{output, rules, Config, Ctx, Finding, Severity};
use crate::model::crm::Crmsh;
use crate::model::input::{self, Tools};
use crate::model::{Dialect, HostConfig, Model};

/// An agent refusal (NFS004) that another rule reports with the same words,
/// having called the same check, is said once, by the rule that explains it.
fn drop_repeated_refusals(out: &mut Vec<Finding>) {
    let explained: Vec<(String, Vec<String>)> = out
        .iter()
        .filter(|f| f.code != "NFS004")
        .filter_map(|f| Some((f.mirrors.clone()?, f.objects.clone())))
        .collect();
    out.retain(|f| {
        f.code != "NFS004"
            || !explained.iter().any(|(reason, objs)| {
                f.mirrors.as_ref() == Some(reason)
                    && f.objects
                        .iter()
                        .any(|o| objs.iter().any(|x| object_id(x) == object_id(o)))
            })
    });
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Human,
    Json,
    Sarif,
}

/// `nfsha lint` arguments.
#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Files to check: CIB XML, crm or pcs text, nfs.conf, /etc/sysconfig/nfs,
    /// /etc/exports, heartbeat TOML. With none, on a cluster node, the live
    /// CIB is read through `cibadmin -Q`.
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Exit 1 when a finding at or above this severity remains.
    #[arg(long, value_enum, default_value_t = Severity::Error)]
    pub fail_on: Severity,
    /// Print a rule's documentation and exit.
    #[arg(long, value_name = "CODE")]
    pub explain: Option<String>,
    /// List the rules and exit.
    #[arg(long)]
    pub list_rules: bool,
    /// Suppressions and severity overrides (TOML).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Force the dialect of every file instead of detecting it.
    #[arg(long, value_enum)]
    pub dialect: Option<Dialect>,
    /// Also check NFS client mount options on a KVM host, in /proc/mounts,
    /// an fstab or mountinfo (hard backup mounts, soft VM-disk mounts,
    /// rules NFS801-NFS804).
    #[arg(long, value_name = "FILE")]
    pub mounts: Option<PathBuf>,
    /// Print a shell script with the commands that fix what was found, in
    /// the input's own dialect (crm for crm and CIB input, pcs for pcs
    /// input). It changes only the file named by CIB_file, never a live
    /// cluster. What needs a decision is listed in it as comments.
    #[arg(long)]
    pub fix: bool,
    /// The nfs-utils version on the servers (e.g. 2.6.2, or Debian's
    /// 1:2.6.2-4+deb12u1): nfs.conf `[nfsd] scope` and rpc.nfsd `-S` count
    /// as a fixed server scope only from 2.6.3 on. Unknown by default.
    #[arg(long, value_name = "VERSION", value_parser = NfsUtils::parse)]
    pub nfs_utils: Option<NfsUtils>,
    /// The crmsh version that runs the crm commands (e.g. 5.0.0, Debian's
    /// 4.4.1-1+deb12u1, SUSE's 4.6.0+20241016.a9feecb0): crmsh 4.4.2 to
    /// 4.6.0 add the agent's advised operations to a primitive typed
    /// without them, and from 4.4.2 on a typed clone gets promotable and
    /// interleave. Default 4.4.1 (Debian 12's), which adds nothing: a file
    /// is read as written.
    #[arg(long, value_name = "VERSION", value_parser = Crmsh::parse)]
    pub crmsh: Option<Crmsh>,
    /// With --fix and CIB XML input: also write the corrected CIB here.
    #[arg(long, value_name = "NEW.xml", requires = "fix")]
    pub fix_output: Option<PathBuf>,
}

/// Run every rule over one model, apply suppressions and severity overrides,
/// and sort the findings by location.
pub fn lint_model(m: &Model, config: &Config) -> Vec<Finding> {
    let mut ctx = Ctx::new(m);
    ctx.nfs_utils = config.nfs_utils_version;
    let mut out = Vec::new();
    for rule in rules::ALL {
        let mut found = Vec::new();
        (rule.check)(&ctx, &mut found);
        out.extend(found);
    }
    drop_repeated_refusals(&mut out);
    out.retain(|f| !config.suppressed(f, m));
    for f in &mut out {
        if let Some(s) = config
            .severity
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(f.code))
            .map(|x| *x.1)
        {
            f.severity = s;
        }
    }
    out.sort_by(|a, b| {
        (a.location.as_ref(), a.code, &a.objects).cmp(&(b.location.as_ref(), b.code, &b.objects))
    });
    out.dedup_by(|a, b| a.code == b.code && a.objects == b.objects && a.message == b.message);
    out
}

/// Run `nfsha lint`; returns the exit code (0 clean, 1 findings at or above
/// `--fail-on`, 2 unreadable input or usage error).
pub fn run(args: &LintArgs) -> i32 {
    run_configs(args)
}

fn run_configs(args: &LintArgs) -> i32 {
    // Buffered: a large configuration can give many thousands of lines.
    let mut stdout = std::io::BufWriter::new(std::io::stdout().lock());
    if args.list_rules {
        let _ = output::list_rules(&mut stdout);
        return 0;
    }
    if let Some(code) = &args.explain {
        return match rules::find(code) {
            Some(r) => {
                let _ = writeln!(
                    stdout,
                    "{} ({}), default severity {}\n\n{}",
                    r.code,
                    r.name,
                    r.severity.as_str(),
                    r.doc.trim()
                );
                0
            }
            None => {
                eprintln!("nfsha lint: no rule {code:?}; see nfsha lint --list-rules");
                2
            }
        };
    }
    let config = match &args.config {
        Some(p) => match Config::load(p) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("nfsha lint: {e}");
                return 2;
            }
        },
        None => Config::default(),
    };
    let mut config = config;
    if args.nfs_utils.is_some() {
        config.nfs_utils_version = args.nfs_utils;
    }
    let tools = Tools {
        crmsh: args.crmsh.or(config.crmsh_version).unwrap_or_default(),
    };
    let named = args
        .files
        .iter()
        .map(|f| (f, args.dialect))
        .chain(args.mounts.iter().map(|m| (m, Some(Dialect::Mounts))));
    let mut inputs = inputs::read_all_with(named, tools);
    if args.files.is_empty() && args.mounts.is_none() {
        eprintln!("nfsha lint: no file given; reading the live CIB with `cibadmin -Q`");
        let text = match inputs::live_cib() {
            Ok(t) => t,
            Err(e) => {
                eprintln!("nfsha lint: {e}");
                return 2;
            }
        };
        match input::read_text("cibadmin -Q", &text, Some(Dialect::Cib), None) {
            Ok(i) => {
                inputs.files.push(("cibadmin -Q".into(), Dialect::Cib));
                inputs.clusters.extend(i.clusters);
            }
            Err(e) => inputs.errors.push(e),
        }
    }
    // An unreadable input is exit 2, never a clean result: it is named on
    // stderr, and in the JSON and SARIF documents, which are still written.
    for e in &inputs.errors {
        eprintln!("nfsha lint: {e}");
    }
    let errors = std::mem::take(&mut inputs.errors);
    if args.fix {
        // Never a fix for a configuration that was not wholly read.
        if !errors.is_empty() {
            return 2;
        }
        return super::fix::run::main(args, inputs, &config);
    }
    let findings = if inputs.files.is_empty() {
        Vec::new()
    } else {
        lint_inputs(inputs.clusters, inputs.host, &config)
    };
    let res = match args.format {
        Format::Human if !errors.is_empty() && findings.is_empty() => Ok(()),
        Format::Human => output::human(&mut stdout, &findings, &inputs.files),
        Format::Json => output::json(&mut stdout, &findings, &inputs.files, &errors),
        Format::Sarif => output::sarif(&mut stdout, &findings, &errors),
    };
    if let Err(e) = res.and_then(|()| stdout.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("nfsha lint: writing output: {e}");
            return 2;
        }
    }
    if !errors.is_empty() {
        return 2;
    }
    i32::from(findings.iter().any(|f| f.severity >= args.fail_on))
}

/// Lint each cluster model together with the host settings; with no cluster
/// model, lint the host settings alone.
pub fn lint_inputs(clusters: Vec<Model>, host: HostConfig, config: &Config) -> Vec<Finding> {
    let mut findings = Vec::new();
    if clusters.is_empty() {
        let m = Model {
            host,
            ..Model::default()
        };
        return lint_model(&m, config);
    }
    for mut m in clusters {
        m.host = host.clone();
        findings.extend(lint_model(&m, config));
    }
    findings
}
