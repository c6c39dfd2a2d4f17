//! The one line each check prints, which the agent's Java reads.
//!
//! `Script.execute` merges stderr into stdout and a `OneLineParser` keeps the
//! first line; `KVMHAChecker` and `KVMHAVMActivityChecker` count a host as
//! dead only when the exit code is 0 **and** that line contains `DEAD`
//! (agents before 4.16 look for `> DEAD <` instead; see docs/heartbeat.md).
//! So a verdict other than dead must never carry the word, whatever text it
//! quotes (a path, an error message): [`sanitize`] sees to that.

/// The stock scripts' alive line.
pub const ALIVE: &str = "=====> ALIVE <=====";

/// What a heartbeat check (`-r`) answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Answer {
    Alive,
    /// No change seen for `max_s` seconds (or, for a host on the stock
    /// script, a decimal time older than `-t`), confirmed by a fresh read.
    Dead {
        file: String,
        age_s: u64,
        max_s: u64,
    },
    /// Stopped renewing, but it does not fence itself: its VMs may still run.
    NotFenced {
        host: String,
        why: String,
    },
    /// Neither: missing or corrupt records, hung storage, too few observations.
    Unknown(String),
}

impl Answer {
    /// Exit code: 0 for the answers the agent reads (alive and dead), 4 for
    /// not fenced, 3 for unknown; the agent reads both of those as alive.
    pub fn exit_code(&self) -> i32 {
        match self {
            Answer::Alive | Answer::Dead { .. } => 0,
            Answer::NotFenced { .. } => 4,
            Answer::Unknown(_) => 3,
        }
    }

    /// The line, as the stock scripts print it where they have one.
    pub fn line(&self) -> String {
        match self {
            Answer::Alive => ALIVE.to_string(),
            Answer::Dead { file, age_s, max_s } => format!(
                "=====> Considering host as DEAD because last write on [{}] was [{age_s}] seconds ago, but the max interval is [{max_s}] <======",
                one_line(file)
            ),
            Answer::NotFenced { host, why } => sanitize(&format!(
                "=====> NOT FENCED: host {host} stopped renewing but does not fence itself ({why}); its VMs must not be restarted elsewhere <====="
            )),
            Answer::Unknown(why) => sanitize(&format!(
                "=====> UNKNOWN (neither alive nor dead): {why} <====="
            )),
        }
    }
}

/// What `kvmvmactivity.sh` answers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Activity {
    Alive(String),
    Dead(String),
    /// This host cannot tell (the pool is not mounted or does not answer
    /// here): never a reason to power a host off.
    Unknown(String),
}

impl Activity {
    pub fn exit_code(&self) -> i32 {
        match self {
            Activity::Alive(_) | Activity::Dead(_) => 0,
            Activity::Unknown(_) => 3,
        }
    }
    pub fn line(&self) -> String {
        match self {
            // The stock script prints the bare line; the reason goes to the log.
            Activity::Alive(_) => ALIVE.to_string(),
            Activity::Dead(why) => format!(
                "=====> Considering host as DEAD due to {} <======",
                sanitize(why)
            ),
            Activity::Unknown(why) => Answer::Unknown(why.clone()).line(),
        }
    }
}

/// One line, with the verdict words `DEAD` and `ALIVE` lowered so that text
/// quoted into a non-dead answer (a mount path, an error message) can never
/// be read as a verdict.
pub fn sanitize(text: &str) -> String {
    one_line(text)
        .replace("DEAD", "dead")
        .replace("ALIVE", "alive")
}

fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What the agent's Java concludes from an answer: dead only with exit 0
    /// and `DEAD` on the first line.
    fn agent_reads_dead(a: &Answer) -> bool {
        a.exit_code() == 0 && a.line().lines().next().unwrap_or("").contains("DEAD")
    }

    #[test]
    fn only_the_dead_answer_reads_as_dead() {
        let dead = Answer::Dead {
            file: "/mnt/a/KVMHA/hb-10.0.0.1".into(),
            age_s: 61,
            max_s: 60,
        };
        assert_eq!(
            dead.line(),
            "=====> Considering host as DEAD because last write on [/mnt/a/KVMHA/hb-10.0.0.1] was [61] seconds ago, but the max interval is [60] <======"
        );
        assert!(agent_reads_dead(&dead));
        assert!(!agent_reads_dead(&Answer::Alive));
        assert_eq!(Answer::Alive.line(), "=====> ALIVE <=====");
        // Quoted text that shouts the verdict words stays harmless.
        let nasty = "/mnt/DEADBEEF: DEAD\nALIVE";
        for a in [
            Answer::Unknown(nasty.into()),
            Answer::NotFenced {
                host: "10.0.0.9".into(),
                why: nasty.into(),
            },
        ] {
            let line = a.line();
            assert!(!line.contains("DEAD") && !line.contains("ALIVE"), "{line}");
            assert!(!line.contains('\n'), "{line}");
            assert!(line.contains("/mnt/deadBEEF"), "{line}");
            assert!(!agent_reads_dead(&a));
            assert_ne!(a.exit_code(), 0);
        }
        assert_eq!(Answer::Unknown(String::new()).exit_code(), 3);
        assert_eq!(
            Answer::NotFenced {
                host: String::new(),
                why: String::new()
            }
            .exit_code(),
            4
        );
    }

    #[test]
    fn activity_lines() {
        assert_eq!(Activity::Alive("x".into()).line(), ALIVE);
        let d = Activity::Dead("no volume written since [100] (ALIVE?)".into());
        assert_eq!(
            d.line(),
            "=====> Considering host as DEAD due to no volume written since [100] (alive?) <======"
        );
        assert_eq!(d.exit_code(), 0);
        let u = Activity::Unknown("/mnt/DEAD is not mounted".into());
        assert_eq!(u.exit_code(), 3);
        assert!(!u.line().contains("DEAD"), "{}", u.line());
    }
}
