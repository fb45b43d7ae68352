//! The stand-in's endpoints, each as the REST documentation section cited in the parent
//! module describes it.

use serde_json::{Value, json};

use super::{Answer, Comment, LOGIN, Pull, State, ZERO, enc, git, iso, now};

impl State {
    /// Returns the number of an existing pull request named by a path segment.
    pub(super) fn number(&self, segment: &str) -> Option<u64> {
        segment.parse().ok().filter(|n| self.pulls.contains_key(n))
    }

    pub(super) fn api(&self) -> String {
        format!("{}/repos/{}/{}", self.url, self.owner, self.name)
    }

    pub(super) fn user_json(login: &str) -> Value {
        json!({"login": login, "id": login.len() as u64 * 1000 + 1, "node_id": format!("U_{login}"),
               "type": "User", "site_admin": false, "url": format!("https://api.github.com/users/{login}")})
    }

    pub(super) fn repository_json(&self) -> Value {
        json!({
            "id": 1296269,
            "node_id": "MDEwOlJlcG9zaXRvcnkxMjk2MjY5",
            "name": self.name,
            "full_name": format!("{}/{}", self.owner, self.name),
            "owner": {"login": self.owner, "id": 1, "type": "Organization"},
            "private": !self.public,
            "visibility": if self.public { "public" } else { "private" },
            "html_url": format!("{}/{}/{}", self.url, self.owner, self.name),
            "url": self.api(),
            "fork": false,
            "default_branch": self.default_branch(),
        })
    }

    pub(super) fn side_json(&self, branch: &str, sha: &str) -> Value {
        json!({
            "label": format!("{}:{branch}", self.owner),
            "ref": branch,
            "sha": sha,
            "user": {"login": self.owner, "id": 1, "type": "Organization"},
            "repo": self.repository_json(),
        })
    }

    pub(super) fn pull_json(&self, number: u64, full: bool) -> Value {
        let p = &self.pulls[&number];
        let tips = self.tips();
        let base_sha = tips.get(&p.base).cloned().unwrap_or_else(|| ZERO.into());
        let api = self.api();
        let mut v = json!({
            "url": format!("{api}/pulls/{number}"),
            "id": 10_000 + number,
            "node_id": format!("PR_{number}"),
            "html_url": format!("{}/{}/{}/pull/{number}", self.url, self.owner, self.name),
            "issue_url": format!("{api}/issues/{number}"),
            "comments_url": format!("{api}/issues/{number}/comments"),
            "number": number,
            "state": if p.open { "open" } else { "closed" },
            "locked": false,
            "title": p.title,
            "user": State::user_json(&p.author),
            "body": p.body,
            "created_at": iso(p.created_at),
            "updated_at": iso(p.updated_at),
            "closed_at": p.closed_at.map(iso),
            "merged_at": null,
            "merge_commit_sha": null,
            "draft": false,
            "head": self.side_json(&p.head, &p.head_sha),
            "base": self.side_json(&p.base, &base_sha),
            "author_association": "MEMBER",
        });
        if full {
            v["merged"] = json!(false);
            v["mergeable"] = Value::Null;
            v["comments"] = json!(self.comments.iter().filter(|c| c.issue == number).count());
        }
        v
    }

    /// Pages `items` as "Using pagination in the REST API" says, with the `link` header.
    pub(super) fn page(&self, path: &str, query: &[(String, String)], items: Vec<Value>) -> Answer {
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let per_page = get("per_page")
            .and_then(|v| v.parse::<usize>().ok())
            .filter(|&n| n > 0)
            .unwrap_or(self.default_per_page)
            .min(self.max_per_page);
        let page =
            get("page").and_then(|v| v.parse::<usize>().ok()).filter(|&n| n > 0).unwrap_or(1);
        let last = items.len().div_ceil(per_page).max(1);
        let served = if self.ignore_page { 1 } else { page };
        let slice: Vec<Value> =
            items.into_iter().skip((served - 1) * per_page).take(per_page).collect();
        let mut answer = Answer::json(200, Value::Array(slice));
        if last > 1 {
            let origin = self.link_origin.clone().unwrap_or_else(|| self.url.clone());
            let link = |n: usize, rel: &str| {
                let mut q: Vec<String> = query
                    .iter()
                    .filter(|(k, _)| k != "page")
                    .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
                    .collect();
                q.push(format!("page={n}"));
                format!(
                    "<{origin}/repos/{}/{}{path}?{}>; rel=\"{rel}\"",
                    self.owner,
                    self.name,
                    q.join("&")
                )
            };
            let mut links = Vec::new();
            if page > 1 {
                links.push(link(page - 1, "prev"));
            }
            if page < last {
                links.push(link(page + 1, "next"));
                links.push(link(last, "last"));
            }
            if page > 1 {
                links.push(link(1, "first"));
            }
            if !links.is_empty() {
                answer = answer.with("link", links.join(", "));
            }
        }
        answer
    }

