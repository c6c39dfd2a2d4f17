//! `nfsha lint`: find the HA-NFS mistakes in a cluster configuration.
//!
//! Inputs are parsed into one [`Model`]; each rule (one file each under
//! [`rules`]) reads the model through a [`Ctx`] that also carries the start
//! order (computed once by [`crate::order`]), the placement components and
//! the effective NFS lease and grace settings. Findings are filtered by the
//! suppression config and inline `nfsha: ignore[CODE]` comments, then printed
//! as human text (rustc/ruff style), JSON or SARIF.

pub mod ctx;
pub mod output;
pub mod rules;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::{Deserialize, Serialize};

pub use ctx::Ctx;

use crate::model::{self, input, Dialect, HostConfig, Loc, Model};

/// How bad a finding is. Ordered: `Info < Warning < Error`.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Error => "error",
        }
    }
}

/// A rule: its stable code, name, default severity, documentation and check.
pub struct Rule {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    /// One line: why this matters (printed with each finding).
    pub why: &'static str,
    /// The full documentation (What it does / Why is this bad? / Example /
    /// Use instead / References), also the rule's doc comment.
    pub doc: &'static str,
    pub check: fn(&Ctx, &mut Vec<Finding>),
}

/// One problem found.
#[derive(Clone, Debug)]
pub struct Finding {
    pub code: &'static str,
    pub name: &'static str,
    pub severity: Severity,
    pub message: String,
    /// The CIB ids or nfs.conf keys involved.
    pub objects: Vec<String>,
    pub location: Option<Loc>,
    /// Suggested fixes, each prefixed with its dialect (`crm:`, `pcs:`, `nfs.conf:`).
    pub help: Vec<String>,
    /// The finding depends on a value inside a rule-conditional set.
    pub conditional: bool,
    pub why: &'static str,
}

impl Finding {
    pub fn new(rule: &Rule, message: impl Into<String>) -> Finding {
        Finding {
            code: rule.code,
            name: rule.name,
            severity: rule.severity,
            message: message.into(),
            objects: Vec::new(),
            location: None,
            help: Vec::new(),
            conditional: false,
            why: rule.why,
        }
    }
    pub fn objects<S: Into<String>>(mut self, objs: impl IntoIterator<Item = S>) -> Finding {
        self.objects.extend(objs.into_iter().map(Into::into));
        self
    }
    pub fn at(mut self, loc: &Loc) -> Finding {
        self.location = Some(loc.clone());
        self
    }
    pub fn at_opt(mut self, loc: Option<&Loc>) -> Finding {
        self.location = loc.cloned();
        self
    }
    pub fn severity(mut self, s: Severity) -> Finding {
        self.severity = s;
        self
    }
    pub fn help(mut self, h: impl Into<String>) -> Finding {
        self.help.push(h.into());
        self
    }
    pub fn conditional(mut self, c: bool) -> Finding {
        self.conditional |= c;
        self
    }
}

/// Suppressions and severity overrides (`--config`, TOML).
///
/// ```toml
/// ignore = ["NFS302"]            # rules switched off everywhere
/// [[ignore-object]]              # one rule for one object
/// rule = "NFS201"
/// object = "cl-nfsserver"
/// reason = "distributed NFSv3 exports, see resource-agents PR #943"
/// [severity]
/// NFS602 = "info"
/// ```
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct Config {
    #[serde(default)]
    pub ignore: Vec<String>,
    #[serde(default)]
    pub ignore_object: Vec<ObjectIgnore>,
    #[serde(default)]
    pub severity: BTreeMap<String, Severity>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectIgnore {
    pub rule: String,
    pub object: String,
    #[serde(default)]
    pub reason: Option<String>,
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let c: Config = toml::from_str(&text).map_err(|e| {
            let line = e.span().map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            format!("{}:{line}: expected a suppression config (ignore, [[ignore-object]], [severity]): {}", path.display(), e.message())
        })?;
        for code in c
            .ignore
            .iter()
            .chain(c.ignore_object.iter().map(|o| &o.rule))
            .chain(c.severity.keys())
        {
            if rules::find(code).is_none() {
                return Err(format!(
                    "{}: unknown rule code {code:?} (see nfsha lint --list-rules)",
                    path.display()
                ));
            }
        }
        Ok(c)
    }

    fn suppressed(&self, f: &Finding, m: &Model) -> bool {
        let code = f.code;
        if self.ignore.iter().any(|c| c.eq_ignore_ascii_case(code)) {
            return true;
        }
        let inline = |obj: &str| {
            m.get(obj)
                .is_some_and(|r| r.ignores.iter().any(|c| c == code))
                || m.constraint_ignores
                    .get(obj)
                    .is_some_and(|cs| cs.iter().any(|c| c == code))
        };
        f.objects.iter().any(|o| {
            inline(o)
                || self
                    .ignore_object
                    .iter()
                    .any(|i| i.rule.eq_ignore_ascii_case(code) && i.object == *o)
        })
    }
}

