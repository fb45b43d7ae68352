//! The stand-in's merge requests (merge_requests.md): listed with the documented filters
//! and order, created, and updated (`target_branch`, `title`, `description`,
//! `state_event`) with GitLab's checks and its system notes.

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::answer::Answer;
use super::json::mr_json;
use super::{MergeRequest, Request, State, not_found, paginate, request_of, text};

pub fn list_requests(st: &State, req: &Request, params: &BTreeMap<String, Value>) -> Answer {
    let state = text(params, "state").unwrap_or_else(|| "all".to_string());
    if !["opened", "closed", "locked", "merged", "all"].contains(&state.as_str()) {
        return Answer::json(400, json!({"error": "state does not have a valid value"}));
    }
    let target = text(params, "target_branch");
    let source = text(params, "source_branch");
    let mut found: Vec<&MergeRequest> = st
        .requests
        .values()
        .filter(|r| state == "all" || r.state == state)
        .filter(|r| target.as_ref().is_none_or(|t| *t == r.target_branch))
        .filter(|r| source.as_ref().is_none_or(|s| *s == r.source_branch))
        .collect();
    let order_by = text(params, "order_by").unwrap_or_else(|| "created_at".to_string());
    found.sort_by_key(|r| {
        if order_by == "updated_at" { (r.updated, r.iid) } else { (r.created, r.iid) }
    });
    if text(params, "sort").as_deref() != Some("asc") {
        found.reverse();
    }
    let items = found.iter().map(|r| mr_json(st, r)).collect();
    paginate(st, req, params, items)
}

pub fn create_request(st: &mut State, params: &BTreeMap<String, Value>) -> Answer {
    for key in ["source_branch", "target_branch", "title"] {
        if text(params, key).is_none_or(|v| v.is_empty()) {
            return Answer::message(400, &format!("400 (Bad request) \"{key}\" not given"));
        }
    }
    let field = |key| text(params, key).unwrap_or_default();
    let (source, target, title) = (field("source_branch"), field("target_branch"), field("title"));
    if source == target {
        return Answer::message_list(
            422,
            "You can't use same project/branch for source and target",
        );
    }
    if let Some(other) = st
        .requests
        .values()
        .find(|r| r.state == "opened" && r.source_branch == source && r.target_branch == target)
    {
        let message = format!(
            "Another open merge request already exists for this source branch: !{}",
            other.iid
        );
        return Answer::message_list(409, &message);
    }
    let Some(sha) = st.tip(&source) else {
        return Answer::message_list(422, &format!("Source branch \"{source}\" does not exist"));
    };
    if st.tip(&target).is_none() {
        return Answer::message_list(422, &format!("Target branch \"{target}\" does not exist"));
    }
    let user = st.user.clone();
    let iid = st.create(&source, &target, &title, &field("description"), &user, Some(sha));
    let r = st.requests[&iid].clone();
    Answer::json(201, mr_json(st, &r))
}

pub fn update_request(st: &mut State, iid: &str, params: &BTreeMap<String, Value>) -> Answer {
    let Some(r) = request_of(st, iid) else { return not_found("Not found") };
    let editable = ["target_branch", "title", "description", "state_event"];
    if !editable.iter().any(|k| params.contains_key(*k)) {
        return Answer::json(
            400,
            json!({"error": "target_branch, title, description, state_event are missing, at least one parameter must be provided"}),
        );
    }
    let user = st.user.clone();
    let event = text(params, "state_event");
    match event.as_deref() {
        None | Some("close") | Some("reopen") => {}
        Some(_) => {
            return Answer::json(400, json!({"error": "state_event does not have a valid value"}));
        }
    }
    let target = text(params, "target_branch").unwrap_or_else(|| r.target_branch.clone());
    if target != r.target_branch {
        if target == r.source_branch {
            return Answer::message_list(
                422,
                "You can't use same project/branch for source and target",
            );
        }
        if st.tip(&target).is_none() {
            return Answer::message_list(
                422,
                &format!("Target branch \"{target}\" does not exist"),
            );
        }
    }
    if event.as_deref() == Some("reopen") && r.state == "closed" {
        if st.tip(&r.source_branch).is_none() || st.tip(&target).is_none() {
            return Answer::message_list(
                422,
                "Cannot reopen this merge request because the source or target branch no longer exists.",
            );
        }
        if let Some(other) = st.requests.values().find(|o| {
            o.iid != r.iid
                && o.state == "opened"
                && o.source_branch == r.source_branch
                && o.target_branch == target
        }) {
            let message = format!(
                "Another open merge request already exists for this source branch: !{}",
                other.iid
            );
            return Answer::message_list(409, &message);
        }
    }
    let now = st.now();
    let mut notes = Vec::new();
    {
        let m = st.requests.get_mut(&r.iid).expect("found above");
        if let Some(title) = text(params, "title") {
            m.title = title;
        }
        if let Some(description) = text(params, "description") {
            m.description = description;
        }
        if target != m.target_branch {
            notes.push(format!("changed target branch from `{}` to `{target}`", m.target_branch));
            m.target_branch = target;
        }
        match (event.as_deref(), m.state.as_str()) {
            (Some("close"), "opened") => {
                m.state = "closed".to_string();
                m.closed = Some(now);
                notes.push("closed".to_string());
            }
            (Some("reopen"), "closed") => {
                m.state = "opened".to_string();
                m.closed = None;
                m.sha = None;
                notes.push("reopened".to_string());
            }
            _ => {}
        }
        m.updated = now;
    }
    if event.as_deref() == Some("reopen") {
        let sha = st.tip(&r.source_branch);
        if let Some(m) = st.requests.get_mut(&r.iid) {
            m.sha = m.sha.clone().or(sha);
        }
    }
    for body in notes {
        st.note(r.iid, &body, &user, true);
    }
    let r = st.requests[&r.iid].clone();
    Answer::json(200, mr_json(st, &r))
}