    pub(super) fn list_pulls(&self, query: &[(String, String)]) -> Answer {
        let get = |k: &str| query.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
        let state = get("state").unwrap_or("open");
        if !["open", "closed", "all"].contains(&state) {
            return Answer::invalid(
                json!([{"resource": "Issue", "field": "state", "code": "invalid", "value": state}]),
            );
        }
        let sort = get("sort").unwrap_or("created");
        if !["created", "updated", "popularity", "long-running"].contains(&sort) {
            return Answer::invalid(
                json!([{"resource": "Issue", "field": "sort", "code": "invalid"}]),
            );
        }
        let desc = match get("direction") {
            None => sort == "created",
            Some("desc") => true,
            Some("asc") => false,
            Some(_) => {
                return Answer::invalid(
                    json!([{"resource": "Issue", "field": "direction", "code": "invalid"}]),
                );
            }
        };
        // `head` is `user:ref-name`; only this repository's owner has branches here.
        let head = get("head").map(|h| match h.split_once(':') {
            Some((user, branch)) if user.eq_ignore_ascii_case(&self.owner) => Some(branch),
            Some(_) => None,
            None => None,
        });
        let month_ago = now().saturating_sub(30 * 86_400);
        let mut pulls: Vec<&Pull> = self
            .pulls
            .values()
            .filter(|p| match state {
                "open" => p.open,
                "closed" => !p.open,
                _ => true,
            })
            .filter(|p| get("base").is_none_or(|b| p.base == b))
            .filter(|p| match &head {
                None => true,
                Some(Some(branch)) => p.head == *branch,
                // A head of another user, or not `user:ref-name`: no pull request here.
                Some(None) => false,
            })
            .filter(|p| sort != "long-running" || p.created_at < month_ago)
            .collect();
        let count = |n: u64| self.comments.iter().filter(|c| c.issue == n).count();
        pulls.sort_by_key(|p| match sort {
            "updated" => (p.updated_at, p.number),
            "popularity" => (count(p.number) as u64, p.number),
            _ => (p.created_at, p.number),
        });
        if desc {
            pulls.reverse();
        }
        let items = pulls.iter().map(|p| self.pull_json(p.number, false)).collect();
        self.page("/pulls", query, items)
    }

