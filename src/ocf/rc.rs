//! OCF exit codes (OCF Resource Agent API 1.1, "Exit Status Codes") and the
//! error type every agent action returns.

use std::fmt;

/// An OCF return code. The numeric values are fixed by the OCF 1.1 API and
/// Pacemaker treats each one differently (6 is fatal everywhere, 7 from a
/// monitor means "cleanly stopped"), so agents must pick the exact one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Rc {
    /// 0: the action succeeded; for monitor, the resource is active.
    Success,
    /// 1: unspecified error; for monitor, active but malfunctioning or undetermined.
    ErrGeneric,
    /// 2: parameters invalid in the context of this host.
    ErrArgs,
    /// 3: the action is not implemented by this agent.
    ErrUnimplemented,
    /// 4: insufficient privilege.
    ErrPerm,
    /// 5: software the agent needs is not installed on this host.
    ErrInstalled,
    /// 6: the parameters are inherently invalid (Pacemaker stops the resource everywhere).
    ErrConfigured,
    /// 7: monitor found the resource cleanly stopped.
    NotRunning,
    /// 8: monitor found the resource active in the promoted role.
    RunningPromoted,
    /// 9: monitor found the resource failed in the promoted role.
    FailedPromoted,
    /// 190: active, but future failures are more likely.
    Degraded,
    /// 191: active and promoted, but future failures are more likely.
    DegradedPromoted,
}

impl Rc {
    /// Every code, in numeric order (for documentation and tests).
    pub const ALL: [Rc; 12] = [
        Rc::Success,
        Rc::ErrGeneric,
        Rc::ErrArgs,
        Rc::ErrUnimplemented,
        Rc::ErrPerm,
        Rc::ErrInstalled,
        Rc::ErrConfigured,
        Rc::NotRunning,
        Rc::RunningPromoted,
        Rc::FailedPromoted,
        Rc::Degraded,
        Rc::DegradedPromoted,
    ];

    pub fn code(self) -> i32 {
        match self {
            Rc::Success => 0,
            Rc::ErrGeneric => 1,
            Rc::ErrArgs => 2,
            Rc::ErrUnimplemented => 3,
            Rc::ErrPerm => 4,
            Rc::ErrInstalled => 5,
            Rc::ErrConfigured => 6,
            Rc::NotRunning => 7,
            Rc::RunningPromoted => 8,
            Rc::FailedPromoted => 9,
            Rc::Degraded => 190,
            Rc::DegradedPromoted => 191,
        }
    }

    /// The name ocf-returncodes uses for this code.
    pub fn name(self) -> &'static str {
        match self {
            Rc::Success => "OCF_SUCCESS",
            Rc::ErrGeneric => "OCF_ERR_GENERIC",
            Rc::ErrArgs => "OCF_ERR_ARGS",
            Rc::ErrUnimplemented => "OCF_ERR_UNIMPLEMENTED",
            Rc::ErrPerm => "OCF_ERR_PERM",
            Rc::ErrInstalled => "OCF_ERR_INSTALLED",
            Rc::ErrConfigured => "OCF_ERR_CONFIGURED",
            Rc::NotRunning => "OCF_NOT_RUNNING",
            Rc::RunningPromoted => "OCF_RUNNING_PROMOTED",
            Rc::FailedPromoted => "OCF_FAILED_PROMOTED",
            Rc::Degraded => "OCF_DEGRADED",
            Rc::DegradedPromoted => "OCF_DEGRADED_PROMOTED",
        }
    }

    pub fn from_code(code: i32) -> Option<Rc> {
        Rc::ALL.into_iter().find(|rc| rc.code() == code)
    }
}

impl fmt::Display for Rc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({})", self.code(), self.name())
    }
}

/// Why an action did not succeed: the exit code and the reason Pacemaker shows
/// as the exit reason (`crm_mon`, `pcs status`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OcfError {
    pub rc: Rc,
    pub reason: String,
}

pub type OcfResult<T = ()> = Result<T, OcfError>;

impl OcfError {
    pub fn new(rc: Rc, reason: impl Into<String>) -> Self {
        OcfError {
            rc,
            reason: reason.into(),
        }
    }
    pub fn generic(reason: impl Into<String>) -> Self {
        Self::new(Rc::ErrGeneric, reason)
    }
    pub fn configured(reason: impl Into<String>) -> Self {
        Self::new(Rc::ErrConfigured, reason)
    }
    pub fn installed(reason: impl Into<String>) -> Self {
        Self::new(Rc::ErrInstalled, reason)
    }
    pub fn perm(reason: impl Into<String>) -> Self {
        Self::new(Rc::ErrPerm, reason)
    }
    pub fn not_running(reason: impl Into<String>) -> Self {
        Self::new(Rc::NotRunning, reason)
    }
    /// An ordering violation: the group's members are not in the state this
    /// action needs, so the cluster configuration orders them wrongly.
    pub fn ordering(reason: impl Into<String>) -> Self {
        Self::new(Rc::ErrGeneric, format!("ordering: {}", reason.into()))
    }
}

impl fmt::Display for OcfError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.rc.name(), self.reason)
    }
}

impl std::error::Error for OcfError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_ocf_api() {
        let expected = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 190, 191];
        let got: Vec<i32> = Rc::ALL.iter().map(|rc| rc.code()).collect();
        assert_eq!(got, expected);
        for rc in Rc::ALL {
            assert_eq!(Rc::from_code(rc.code()), Some(rc));
        }
        assert_eq!(Rc::from_code(42), None);
        assert_eq!(Rc::ErrConfigured.name(), "OCF_ERR_CONFIGURED");
        assert_eq!(Rc::NotRunning.to_string(), "7 (OCF_NOT_RUNNING)");
    }

    #[test]
    fn ordering_errors_are_generic_with_a_prefix() {
        let e = OcfError::ordering("nfsd is not running");
        assert_eq!(e.rc, Rc::ErrGeneric);
        assert_eq!(e.reason, "ordering: nfsd is not running");
    }
}
