//! nfsha's own agents (`ocf:nfsha:*`) asked about a configured resource by
//! their own code: the parameters go through the agent's parameter table and
//! `validate-all` at check level 0, exactly as Pacemaker would hand them
//! over, so a resource the agent refuses to start never lints clean and the
//! lint never refuses what the agent accepts. Level 0 looks at no host:
//! the agent gets a [`Fake`] system with nothing in it.

use std::collections::BTreeMap;

use crate::agents::{self, nfsserver};
use crate::model::Model;
use crate::ocf::{self, Params};
use crate::sys::fake::Fake;

/// What an nfsha agent says about one configured primitive.
#[derive(Debug)]
pub struct Verdict {
    /// The agent's exit reason when it refuses the resource.
    pub refusal: Option<String>,
    /// The parameters as the agent reads them (typed, defaulted), when its
    /// parameter table accepts them.
    pub params: Option<Params>,
    /// For `ocf:nfsha:nfsserver`: the configuration start would use.
    pub server: Option<nfsserver::Config>,
}

/// The environment Pacemaker gives primitive `i`: its instance attributes
/// (a group's or clone's own ones inherited), `OCF_RESOURCE_INSTANCE`, and
/// `CRM_meta_clone` inside a clone.
pub fn env(m: &Model, i: usize) -> BTreeMap<String, String> {
    let mut env = BTreeMap::new();
    for r in std::iter::once(i).chain(m.ancestors(i)) {
        for p in &m.resources[r].params {
            env.entry(format!("OCF_RESKEY_{}", p.name))
                .or_insert_with(|| p.value.clone());
        }
    }
    env.insert("OCF_RESOURCE_INSTANCE".into(), m.resources[i].id.clone());
    if m.clone_of(i).is_some() {
        env.insert("OCF_RESKEY_CRM_meta_clone".into(), "0".into());
    }
    env
}

/// Ask the nfsha agent of primitive `i`; `None` when it is not one of ours.
pub fn verdict(m: &Model, i: usize) -> Option<Verdict> {
    let agent_type = m.resources[i].agent().filter(|a| a.is_nfsha())?;
    let agent = agents::find(&agent_type.ty)?;
    let sys = Fake::new();
    let ctx = match ocf::offline_ctx(agent, env(m, i), &sys) {
        Ok(c) => c,
        Err(e) => {
            return Some(Verdict {
                refusal: Some(e.reason),
                params: None,
                server: None,
            })
        }
    };
    let refusal = agent.validate(&ctx).err().map(|e| e.reason);
    let server = (agent_type.ty == "nfsserver")
        .then(|| nfsserver::config(&ctx).ok())
        .flatten();
    Some(Verdict {
        refusal,
        params: Some(ctx.params),
        server,
    })
}