/// Run every rule over one model, apply suppressions and severity overrides,
/// and sort the findings by location.
pub fn lint_model(m: &Model, config: &Config) -> Vec<Finding> {
    let ctx = Ctx::new(m);
    let mut out = Vec::new();
    for rule in rules::ALL {
        let mut found = Vec::new();
        (rule.check)(&ctx, &mut found);
        out.extend(found);
    }
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
    /// Also check NFS client mount options on a KVM host, in /proc/mounts
    /// or an fstab (hard backup mounts without a bound, soft VM-disk mounts).
    #[arg(long, value_name = "FILE")]
    pub mounts: Option<PathBuf>,
}

/// How long `cibadmin -Q` may take before we give up on the live CIB.
const CIBADMIN_DEADLINE: Duration = Duration::from_secs(20);

/// Everything read: cluster models and host settings, with their dialects,
/// and the files that could not be read.
pub struct Inputs {
    pub clusters: Vec<Model>,
    pub host: HostConfig,
    pub files: Vec<(String, Dialect)>,
    /// Files that could not be read (each with file, line and why).
    pub errors: Vec<model::ParseError>,
}

/// Read and parse all inputs; the first error (naming file and line) stops it.
pub fn read_inputs(
    files: &[PathBuf],
    forced: Option<Dialect>,
) -> Result<Inputs, model::ParseError> {
    let mut inputs = read_all(files, forced);
    match inputs.errors.is_empty() {
        true => Ok(inputs),
        false => Err(inputs.errors.remove(0)),
    }
}

/// Read and parse every input; the ones that cannot be read are listed in
/// [`Inputs::errors`] and the others are still linted.
pub fn read_all(files: &[PathBuf], forced: Option<Dialect>) -> Inputs {
    let mut inputs = Inputs {
        clusters: Vec::new(),
        host: HostConfig::default(),
        files: Vec::new(),
        errors: Vec::new(),
    };
    for f in files {
        match input::read_file(f, forced) {
            Ok(i) => {
                inputs.files.push((f.display().to_string(), i.dialect));
                merge_host(&mut inputs.host, i.host);
                inputs.clusters.extend(i.clusters);
            }
            Err(e) => inputs.errors.push(e),
        }
    }
    inputs
}

fn merge_host(into: &mut HostConfig, from: HostConfig) {
    into.nfsconf.extend(from.nfsconf);
    into.sysconfig.extend(from.sysconfig);
    into.nfsconf_ignored.extend(from.nfsconf_ignored);
    into.exports.extend(from.exports);
    if from.heartbeat.is_some() {
        into.heartbeat = from.heartbeat;
    }
}

/// Read the live CIB with `cibadmin -Q` (argv, no shell, bounded by a deadline).
fn live_cib() -> Result<String, String> {
    let mut child = std::process::Command::new("cibadmin")
        .arg("-Q")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!(
                "no file given and `cibadmin -Q` could not run ({e}); give a CIB, crm or pcs file"
            )
        })?;
    let mut stdout = child.stdout.take().expect("piped");
    let reader = std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut buf);
        buf
    });
    let start = std::time::Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(status)) => {
                let out = reader.join().unwrap_or_default();
                if !status.success() {
                    return Err(format!("`cibadmin -Q` failed ({status}); is this a cluster node with Pacemaker running?"));
                }
                return Ok(String::from_utf8_lossy(&out).into_owned());
            }
            Ok(None) if start.elapsed() > CIBADMIN_DEADLINE => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!(
                    "`cibadmin -Q` did not answer within {}s",
                    CIBADMIN_DEADLINE.as_secs()
                ));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(e) => return Err(format!("waiting for `cibadmin -Q`: {e}")),
        }
    }
}

/// Run `nfsha lint`; returns the exit code (0 clean, 1 findings at or above
/// `--fail-on`, 2 unreadable input or usage error).
pub fn run(args: &LintArgs) -> i32 {
    if let Some(m) = &args.mounts {
        let rc = crate::heartbeat::mounts::run(m, args.format == Format::Json, "nfsha lint");
        if args.files.is_empty() || rc == 2 {
            return rc;
        }
        return rc.max(run_configs(args));
    }
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
    let mut inputs = read_all(&args.files, args.dialect);
    if args.files.is_empty() {
        eprintln!("nfsha lint: no file given; reading the live CIB with `cibadmin -Q`");
        let text = match live_cib() {
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
