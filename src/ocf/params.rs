//! Instance parameters: declared once per agent as [`ParamSpec`]s, parsed from
//! `OCF_RESKEY_*`, and rendered into the agent's meta-data from the same table.
//!
//! An empty value counts as "not given" (pcs and crmsh write `name=""` for a
//! cleared parameter), so the default applies.

use crate::formats::bools;
use std::collections::BTreeMap;

use super::rc::OcfError;

/// The parameter's type, as both the parser and the meta-data see it.
#[derive(Clone, Copy, Debug)]
pub enum ParamKind {
    /// Free text, optionally checked by [`ParamSpec::check`].
    String,
    /// A decimal integer within the inclusive bounds.
    Integer { min: i64, max: i64 },
    /// `true/false`, `yes/no`, `on/off`, `1/0` (case-insensitive), as `ocf_is_true` reads them.
    Boolean,
}

impl ParamKind {
    /// The OCF meta-data content type (`ra-api-1.dtd`: string|integer|boolean|time).
    pub fn content_type(self) -> &'static str {
        match self {
            ParamKind::String => "string",
            ParamKind::Integer { .. } => "integer",
            ParamKind::Boolean => "boolean",
        }
    }
}

/// A custom check for a parameter's value: `Err` carries what was expected.
pub type Check = fn(&str) -> Result<(), String>;

/// One instance parameter of an agent.
#[derive(Clone, Copy, Debug)]
pub struct ParamSpec {
    pub name: &'static str,
    pub kind: ParamKind,
    pub required: bool,
    /// Hint that no two resources of this agent should share the value.
    pub unique: bool,
    pub default: Option<&'static str>,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
    pub check: Option<Check>,
}

impl ParamSpec {
    /// A plain optional string parameter; adjust with the builder methods.
    pub const fn new(name: &'static str, shortdesc: &'static str, longdesc: &'static str) -> Self {
        ParamSpec {
            name,
            kind: ParamKind::String,
            required: false,
            unique: false,
            default: None,
            shortdesc,
            longdesc,
            check: None,
        }
    }
    pub const fn required(mut self) -> Self {
        self.required = true;
        self
    }
    pub const fn unique(mut self) -> Self {
        self.unique = true;
        self
    }
    pub const fn default(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }
    pub const fn integer(mut self, min: i64, max: i64) -> Self {
        self.kind = ParamKind::Integer { min, max };
        self
    }
    pub const fn boolean(mut self) -> Self {
        self.kind = ParamKind::Boolean;
        self
    }
    pub const fn check(mut self, check: Check) -> Self {
        self.check = Some(check);
        self
    }
}

/// A parameter that an agent deliberately does not accept, with the reason an
/// admin gets when they pass it (e.g. `wait_for_leasetime_on_stop`).
#[derive(Clone, Copy, Debug)]
pub struct Refused {
    pub name: &'static str,
    pub why: &'static str,
}

/// A parsed value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Value {
    Str(String),
    Int(i64),
    Bool(bool),
}

/// The parsed instance parameters of one resource.
#[derive(Clone, Debug, Default)]
pub struct Params {
    values: BTreeMap<&'static str, Value>,
    given: Vec<&'static str>,
    /// Names that are not parameters of this agent (reported by the runtime).
    pub unknown: Vec<String>,
}

/// Parameters Pacemaker or the shell tooling pass to every agent; they are not
/// instance parameters of ours and are neither rejected nor parsed.
/// `OCF_CHECK_LEVEL` is a monitor op's instance attribute: Pacemaker passes
/// op attributes with the resource's, as `OCF_RESKEY_OCF_CHECK_LEVEL`.
const TOOLING_KEYS: &[&str] = &[
    "crm_feature_set",
    "trace_ra",
    "trace_file",
    "OCF_CHECK_LEVEL",
];

