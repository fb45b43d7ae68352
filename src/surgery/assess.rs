//! What a plan's steps would find if it ran now: each step already done, ready, or blocked
//! by a check that does not hold, worked out against the repository and the remote as they
//! are (one `git ls-remote`) and the effects of the steps before it. A dry run shows it
//! beside each step, so the plan reviewed describes this repository, not a fresh clone.

use std::collections::{BTreeMap, BTreeSet};

use crate::git::repo::Repo;
use crate::oid::ObjectId;
use crate::surgery::operation::{Check, Plan};

/// How a step stands if the plan ran now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepNow {
    /// Its outcome already holds: running the plan would skip it.
    AlreadyDone,
    /// Its precondition holds (after the steps before it).
    Ready,
    /// A check would stop the run here.
    Blocked { check: String, found: String },
    /// It asks a review server, which a dry run does not ask.
    NotChecked,
}

/// The remote and local state as the steps before a step leave it.
struct World {
    remote: BTreeMap<String, Option<ObjectId>>,
    local_tags: BTreeMap<String, Option<ObjectId>>,
    local_refs: BTreeMap<String, Option<ObjectId>>,
    objects: BTreeSet<ObjectId>,
}

impl World {
    fn found(&self, repo: &Repo, check: &Check) -> Option<String> {
        let describe = |v: Option<ObjectId>| v.map_or("nothing".to_string(), |id| id.short());
        match check {
            Check::RemoteRef { reference, expected } => {
                let now = self.remote.get(reference).copied().flatten();
                (now != *expected).then(|| describe(now))
            }
            Check::RemoteTag { tag, commit } => {
                let peeled =
                    self.remote.get(&format!("refs/tags/{tag}^{{}}")).copied().flatten().or_else(
                        || self.remote.get(&format!("refs/tags/{tag}")).copied().flatten(),
                    );
                (peeled != Some(*commit)).then(|| describe(peeled).replace("nothing", "no tag"))
            }
            Check::LocalTag { tag, commit } => {
                let now = self.local_tag(repo, tag);
                (now != Some(*commit)).then(|| describe(now).replace("nothing", "no tag"))
            }
            Check::NoLocalTag { tag } => {
                self.local_tag(repo, tag).map(|id| format!("tag {tag} at {}", id.short()))
            }
            Check::LocalObject { id } if self.objects.contains(id) => None,
            Check::LocalObject { id } => match repo.has_object(*id) {
                Ok(has) => (!has).then(|| "no such object".to_string()),
                // Unknown is not ready: the step shows why.
                Err(e) => Some(format!("could not be checked ({e})")),
            },
            Check::LocalRef { reference, expected } => {
                let now = match self.local_refs.get(reference) {
                    Some(value) => *value,
                    None => match repo.reference_target(reference) {
                        Ok(now) => now,
                        Err(e) => return Some(format!("could not be checked ({e})")),
                    },
                };
                (now != *expected).then(|| describe(now))
            }
            Check::NoOpenReviews { .. } => None,
        }
    }

    fn local_tag(&self, repo: &Repo, tag: &str) -> Option<ObjectId> {
        match self.local_tags.get(tag) {
            Some(value) => *value,
            None => repo.resolve_commit(&format!("refs/tags/{tag}")).ok(),
        }
    }

    /// Records what a step's verification says holds after it.
    fn apply(&mut self, check: &Check) {
        match check {
            Check::RemoteRef { reference, expected } => {
                self.remote.insert(reference.clone(), *expected);
            }
            Check::RemoteTag { tag, commit } => {
                self.remote.insert(format!("refs/tags/{tag}^{{}}"), Some(*commit));
            }
            Check::LocalTag { tag, commit } => {
                self.local_tags.insert(tag.clone(), Some(*commit));
            }
            Check::LocalObject { id } => {
                self.objects.insert(*id);
            }
            Check::LocalRef { reference, expected } => {
                self.local_refs.insert(reference.clone(), *expected);
            }
            Check::NoLocalTag { .. } | Check::NoOpenReviews { .. } => {}
        }
    }
}

/// Returns how each step of `plan` stands now, in order.
pub fn assess(repo: &Repo, plan: &Plan) -> Result<Vec<StepNow>, crate::git::GitError> {
    let mut wanted = BTreeSet::new();
    for check in plan.steps.iter().flat_map(|s| s.precondition.iter().chain(&s.verification)) {
        match check {
            Check::RemoteRef { reference, .. } => {
                wanted.insert(reference.clone());
            }
            Check::RemoteTag { tag, .. } => {
                wanted.insert(format!("refs/tags/{tag}"));
                wanted.insert(format!("refs/tags/{tag}^{{}}"));
            }
            _ => {}
        }
    }
    let wanted: Vec<String> = wanted.into_iter().collect();
    let now = crate::git::remote::ls_remote(repo.git(), &plan.remote, &wanted)?;
    let mut world = World {
        remote: wanted.iter().map(|r| (r.clone(), now.get(r).copied())).collect(),
        local_tags: BTreeMap::new(),
        local_refs: BTreeMap::new(),
        objects: BTreeSet::new(),
    };
    let mut out = Vec::with_capacity(plan.steps.len());
    for step in &plan.steps {
        let asks_review = step.review().is_some()
            || step.verification.iter().any(|c| matches!(c, Check::NoOpenReviews { .. }));
        let done = step.git().is_some()
            && !step.verification.is_empty()
            && step.verification.iter().all(|c| world.found(repo, c).is_none());
        let state = if done {
            StepNow::AlreadyDone
        } else if let Some((check, found)) = step
            .precondition
            .iter()
            .find_map(|c| world.found(repo, c).map(|f| (c.describe(&plan.remote), f)))
        {
            StepNow::Blocked { check, found }
        } else if asks_review {
            StepNow::NotChecked
        } else {
            StepNow::Ready
        };
        let blocked = matches!(state, StepNow::Blocked { .. });
        out.push(state);
        if blocked {
            // What follows depends on a step that would not run.
            break;
        }
        for check in &step.verification {
            world.apply(check);
        }
    }
    Ok(out)
}
