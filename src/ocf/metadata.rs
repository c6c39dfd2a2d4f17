//! The static description of an agent ([`AgentSpec`]) and the OCF meta-data
//! XML generated from it.
//!
//! The XML validates against `ra-api-1.dtd` (what `ocf-tester` checks) while
//! declaring OCF 1.1: it carries the DOCTYPE line and avoids the 1.1-only
//! attributes (`unique-group`, `reloadable`, `select`) that the DTD rejects.

use std::fmt::Write;
use std::time::Duration;

use super::params::{ParamSpec, Refused};

/// Advertised default timeouts and the recommended monitor interval. They end
/// up in the CIB when `pcs resource create` copies them, so they are what the
/// action really needs plus a margin, not a blanket 20 s.
#[derive(Clone, Copy, Debug)]
pub struct Timeouts {
    pub start: Duration,
    pub stop: Duration,
    pub monitor: Duration,
    pub monitor_interval: Duration,
    pub validate: Duration,
}

/// Everything the runtime needs to know about an agent besides its code.
#[derive(Debug)]
pub struct AgentSpec {
    pub name: &'static str,
    pub shortdesc: &'static str,
    pub longdesc: &'static str,
    pub params: &'static [ParamSpec],
    /// Parameters that are refused with an explanation when given.
    pub refused: &'static [Refused],
    pub timeouts: Timeouts,
    /// `OCF_CHECK_LEVEL` depths the monitor implements beyond 0.
    pub monitor_depths: &'static [u32],
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            _ => out.push(c),
        }
    }
    out
}

fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs())
}

/// Render the meta-data document for `spec`.
pub fn render(spec: &AgentSpec) -> String {
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\"?>\n");
    x.push_str("<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n");
    let _ = writeln!(
        x,
        "<resource-agent name=\"{}\" version=\"{}\">",
        escape(spec.name),
        env!("CARGO_PKG_VERSION")
    );
    x.push_str("  <version>1.1</version>\n");
    let _ = writeln!(
        x,
        "  <longdesc lang=\"en\">\n{}\n  </longdesc>",
        escape(spec.longdesc.trim())
    );
    let _ = writeln!(
        x,
        "  <shortdesc lang=\"en\">{}</shortdesc>",
        escape(spec.shortdesc)
    );
    x.push_str("  <parameters>\n");
    for p in spec.params {
        let _ = writeln!(
            x,
            "    <parameter name=\"{}\" unique=\"{}\" required=\"{}\">",
            escape(p.name),
            u8::from(p.unique),
            u8::from(p.required)
        );
        let _ = writeln!(
            x,
            "      <longdesc lang=\"en\">\n{}\n      </longdesc>",
            escape(p.longdesc.trim())
        );
        let _ = writeln!(
            x,
            "      <shortdesc lang=\"en\">{}</shortdesc>",
            escape(p.shortdesc)
        );
        match p.default {
            Some(d) => {
                let _ = writeln!(
                    x,
                    "      <content type=\"{}\" default=\"{}\"/>",
                    p.kind.content_type(),
                    escape(d)
                );
            }
            None => {
                let _ = writeln!(x, "      <content type=\"{}\"/>", p.kind.content_type());
            }
        }
        x.push_str("    </parameter>\n");
    }
    x.push_str("  </parameters>\n");
    x.push_str("  <actions>\n");
    let t = &spec.timeouts;
    let _ = writeln!(
        x,
        "    <action name=\"start\" timeout=\"{}\"/>",
        secs(t.start)
    );
    let _ = writeln!(
        x,
        "    <action name=\"stop\" timeout=\"{}\"/>",
        secs(t.stop)
    );
    let _ = writeln!(
        x,
        "    <action name=\"monitor\" timeout=\"{}\" interval=\"{}\" depth=\"0\"/>",
        secs(t.monitor),
        secs(t.monitor_interval)
    );
    for depth in spec.monitor_depths {
        let _ = writeln!(
            x,
            "    <action name=\"monitor\" timeout=\"{}\" interval=\"{}\" depth=\"{}\"/>",
            secs(t.monitor),
            secs(t.monitor_interval * 6),
            depth
        );
    }
    x.push_str("    <action name=\"meta-data\" timeout=\"5s\"/>\n");
    let _ = writeln!(
        x,
        "    <action name=\"validate-all\" timeout=\"{}\"/>",
        secs(t.validate)
    );
    x.push_str("  </actions>\n");
    x.push_str("</resource-agent>\n");
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    static PARAMS: &[ParamSpec] = &[
        ParamSpec::new("ip", "The address", "Say <why> & how.")
            .required()
            .unique(),
        ParamSpec::new("count", "How many", "Count.")
            .integer(0, 9)
            .default("5"),
        ParamSpec::new("flag", "A switch", "Flag.")
            .boolean()
            .default("false"),
    ];
    static SPEC: AgentSpec = AgentSpec {
        name: "demo",
        shortdesc: "Demo agent",
        longdesc: "A demo.",
        params: PARAMS,
        refused: &[],
        timeouts: Timeouts {
            start: Duration::from_secs(10),
            stop: Duration::from_secs(15),
            monitor: Duration::from_secs(5),
            monitor_interval: Duration::from_secs(10),
            validate: Duration::from_secs(5),
        },
        monitor_depths: &[10],
    };

    #[test]
    fn renders_doctype_version_params_and_actions() {
        let x = render(&SPEC);
        assert!(x.starts_with(
            "<?xml version=\"1.0\"?>\n<!DOCTYPE resource-agent SYSTEM \"ra-api-1.dtd\">\n"
        ));
        assert!(x.contains("<version>1.1</version>"));
        assert!(x.contains("<parameter name=\"ip\" unique=\"1\" required=\"1\">"));
        assert!(x.contains("Say &lt;why&gt; &amp; how."));
        assert!(x.contains("<content type=\"integer\" default=\"5\"/>"));
        assert!(x.contains("<content type=\"boolean\" default=\"false\"/>"));
        assert!(x.contains("<content type=\"string\"/>"));
        assert!(x.contains("<action name=\"stop\" timeout=\"15s\"/>"));
        assert!(
            x.contains("<action name=\"monitor\" timeout=\"5s\" interval=\"10s\" depth=\"0\"/>")
        );
        assert!(
            x.contains("<action name=\"monitor\" timeout=\"5s\" interval=\"60s\" depth=\"10\"/>")
        );
        // The DTD rejects these OCF 1.1 additions.
        for banned in ["unique-group", "reloadable", "reload-agent", "select"] {
            assert!(!x.contains(banned), "{banned} in meta-data");
        }
    }
}