fn parse_one(spec: &ParamSpec, raw: &str) -> Result<Value, OcfError> {
    let bad = |expected: String| {
        OcfError::configured(format!(
            "parameter {}={:?} is invalid: {}",
            spec.name, raw, expected
        ))
    };
    // The parameter's own check first: it explains a bad value better than
    // the bare range does (lease_time=20: why 30 is the floor).
    if let Some(check) = spec.check {
        check(raw).map_err(bad)?;
    }
    let value = match spec.kind {
        ParamKind::String => Value::Str(raw.to_string()),
        ParamKind::Integer { min, max } => {
            let n: i64 = raw
                .trim()
                .parse()
                .map_err(|_| bad(format!("expected a whole number from {min} to {max}")))?;
            if n < min || n > max {
                return Err(bad(format!("expected a whole number from {min} to {max}")));
            }
            Value::Int(n)
        }
        ParamKind::Boolean => Value::Bool(
            bools::pacemaker(raw).ok_or_else(|| bad("expected true or false".to_string()))?,
        ),
    };
    Ok(value)
}

impl Params {
    /// Parse `OCF_RESKEY_*` entries of `env` against `specs`.
    ///
    /// Errors (all `OCF_ERR_CONFIGURED`, naming the parameter and value): a
    /// missing required parameter, a malformed value, a refused parameter.
    /// Unknown names are collected in [`Params::unknown`] for the caller.
    pub fn parse(
        specs: &'static [ParamSpec],
        refused: &'static [Refused],
        env: &BTreeMap<String, String>,
    ) -> Result<Params, OcfError> {
        Self::parse_with(specs, refused, env, false)
    }

    /// [`Params::parse`] for a stop, which must not fail on a value it does
    /// not need (a failed stop gets the node fenced): a malformed or refused
    /// value of a parameter with a default falls back to the default, with
    /// a warning. A missing or malformed required parameter is still an error.
    pub fn parse_for_stop(
        specs: &'static [ParamSpec],
        refused: &'static [Refused],
        env: &BTreeMap<String, String>,
    ) -> Result<Params, OcfError> {
        Self::parse_with(specs, refused, env, true)
    }

    fn parse_with(
        specs: &'static [ParamSpec],
        refused: &'static [Refused],
        env: &BTreeMap<String, String>,
        lenient: bool,
    ) -> Result<Params, OcfError> {
        let mut params = Params::default();
        for (key, raw) in env {
            let Some(name) = key.strip_prefix("OCF_RESKEY_") else {
                continue;
            };
            if name.starts_with("CRM_meta_") || TOOLING_KEYS.contains(&name) {
                continue;
            }
            if let Some(r) = refused.iter().find(|r| r.name == name) {
                if raw.is_empty() || bools::pacemaker(raw) == Some(false) {
                    continue;
                }
                let msg = format!("parameter {}={:?} is not supported: {}", r.name, raw, r.why);
                if lenient {
                    tracing::warn!("{msg}");
                    continue;
                }
                return Err(OcfError::configured(msg));
            }
            if !specs.iter().any(|s| s.name == name) {
                params.unknown.push(name.to_string());
            }
        }
        for spec in specs {
            let given = env
                .get(&format!("OCF_RESKEY_{}", spec.name))
                .filter(|v| !v.is_empty());
            let raw = match (given, spec.default) {
                (Some(v), _) => {
                    params.given.push(spec.name);
                    v.as_str()
                }
                (None, Some(d)) => d,
                (None, None) if spec.required => {
                    return Err(OcfError::configured(format!(
                        "required parameter {} is not set",
                        spec.name
                    )))
                }
                (None, None) => continue,
            };
            let value = match (parse_one(spec, raw), spec.default) {
                (Ok(v), _) => v,
                (Err(e), Some(d)) if lenient => {
                    tracing::warn!("{}; using the default {d:?} for this stop", e.reason);
                    parse_one(spec, d)?
                }
                (Err(e), _) => return Err(e),
            };
            params.values.insert(spec.name, value);
        }
        Ok(params)
    }

    /// Whether the admin gave the parameter (as opposed to its default).
    pub fn is_given(&self, name: &str) -> bool {
        self.given.contains(&name)
    }

    /// The value of `spec`, typed and defaulted from the table: ask for `T`
    /// when the parameter always has a value (required, or with a default;
    /// the parser guarantees one), for `Option<T>` when it may be absent.
    ///
    /// ```ignore
    /// let lease: u32 = ctx.params.get(&LEASE_TIME);
    /// let grace: Option<u32> = ctx.params.get(&GRACE_TIME);
    /// ```
    pub fn get<'a, T: FromParam<'a>>(&'a self, spec: &ParamSpec) -> T {
        T::from_param(self.values.get(spec.name), spec)
    }