    pub(super) fn create_pull(&mut self, body: &Value) -> Answer {
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        let (Some(head), Some(base)) = (text("head"), text("base")) else {
            let missing: Vec<Value> = ["head", "base"]
                .iter()
                .filter(|k| text(k).is_none())
                .map(|k| json!({"resource": "PullRequest", "field": k, "code": "missing_field"}))
                .collect();
            return Answer::invalid(Value::Array(missing));
        };
        let Some(title) = text("title") else {
            return Answer::invalid(
                json!([{"resource": "PullRequest", "field": "title", "code": "missing_field"}]),
            );
        };
        let head = match head.split_once(':') {
            Some((user, branch)) if user.eq_ignore_ascii_case(&self.owner) => branch.to_string(),
            Some(_) => {
                return Answer::invalid(
                    json!([{"resource": "PullRequest", "field": "head", "code": "invalid"}]),
                );
            }
            None => head,
        };
        let tips = self.tips();
        for (field, branch) in [("base", &base), ("head", &head)] {
            if !tips.contains_key(branch.as_str()) {
                return Answer::invalid(
                    json!([{"resource": "PullRequest", "field": field, "code": "invalid"}]),
                );
            }
        }
        if self.is_ancestor(&tips[&head], &tips[&base]) {
            return Answer::custom("PullRequest", &format!("No commits between {base} and {head}"));
        }
        if self.pulls.values().any(|p| p.open && p.head == head && p.base == base) {
            return Answer::custom(
                "PullRequest",
                &format!("A pull request already exists for {}:{head}.", self.owner),
            );
        }
        let number = self.next_number;
        self.next_number += 1;
        let time = now();
        self.pulls.insert(
            number,
            Pull {
                number,
                title,
                body: text("body"),
                head: head.clone(),
                base,
                open: true,
                author: LOGIN.into(),
                head_sha: tips[&head].clone(),
                closed_because: None,
                created_at: time,
                updated_at: time,
                closed_at: None,
            },
        );
        let location = format!("{}/pulls/{number}", self.api());
        Answer::json(201, self.pull_json(number, true)).with("location", location)
    }

    pub(super) fn update_pull(&mut self, number: u64, body: &Value) -> Answer {
        for key in ["title", "body", "state", "base"] {
            if body.get(key).is_some_and(|v| !v.is_string()) {
                return Answer::error(
                    422,
                    &format!("Invalid request.\n\nFor 'properties/{key}', it is not a string."),
                );
            }
        }
        let text = |k: &str| body.get(k).and_then(Value::as_str).map(str::to_string);
        let tips = self.tips();
        let pull = self.pulls[&number].clone();
        let mut updated = pull.clone();
        match text("state").as_deref() {
            None => {}
            Some("open") if !pull.open => {
                if !tips.contains_key(&pull.base) {
                    return Answer::custom(
                        "PullRequest",
                        &format!(
                            "state cannot be changed. The {} branch has been deleted.",
                            pull.base
                        ),
                    );
                }
                match tips.get(&pull.head) {
                    Some(tip) if self.is_ancestor(&pull.head_sha, tip) => {
                        updated.open = true;
                        updated.closed_at = None;
                        updated.closed_because = None;
                        updated.head_sha = tip.clone();
                    }
                    _ => {
                        return Answer::custom(
                            "PullRequest",
                            &format!(
                                "state cannot be changed. The {} branch has been force-pushed or recreated.",
                                pull.head
                            ),
                        );
                    }
                }
            }
            Some("open") => {}
            Some("closed") if updated.open => {
                updated.open = false;
                updated.closed_at = Some(now());
            }
            Some("closed") => {}
            Some(other) => {
                return Answer::invalid(
                    json!([{"resource": "PullRequest", "field": "state", "code": "invalid", "value": other}]),
                );
            }
        }
        if let Some(base) = text("base") {
            if !updated.open {
                return Answer::custom(
                    "PullRequest",
                    "Cannot change the base branch of a closed pull request.",
                );
            }
            if !tips.contains_key(&base) {
                return Answer::invalid(
                    json!([{"resource": "PullRequest", "field": "base", "code": "invalid"}]),
                );
            }
            if base == updated.head {
                return Answer::custom(
                    "PullRequest",
                    "The base branch and the head branch must be different.",
                );
            }
            updated.base = base;
        }
        if let Some(title) = text("title") {
            updated.title = title;
        }
        if let Some(b) = text("body") {
            updated.body = Some(b);
        }
        updated.updated_at = now();
        self.pulls.insert(number, updated);
        Answer::json(200, self.pull_json(number, true))
    }

    pub(super) fn comment_json(&self, c: &Comment) -> Value {
        let api = self.api();
        json!({
            "id": c.id,
            "node_id": format!("IC_{}", c.id),
            "url": format!("{api}/issues/comments/{}", c.id),
            "html_url": format!("{}/{}/{}/pull/{}#issuecomment-{}", self.url, self.owner, self.name, c.issue, c.id),
            "body": c.body,
            "user": State::user_json(&c.author),
            "created_at": iso(c.created_at),
            "updated_at": iso(c.created_at),
            "issue_url": format!("{api}/issues/{}", c.issue),
            "author_association": "MEMBER",
        })
    }

