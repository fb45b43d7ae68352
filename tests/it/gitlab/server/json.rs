//! The stand-in's JSON objects, field by field as GitLab's documentation shows them: the
//! project (projects.md), merge request (merge_requests.md), note (notes.md), protected
//! branch (protected_branches.md) and branch (branches.md).

use serde_json::{Value, json};

use super::answer::iso_time;
use super::{MergeRequest, Note, Rule, State, server_git};

pub fn project(st: &State) -> Value {
    let name = st.path.rsplit('/').next().unwrap_or_default();
    let namespace = st.path.rsplit_once('/').map(|(n, _)| n).unwrap_or_default();
    json!({
        "id": st.project_id,
        "description": null,
        "name": name,
        "name_with_namespace": st.path.replace('/', " / "),
        "path": name,
        "path_with_namespace": st.path,
        "created_at": iso_time(0),
        "default_branch": st.default_branch(),
        "visibility": if st.public { "public" } else { "private" },
        "ssh_url_to_repo": format!("git@127.0.0.1:{}.git", st.path),
        "http_url_to_repo": format!("{}/{}.git", st.url, st.path),
        "web_url": format!("{}/{}", st.url, st.path),
        "namespace": {"id": 7, "name": namespace, "path": namespace, "kind": "group",
            "full_path": namespace},
        "archived": false,
        "empty_repo": st.default_branch().is_none(),
    })
}

fn user_json(st: &State, username: &str) -> Value {
    json!({
        "id": username.bytes().map(u64::from).sum::<u64>(),
        "username": username,
        "name": username,
        "state": "active",
        "avatar_url": null,
        "web_url": format!("{}/{username}", st.url),
    })
}

pub fn mr_json(st: &State, r: &MergeRequest) -> Value {
    let mergeable = r.state == "opened" && st.tip(&r.target_branch).is_some();
    let mut v = json!({
        "id": 1000 + r.iid,
        "iid": r.iid,
        "project_id": st.project_id,
        "title": r.title,
        "description": r.description,
        "state": r.state,
        "created_at": iso_time(r.created),
        "updated_at": iso_time(r.updated),
        "merged_by": null,
        "merged_at": null,
        "closed_by": r.closed.map(|_| user_json(st, &st.user)),
        "closed_at": r.closed.map(iso_time),
        "target_branch": r.target_branch,
        "source_branch": r.source_branch,
        "user_notes_count": r.notes.iter().filter(|n| !n.system).count(),
        "upvotes": 0,
        "downvotes": 0,
        "author": user_json(st, &r.author),
    });
    let more = json!({
        "assignees": [],
        "assignee": null,
        "reviewers": [],
        "source_project_id": st.project_id,
        "target_project_id": st.project_id,
        "labels": [],
        "draft": false,
        "work_in_progress": false,
        "milestone": null,
        "merge_when_pipeline_succeeds": false,
        "merge_status": if mergeable { "can_be_merged" } else { "cannot_be_merged" },
        "detailed_merge_status": if mergeable { "mergeable" } else { "not_open" },
        "sha": r.sha,
        "merge_commit_sha": null,
        "squash_commit_sha": null,
        "discussion_locked": null,
        "should_remove_source_branch": null,
        "force_remove_source_branch": false,
        "web_url": format!("{}/{}/-/merge_requests/{}", st.url, st.path, r.iid),
        "references": {
            "short": format!("!{}", r.iid),
            "relative": format!("!{}", r.iid),
            "full": format!("{}!{}", st.path, r.iid),
        },
        "squash": false,
        "has_conflicts": false,
        "blocking_discussions_resolved": true,
    });
    if let (Value::Object(map), Value::Object(more)) = (&mut v, more) {
        map.extend(more);
    }
    v
}

pub fn note_json(st: &State, r: &MergeRequest, n: &Note) -> Value {
    json!({
        "id": n.id,
        "type": null,
        "body": n.body,
        "attachment": null,
        "author": user_json(st, &n.author),
        "created_at": iso_time(n.created),
        "updated_at": iso_time(n.created),
        "system": n.system,
        "noteable_id": 1000 + r.iid,
        "noteable_type": "MergeRequest",
        "noteable_iid": r.iid,
        "project_id": st.project_id,
        "resolvable": false,
        "confidential": false,
        "internal": false,
    })
}

fn access_level(id: usize, level: u32) -> Value {
    let description = match level {
        0 => "No one",
        30 => "Developers + Maintainers",
        _ => "Maintainers",
    };
    json!([{"id": id, "access_level": level, "access_level_description": description,
        "user_id": null, "group_id": null}])
}

pub fn rule_json(index: usize, r: &Rule) -> Value {
    json!({
        "id": 100 + index,
        "name": r.name,
        "push_access_levels": access_level(1000 + index, r.push_access_level),
        "merge_access_levels": access_level(2000 + index, r.merge_access_level),
        "allow_force_push": r.allow_force_push,
        "code_owner_approval_required": false,
    })
}

pub fn branch_json(st: &State, branch: &str) -> Option<Value> {
    let sha = st.tip(branch)?;
    let format = "%H%x00%P%x00%an%x00%ae%x00%aI%x00%cn%x00%ce%x00%cI%x00%s%x00%B";
    let out = server_git(&st.bare)
        .output(&["log", "-1", &format!("--format={format}"), &sha])
        .unwrap_or_default();
    let out = String::from_utf8_lossy(&out).into_owned();
    let f: Vec<&str> = out.split('\0').collect();
    let field = |i: usize| f.get(i).copied().unwrap_or_default().trim_end().to_string();
    let rules: Vec<&Rule> = st.rules.iter().filter(|r| r.matches(branch)).collect();
    Some(json!({
        "name": branch,
        "merged": false,
        "protected": !rules.is_empty(),
        "default": st.default_branch().as_deref() == Some(branch),
        "developers_can_push": rules.iter().any(|r| r.push_access_level == 30),
        "developers_can_merge": rules.iter().any(|r| r.merge_access_level == 30),
        "can_push": rules.is_empty() || rules.iter().any(|r| r.push_access_level != 0),
        "web_url": format!("{}/{}/-/tree/{branch}", st.url, st.path),
        "commit": {
            "id": sha,
            "short_id": &sha[..8],
            "created_at": field(7),
            "parent_ids": field(1).split_whitespace().collect::<Vec<_>>(),
            "title": field(8),
            "message": field(9),
            "author_name": field(2),
            "author_email": field(3),
            "authored_date": field(4),
            "committer_name": field(5),
            "committer_email": field(6),
            "committed_date": field(7),
            "web_url": format!("{}/{}/-/commit/{sha}", st.url, st.path),
        },
    }))
}