    pub fn str(&self, name: &str) -> Option<&str> {
        match self.values.get(name) {
            Some(Value::Str(s)) => Some(s),
            _ => None,
        }
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        match self.values.get(name) {
            Some(Value::Int(n)) => Some(*n),
            _ => None,
        }
    }

    /// A boolean parameter; absent without a default reads as `false`.
    pub fn bool(&self, name: &str) -> bool {
        matches!(self.values.get(name), Some(Value::Bool(true)))
    }
}

/// A type a parameter's value can be read as (see [`Params::get`]).
pub trait FromParam<'a>: Sized {
    fn from_param(value: Option<&'a Value>, spec: &ParamSpec) -> Self;
}

/// Asking for a plain `T` promises the table gives the parameter a value.
fn promised(spec: &ParamSpec) {
    debug_assert!(
        spec.required || spec.default.is_some(),
        "parameter {} has no default and is optional: read it as an Option",
        spec.name
    );
}

impl<'a> FromParam<'a> for &'a str {
    fn from_param(value: Option<&'a Value>, spec: &ParamSpec) -> Self {
        match value {
            Some(Value::Str(s)) => s,
            _ => {
                promised(spec);
                ""
            }
        }
    }
}

impl<'a> FromParam<'a> for String {
    fn from_param(value: Option<&'a Value>, spec: &ParamSpec) -> Self {
        <&str>::from_param(value, spec).to_string()
    }
}

impl<'a> FromParam<'a> for std::path::PathBuf {
    fn from_param(value: Option<&'a Value>, spec: &ParamSpec) -> Self {
        std::path::PathBuf::from(<&str>::from_param(value, spec))
    }
}

impl<'a> FromParam<'a> for i64 {
    fn from_param(value: Option<&'a Value>, spec: &ParamSpec) -> Self {
        match value {
            Some(Value::Int(n)) => *n,
            _ => {
                promised(spec);
                0
            }
        }
    }
}

impl<'a> FromParam<'a> for u32 {
    fn from_param(value: Option<&'a Value>, spec: &ParamSpec) -> Self {
        debug_assert!(
            matches!(spec.kind, ParamKind::Integer { min, max } if min >= 0 && max <= i64::from(u32::MAX)),
            "parameter {} is not an integer within u32",
            spec.name
        );
        i64::from_param(value, spec).clamp(0, i64::from(u32::MAX)) as u32
    }
}

impl<'a> FromParam<'a> for bool {
    fn from_param(value: Option<&'a Value>, spec: &ParamSpec) -> Self {
        match value {
            Some(Value::Bool(b)) => *b,
            _ => {
                promised(spec);
                false
            }
        }
    }
}

impl<'a, T: FromParam<'a>> FromParam<'a> for Option<T> {
    fn from_param(value: Option<&'a Value>, spec: &ParamSpec) -> Self {
        value.map(|v| T::from_param(Some(v), spec))
    }
}

/// Checks shared by agents: values that end up in argv of external tools or in
/// paths must not carry shell syntax, newlines or path tricks, even though we
/// never use a shell, because other tools (and admins' scripts) may.
pub fn no_shell_metachars(raw: &str) -> Result<(), String> {
    const BAD: &[char] = &[
        ';', '&', '|', '`', '$', '(', ')', '<', '>', '\\', '"', '\'', '\n', '\r', '\t', ' ', '*',
        '?', '[', ']', '{', '}', '!', '#', '~',
    ];
    if let Some(c) = raw.chars().find(|c| BAD.contains(c) || c.is_control()) {
        return Err(format!("the character {c:?} is not allowed here"));
    }
    Ok(())
}

/// An absolute, normalised path with no `..`, no `//` and no shell syntax.
pub fn absolute_path(raw: &str) -> Result<(), String> {
    no_shell_metachars(raw)?;
    if !raw.starts_with('/') {
        return Err("expected an absolute path".into());
    }
    if raw
        .split('/')
        .skip(1)
        .any(|part| part == ".." || part == ".")
    {
        return Err("'.' and '..' components are not allowed".into());
    }
    if raw.contains("//") || (raw.len() > 1 && raw.ends_with('/')) {
        return Err("expected a normalised path (no '//' or trailing '/')".into());
    }
    Ok(())
}