    pub(super) fn list_comments(&self, number: u64, query: &[(String, String)]) -> Answer {
        let items = self
            .comments
            .iter()
            .filter(|c| c.issue == number)
            .map(|c| self.comment_json(c))
            .collect();
        self.page(&format!("/issues/{number}/comments"), query, items)
    }

    pub(super) fn create_comment(&mut self, number: u64, body: &Value) -> Answer {
        let Some(text) = body.get("body").and_then(Value::as_str) else {
            return Answer::invalid(
                json!([{"resource": "IssueComment", "field": "body", "code": "missing_field"}]),
            );
        };
        let comment = Comment {
            id: self.next_comment,
            issue: number,
            body: text.into(),
            author: LOGIN.into(),
            created_at: now(),
        };
        self.next_comment += 1;
        let location = format!("{}/issues/comments/{}", self.api(), comment.id);
        let json = self.comment_json(&comment);
        self.comments.push(comment);
        if let Some(p) = self.pulls.get_mut(&number) {
            p.updated_at = now();
        }
        Answer::json(201, json).with("location", location)
    }

    pub(super) fn protection(&self, branch: &str) -> Answer {
        if !self.tips().contains_key(branch) {
            return Answer::error(404, "Branch not found");
        }
        let Some(rules) = self.protections.get(branch) else {
            return Answer::error(404, "Branch not protected");
        };
        let url = format!("{}/branches/{branch}/protection", self.api());
        let mut v = json!({
            "url": url,
            "enforce_admins": {"url": format!("{url}/enforce_admins"), "enabled": false},
            "required_linear_history": {"enabled": rules.required_linear_history},
            "allow_force_pushes": {"enabled": rules.allow_force_pushes},
            "allow_deletions": {"enabled": rules.allow_deletions},
            "block_creations": {"enabled": false},
            "required_conversation_resolution": {"enabled": false},
            "lock_branch": {"enabled": false},
            "allow_fork_syncing": {"enabled": false},
        });
        if let Some(users) = &rules.restrict_pushes_to {
            v["restrictions"] = json!({
                "url": format!("{url}/restrictions"),
                "users_url": format!("{url}/restrictions/users"),
                "teams_url": format!("{url}/restrictions/teams"),
                "apps_url": format!("{url}/restrictions/apps"),
                "users": users.iter().map(|u| State::user_json(u)).collect::<Vec<_>>(),
                "teams": [],
                "apps": [],
            });
        }
        Answer::json(200, v)
    }

    pub(super) fn ref_json(&self, reference: &str, sha: &str) -> Value {
        json!({
            "ref": format!("refs/{reference}"),
            "node_id": format!("REF_{reference}"),
            "url": format!("{}/git/refs/{reference}", self.api()),
            "object": {"type": "commit", "sha": sha, "url": format!("{}/git/commits/{sha}", self.api())},
        })
    }

    pub(super) fn get_ref(&self, reference: &str) -> Answer {
        match reference.strip_prefix("heads/").and_then(|b| self.tips().get(b).cloned()) {
            Some(sha) => Answer::json(200, self.ref_json(reference, &sha)),
            None => Answer::not_found(),
        }
    }

    pub(super) fn delete_ref(&mut self, reference: &str) -> Answer {
        let Some(branch) = reference.strip_prefix("heads/") else {
            return Answer::error(422, "Reference does not exist");
        };
        let tips = self.tips();
        let Some(sha) = tips.get(branch) else {
            return Answer::error(422, "Reference does not exist");
        };
        if branch == self.default_branch() {
            return Answer::error(422, "Cannot delete the default branch");
        }
        if self.protections.get(branch).is_some_and(|r| !r.allow_deletions) {
            return Answer::error(422, "Cannot delete this protected branch");
        }
        git(&self.bare)
            .output(&["update-ref", "-d", &format!("refs/heads/{branch}"), sha])
            .expect("update-ref -d");
        self.branch_moved(branch, None);
        Answer { status: 204, headers: Vec::new(), body: None }
    }
}
