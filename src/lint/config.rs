//! Suppressions and severity overrides: the `--config` TOML file, and the
//! inline `nfsha: ignore[CODE]` comments the parsers record on objects.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use super::{rules, Finding, Severity};
use crate::model::Model;

/// Suppressions and severity overrides (`--config`, TOML).
///
/// ```toml
/// ignore = ["NFS302"]            # rules switched off everywhere
/// nfs-utils = "2.6.2"            # the servers' nfs-utils (as --nfs-utils)
/// crmsh = "5.0.0"                # the crmsh that runs crm commands (as --crmsh)
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
    /// The nfs-utils version of the servers (`--nfs-utils` overrides it).
    #[serde(default)]
    pub nfs_utils: Option<String>,
    /// `nfs_utils`, read.
    #[serde(skip)]
    pub nfs_utils_version: Option<super::nfs_utils::NfsUtils>,
    /// The crmsh version that runs crm commands (`--crmsh` overrides it).
    #[serde(default)]
    pub crmsh: Option<String>,
    /// `crmsh`, read.
    #[serde(skip)]
    pub crmsh_version: Option<crate::model::crm::Crmsh>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectIgnore {
    pub rule: String,
    pub object: String,
    #[serde(default)]
    pub reason: Option<String>,
}

/// The resource or constraint id an object names: `nfsserver lease_time`
/// is a parameter of `nfsserver`.
pub fn object_id(object: &str) -> &str {
    object.split(' ').next().unwrap_or(object)
}

impl Config {
    pub fn load(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
        let c: Config = toml::from_str(&text).map_err(|e| {
            let line = e.span().map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            format!("{}:{line}: expected a suppression config (ignore, [[ignore-object]], [severity], nfs-utils, crmsh): {}", path.display(), e.message())
        })?;
        let mut c = c;
        if let Some(raw) = &c.nfs_utils {
            c.nfs_utils_version = Some(
                super::nfs_utils::NfsUtils::parse(raw)
                    .map_err(|e| format!("{}: nfs-utils: {e}", path.display()))?,
            );
        }
        if let Some(raw) = &c.crmsh {
            c.crmsh_version = Some(
                crate::model::crm::Crmsh::parse(raw)
                    .map_err(|e| format!("{}: crmsh: {e}", path.display()))?,
            );
        }
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

    pub fn suppressed(&self, f: &Finding, m: &Model) -> bool {
        let code = f.code;
        if self.ignore.iter().any(|c| c.eq_ignore_ascii_case(code)) {
            return true;
        }
        // An object is a resource or constraint id, or one of its
        // parameters (`nfsserver lease_time`): the id's suppressions cover
        // its parameters too.
        let inline = |obj: &str| {
            let id = object_id(obj);
            m.get(id)
                .is_some_and(|r| r.ignores.iter().any(|c| c == code))
                || m.constraint_ignores
                    .get(id)
                    .is_some_and(|cs| cs.iter().any(|c| c == code))
        };
        f.objects.iter().any(|o| {
            inline(o)
                || self.ignore_object.iter().any(|i| {
                    i.rule.eq_ignore_ascii_case(code)
                        && (i.object == *o || i.object == object_id(o))
                })
        })
    }
}