/// A network interface name as the kernel accepts it (1-15 bytes, no '/', ':' or blanks).
pub fn interface_name(raw: &str) -> Result<(), String> {
    if raw.is_empty() || raw.len() > 15 {
        return Err("expected an interface name of 1 to 15 characters".into());
    }
    if raw == "." || raw == ".." {
        return Err("expected an interface name".into());
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@')))
    {
        return Err(format!(
            "the character {c:?} is not allowed in an interface name"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    static SPECS: &[ParamSpec] = &[
        ParamSpec::new("ip", "address", "the address").required(),
        ParamSpec::new("count", "count", "how many")
            .integer(0, 10)
            .default("5"),
        ParamSpec::new("flag", "flag", "a switch").boolean(),
        ParamSpec::new("nic", "nic", "interface").check(interface_name),
    ];
    static REFUSED: &[Refused] = &[Refused {
        name: "wait_for_leasetime_on_stop",
        why: "it makes stop sleep for the whole lease",
    }];

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (format!("OCF_RESKEY_{k}"), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_apply_and_given_values_win() {
        let p = Params::parse(SPECS, REFUSED, &env(&[("ip", "10.0.0.1")])).unwrap();
        assert_eq!(p.str("ip"), Some("10.0.0.1"));
        assert_eq!(p.int("count"), Some(5));
        assert!(!p.is_given("count"));
        assert!(!p.bool("flag"));
        let p = Params::parse(
            SPECS,
            REFUSED,
            &env(&[("ip", "x"), ("count", "7"), ("flag", "YES")]),
        )
        .unwrap();
        assert_eq!(p.int("count"), Some(7));
        assert!(p.is_given("count"));
        assert!(p.bool("flag"));
    }

    #[test]
    fn typed_values_come_defaulted_from_the_table() {
        let p = Params::parse(SPECS, REFUSED, &env(&[("ip", "10.0.0.1")])).unwrap();
        let ip: &str = p.get(&SPECS[0]);
        let count: i64 = p.get(&SPECS[1]);
        let count32: u32 = p.get(&SPECS[1]);
        let flag: Option<bool> = p.get(&SPECS[2]);
        let nic: Option<String> = p.get(&SPECS[3]);
        assert_eq!(
            (ip, count, count32, flag, nic),
            ("10.0.0.1", 5, 5, None, None)
        );
        let p = Params::parse(
            SPECS,
            REFUSED,
            &env(&[("ip", "x"), ("count", "7"), ("flag", "no"), ("nic", "eth1")]),
        )
        .unwrap();
        let count: u32 = p.get(&SPECS[1]);
        let flag: bool = p.get(&SPECS[2]);
        let nic: Option<&str> = p.get(&SPECS[3]);
        assert_eq!((count, flag, nic), (7, false, Some("eth1")));
    }

    #[test]
    fn the_parameters_own_check_explains_before_the_range() {
        static S: &[ParamSpec] =
            &[ParamSpec::new("lease", "l", "l")
                .integer(30, 3600)
                .check(|raw| match raw.parse::<i64>() {
                    Ok(n) if n < 30 => Err("below 30 s clients lose state".into()),
                    _ => Ok(()),
                })];
        let e = Params::parse(S, &[], &env(&[("lease", "29")])).unwrap_err();
        assert_eq!(
            e.reason,
            "parameter lease=\"29\" is invalid: below 30 s clients lose state"
        );
        let e = Params::parse(S, &[], &env(&[("lease", "3601")])).unwrap_err();
        assert!(e.reason.contains("from 30 to 3600"), "{}", e.reason);
        let p = Params::parse(S, &[], &env(&[("lease", "30")])).unwrap();
        assert_eq!(p.get::<u32>(&S[0]), 30);
    }

    #[test]
    fn a_stop_falls_back_to_defaults_for_values_it_cannot_read() {
        let e = env(&[
            ("ip", "a"),
            ("count", "11"),
            ("wait_for_leasetime_on_stop", "yes"),
        ]);
        assert!(Params::parse(SPECS, REFUSED, &e).is_err());
        let p = Params::parse_for_stop(SPECS, REFUSED, &e).unwrap();
        assert_eq!(p.get::<i64>(&SPECS[1]), 5);
        // Without a default there is nothing to fall back to.
        let e = env(&[("ip", "a"), ("nic", "eth0;x")]);
        assert!(Params::parse_for_stop(SPECS, REFUSED, &e).is_err());
        assert!(Params::parse_for_stop(SPECS, REFUSED, &env(&[])).is_err());
    }

    #[test]
    fn empty_value_means_default() {
        let p = Params::parse(SPECS, REFUSED, &env(&[("ip", "a"), ("count", "")])).unwrap();
        assert_eq!(p.int("count"), Some(5));
        let e = Params::parse(SPECS, REFUSED, &env(&[("ip", "")])).unwrap_err();
        assert_eq!(e.rc, super::super::rc::Rc::ErrConfigured);
        assert_eq!(e.reason, "required parameter ip is not set");
    }

    #[test]
    fn malformed_values_name_parameter_and_value() {
        let e = Params::parse(SPECS, REFUSED, &env(&[("ip", "a"), ("count", "11")])).unwrap_err();
        assert_eq!(e.rc, super::super::rc::Rc::ErrConfigured);
        assert_eq!(
            e.reason,
            "parameter count=\"11\" is invalid: expected a whole number from 0 to 10"
        );
        let e = Params::parse(SPECS, REFUSED, &env(&[("ip", "a"), ("count", "5x")])).unwrap_err();
        assert!(e.reason.contains("count=\"5x\""), "{}", e.reason);
        let e = Params::parse(SPECS, REFUSED, &env(&[("ip", "a"), ("flag", "maybe")])).unwrap_err();
        assert_eq!(
            e.reason,
            "parameter flag=\"maybe\" is invalid: expected true or false"
        );
        let e =
            Params::parse(SPECS, REFUSED, &env(&[("ip", "a"), ("nic", "eth0;rm")])).unwrap_err();
        assert!(e.reason.starts_with("parameter nic=\"eth0;rm\" is invalid"));
    }

    #[test]
    fn unknown_and_tooling_keys() {
        let mut e = env(&[
            ("ip", "a"),
            ("colour", "blue"),
            ("crm_feature_set", "3.16"),
            ("OCF_CHECK_LEVEL", "10"),
        ]);
        e.insert("OCF_RESKEY_CRM_meta_timeout".into(), "20000".into());
        let p = Params::parse(SPECS, REFUSED, &e).unwrap();
        assert_eq!(p.unknown, vec!["colour".to_string()]);
    }

    #[test]
    fn refused_parameters_explain_themselves() {
        let e = Params::parse(
            SPECS,
            REFUSED,
            &env(&[("ip", "a"), ("wait_for_leasetime_on_stop", "true")]),
        )
        .unwrap_err();
        assert!(e
            .reason
            .contains("wait_for_leasetime_on_stop=\"true\" is not supported: it makes stop sleep"));
        // Explicitly turning it off is harmless.
        Params::parse(
            SPECS,
            REFUSED,
            &env(&[("ip", "a"), ("wait_for_leasetime_on_stop", "false")]),
        )
        .unwrap();
    }

    #[test]
    fn shared_checks() {
        assert!(no_shell_metachars("10.0.0.5").is_ok());
        assert!(no_shell_metachars("10.0.0.5;touch /tmp/x").is_err());
        assert!(no_shell_metachars("a\nb").is_err());
        assert!(absolute_path("/srv/nfs/export").is_ok());
        assert!(absolute_path("srv").is_err());
        assert!(absolute_path("/srv/../etc").is_err());
        assert!(absolute_path("/srv//x").is_err());
        assert!(absolute_path("/srv/x/").is_err());
        assert!(absolute_path("/").is_ok());
        assert!(interface_name("eth0").is_ok());
        assert!(interface_name("veth-nfsha0").is_ok());
        assert!(interface_name("abcdefghijklmnop").is_err());
        assert!(interface_name("eth0:1").is_err());
    }
}
