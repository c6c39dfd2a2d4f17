//! What a rule is and what it reports: [`Rule`], [`Finding`], [`Severity`].

use serde::{Deserialize, Serialize};

use super::fix::Fix;
use super::Ctx;
use crate::model::Loc;

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
    /// The changes that fix it, when they are mechanical; rendered as the
    /// first `crm:` and `pcs:` help lines.
    pub fixes: Vec<Fix>,
    /// Other advice, each prefixed with where it applies (`crm:`, `pcs:`,
    /// `nfs.conf:`); for a finding without fixes, what to decide.
    pub help: Vec<String>,
    /// The finding depends on a value inside a rule-conditional set.
    pub conditional: bool,
    /// The exact refusal of the agent or daemon check this finding mirrors
    /// (the same function's error), so that NFS004's report of the same
    /// refusal is not printed twice.
    pub mirrors: Option<String>,
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
            fixes: Vec::new(),
            help: Vec::new(),
            conditional: false,
            mirrors: None,
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
    /// A change that fixes the finding (several apply in order).
    pub fn fix(mut self, f: Fix) -> Finding {
        self.fixes.push(f);
        self
    }
    /// Every help line: the fixes as crm and pcs commands, then the rest.
    pub fn help_lines(&self) -> Vec<String> {
        let mut v = Fix::help(&self.fixes);
        v.extend(self.help.iter().cloned());
        v
    }
    /// Record that this finding is the agent's or daemon's own refusal.
    pub fn mirrors(mut self, reason: impl Into<String>) -> Finding {
        self.mirrors = Some(reason.into());
        self
    }
    pub fn conditional(mut self, c: bool) -> Finding {
        self.conditional |= c;
        self
    }
}
