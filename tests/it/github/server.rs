//! A GitHub REST API stand-in on 127.0.0.1, written from GitHub's REST documentation
//! (docs.github.com, API version 2022-11-28, and the OpenAPI description it is generated
//! from), field by field, not from regraft's client.
//!
//! The branches live in a real bare repository that tests push to with `git push`; a
//! `post-receive` hook appends git's "old new ref" lines to an events file, and the server
//! applies the new lines, in order, before it answers any request, so a push has happened
//! for the server before the next answer, as on GitHub.
//!
//! What each part follows:
//! - "Getting started with the REST API" / "Authenticating to the REST API": a token as
//!   `Authorization: Bearer <token>` (or `token <token>`); a wrong one is `401 Bad
//!   credentials` on every path; a write without one is `401 Requires authentication`.
//!   "Troubleshooting the REST API", "404 Not Found for an existing resource": a private
//!   repository asked without credentials is `404 Not Found`, never 403. "User agent
//!   required": a request without `User-Agent` is refused (403). "Not a supported
//!   version": an unknown `X-GitHub-Api-Version` is `400`. "Problems parsing JSON" and
//!   "Body should be a JSON object" are `400`; "Validation Failed" is `422` with `errors`
//!   (`code`: `missing`, `missing_field`, `invalid`, `already_exists`, `custom`). Errors
//!   are the `basic-error` / `validation-error` schemas: `message`, `documentation_url`,
//!   `status`, and `errors`. A path or a method GitHub does not route is `404 Not Found`;
//!   so is a trailing slash.
//! - "Using pagination in the REST API": `per_page` (default 30, max 100; this server's
//!   default is 2 so that tests page, and a test may lower the max), `page` (default 1);
//!   the `link` header holds `rel="prev"`, `"next"`, `"last"`, `"first"` URLs, only those
//!   that apply, and is absent when everything fits on one page.
//! - "Rate limits for the REST API": every answer has `x-ratelimit-limit`,
//!   `x-ratelimit-remaining`, `x-ratelimit-used`, `x-ratelimit-reset` (UTC epoch seconds)
//!   and `x-ratelimit-resource`. "Exceeding the rate limit": the primary limit answers 403
//!   or 429 with `x-ratelimit-remaining: 0` until `x-ratelimit-reset`; a secondary limit
//!   answers 403 or 429 with `retry-after` (seconds) and a message saying so. Requests
//!   made while limited are refused again.
//! - "REST API endpoints for repositories", "Get a repository": `GET /repos/{owner}/{repo}`
//!   (`full-repository`: `name`, `full_name`, `owner`, `private`, `default_branch`...).
//!   Owner and repo are not case sensitive. The default branch is the bare repository's
//!   HEAD.
//! - "REST API endpoints for pull requests": "List pull requests" `GET .../pulls`
//!   (`state` open|closed|all, default open; `head` as `user:ref-name`; `base`; `sort`
//!   created|updated|popularity|long-running, default created; `direction` asc|desc,
//!   default desc when sort is created or absent, else asc; the `pull-request-simple`
//!   schema); "Create a pull request" `POST .../pulls` (`head`, `base` required, `title`
//!   required unless `issue`; `201` with `Location`; `422` when the base or head is not a
//!   branch, when there are no commits between them, or when a pull request for the head
//!   and base is already open); "Get a pull request" `GET .../pulls/{pull_number}` (the
//!   `pull-request` schema); "Update a pull request" `PATCH .../pulls/{pull_number}`
//!   (`title`, `body`, `state` open|closed, `base` "an existing branch on the current
//!   repository"; `200`, `422`).
//! - "REST API endpoints for issue comments": a pull request is an issue, and its
//!   conversation is the issue's comments. "Create an issue comment" `POST
//!   .../issues/{issue_number}/comments` (`body` required; `201` with `Location`);
//!   "List issue comments" `GET .../issues/{issue_number}/comments` (ascending by id,
//!   paginated; `since` is not kept here and is ignored).
//! - "REST API endpoints for protected branches", "Get branch protection": `GET
//!   .../branches/{branch}/protection` (the `branch-protection` schema: `url`,
//!   `required_linear_history`, `allow_force_pushes`, `allow_deletions`,
//!   `block_creations`, `restrictions` with `users`, `teams`, `apps`, `enforce_admins`...);
//!   `404` "Branch not protected" for a branch without protection, "Branch not found" for
//!   none at all. `{branch}` is `x-multi-segment` in the OpenAPI description (its example
//!   `protection_url` is `.../branches/branch/with/protection/protection`), so a branch's
//!   slashes may come as they are or encoded as `%2F`.
//! - "REST API endpoints for Git references": "Get a reference" `GET .../git/ref/{ref}`
//!   (`{ref}` is `heads/<branch name>`, `x-multi-segment`; `404` when it does not exist)
//!   and "Delete a reference" `DELETE .../git/refs/{ref}` (`204`; `422` "Reference does
//!   not exist"). A protected branch that does not allow deletions is refused (422), and
//!   so is the default branch ("Creating and deleting branches within your repository":
//!   choose a new default branch before deleting it).
//! - What GitHub does to pull requests when branches move, as users report it (cli/cli
//!   issue 14223 and the issue 27 text): deleting a pull request's base branch, through a
//!   push or through the API, closes it; deleting its head branch closes it too; a closed
//!   pull request cannot be retargeted ("Cannot change the base branch of a closed pull
//!   request"), cannot be reopened while its base branch is gone, and cannot be reopened
//!   once its head branch was force-pushed (or deleted) since it was closed. All of these
//!   are `422 Validation Failed` with a `custom` error here.
//! - Protected branches on push ("About protected branches"): a force push or a deletion
//!   of a protected branch that does not allow it is declined by a `pre-receive` hook
//!   ("GH006: Protected branch update failed").
//!
//! Faults for tests: the next N requests fail with a 5xx; a rate limit from now for N
//! seconds; stop answering (connections are accepted and never answered).

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

mod endpoints;

/// The account every token of this server belongs to.
pub const LOGIN: &str = "release-bot";
/// The API version this server is written from.
pub const API_VERSION: &str = "2022-11-28";
const DOCS: &str = "https://docs.github.com/rest";
const ZERO: &str = "0000000000000000000000000000000000000000";

/// A pull request as the server holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pull {
    pub number: u64,
    pub title: String,
    pub body: Option<String>,
    pub head: String,
    pub base: String,
    pub open: bool,
    pub author: String,
    /// The head's commit: followed while open, kept as it was when closed.
    pub head_sha: String,
    /// Why it was closed, when the server closed it (a branch deleted).
    pub closed_because: Option<String>,
    created_at: u64,
    updated_at: u64,
    closed_at: Option<u64>,
}

/// A comment on a pull request's conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub id: u64,
    pub issue: u64,
    pub body: String,
    pub author: String,
    created_at: u64,
}

/// A branch protection rule (the parts of the `branch-protection` schema kept here).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rules {
    pub allow_force_pushes: bool,
    pub allow_deletions: bool,
    /// Who may push, when pushes are restricted (users' logins).
    pub restrict_pushes_to: Option<Vec<String>>,
    pub required_linear_history: bool,
}

/// The rate limit a test imposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    /// The primary limit: `x-ratelimit-remaining: 0` until `x-ratelimit-reset`.
    Primary { status: u16 },
    /// A secondary limit: `retry-after`.
    Secondary { status: u16 },
}

/// One request as it came.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    /// The request target: path and query as sent.
    pub target: String,
    pub body: String,
    /// The `Authorization` header as it came, if one did.
    pub authorization: Option<String>,
    pub headers: Vec<(String, String)>,
}

#[derive(Debug)]
struct State {
    url: String,
    bare: PathBuf,
    events: PathBuf,
    events_read: usize,
    owner: String,
    name: String,
    token: String,
    public: bool,
    pulls: BTreeMap<u64, Pull>,
    /// Issues and pull requests share their numbers.
    next_number: u64,
    comments: Vec<Comment>,
    next_comment: u64,
    protections: BTreeMap<String, Rules>,
    log: Vec<Logged>,
    fail_next: Vec<u16>,
    /// POSTs carried out and then answered with this status instead, as a gateway does
    /// that times out after the backend did the work (a 5xx does not say whether the
    /// request took effect; RFC 9110 §9.2.2: a non-idempotent request is not retried
    /// automatically): how many, and the status.
    lose_posts: (usize, u16),
    /// Requests answered as usual before `fail_next` applies.
    fail_skip: usize,
    limited: Option<(Limit, u64)>,
    silent: bool,
    used: u64,
    default_per_page: usize,
    max_per_page: usize,
    link_origin: Option<String>,
    ignore_page: bool,
}

/// The running stand-in. It serves until dropped.
#[derive(Debug)]
pub struct Server {
    url: String,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept loop so that it sees the flag.
        let _ = TcpStream::connect(self.url.trim_start_matches("http://"));
    }
}

impl Server {
    /// Serves `repo` (`owner/name`) with its branches in the bare repository `bare`, for
    /// the one token `token`. The repository is private until [`Server::public`].
    pub fn start(bare: &Path, repo: &str, token: &str) -> Server {
        let (owner, name) = repo.split_once('/').expect("owner/name");
        let bare = bare.canonicalize().expect("the bare repository exists");
        let events = bare.join("regraft-standin-events");
        std::fs::write(&events, "").expect("events file");
        install_hooks(&bare, &events);
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            url: url.clone(),
            bare,
            events,
            events_read: 0,
            owner: owner.into(),
            name: name.into(),
            token: token.into(),
            public: false,
            pulls: BTreeMap::new(),
            next_number: 1,
            comments: Vec::new(),
            next_comment: 1_000_001,
            protections: BTreeMap::new(),
            log: Vec::new(),
            fail_next: Vec::new(),
            lose_posts: (0, 502),
            fail_skip: 0,
            limited: None,
            silent: false,
            used: 0,
            default_per_page: 2,
            max_per_page: 100,
            link_origin: None,
            ignore_page: false,
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (shared, stopping) = (Arc::clone(&state), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let (shared, stopping) = (Arc::clone(&shared), Arc::clone(&stopping));
                std::thread::spawn(move || handle(stream, &shared, &stopping));
            }
        });
        Server { url, state, stop }
    }

    /// Returns the API root, `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> &str {
        &self.url
    }

    fn state(&self) -> MutexGuard<'_, State> {
        let mut st = self.state.lock().expect("state");
        st.apply_events();
        st
    }

    /// Makes the repository public: anyone may read it, writes still need the token.
    pub fn public(&self) {
        self.state().public = true;
    }

    /// Opens a pull request from `head` into `base` as if someone had (no API call).
    pub fn add_request(&self, head: &str, base: &str, title: &str) -> u64 {
        let mut st = self.state();
        let tips = st.tips();
        let number = st.next_number;
        st.next_number += 1;
        let now = now();
        st.pulls.insert(
            number,
            Pull {
                number,
                title: title.into(),
                body: None,
                head: head.into(),
                base: base.into(),
                open: true,
                author: "octocat".into(),
                head_sha: tips.get(head).cloned().expect("the head branch exists"),
                closed_because: None,
                created_at: now,
                updated_at: now,
                closed_at: None,
            },
        );
        number
    }

    /// Returns every pull request, by number, as the server holds it now.
    pub fn requests(&self) -> Vec<Pull> {
        self.state().pulls.values().cloned().collect()
    }

    /// Returns pull request `number`.
    pub fn pull(&self, number: u64) -> Pull {
        self.state().pulls.get(&number).cloned().expect("the pull request exists")
    }

    /// Returns the comments on pull request (issue) `number`, oldest first.
    pub fn comments(&self, number: u64) -> Vec<Comment> {
        self.state().comments.iter().filter(|c| c.issue == number).cloned().collect()
    }

    /// Protects `branch` with `rules`.
    pub fn protect(&self, branch: &str, rules: Rules) {
        let mut st = self.state();
        st.protections.insert(branch.into(), rules);
        st.write_protections();
    }

    /// Answers the next `count` requests with `status` (a 5xx) and GitHub's error body.
    pub fn fail_next(&self, count: usize, status: u16) {
        self.state().fail_next.extend(std::iter::repeat_n(status, count));
    }

    /// Answers the next `skip` requests as usual, then the `count` after them with `status`
    /// (a failure halfway through a run of calls).
    pub fn fail_after(&self, skip: usize, count: usize, status: u16) {
        let mut st = self.state();
        st.fail_skip = skip;
        st.fail_next.extend(std::iter::repeat_n(status, count));
    }

    /// Carries out the next `count` POSTs, then answers each with `status` (a 5xx) instead
    /// of its own answer: the comment or pull request is there, the client cannot know.
    pub fn lose_answers_to_posts(&self, count: usize, status: u16) {
        self.state().lose_posts = (count, status);
    }

    /// Imposes `limit` for `seconds` from now: every request until then is refused.
    pub fn rate_limit(&self, limit: Limit, seconds: u64) {
        // The reset is a whole epoch second, as the header says it.
        self.state().limited = Some((limit, now() + seconds));
    }

    /// Accepts connections and never answers them from now on.
    pub fn stop_answering(&self) {
        self.state().silent = true;
    }

    /// Caps `per_page` at `max` (GitHub's is 100).
    pub fn max_per_page(&self, max: usize) {
        self.state().max_per_page = max;
    }

    /// Misbehaves: the `link` header's URLs name `origin` instead of this server.
    pub fn link_origin(&self, origin: &str) {
        self.state().link_origin = Some(origin.into());
    }

    /// Misbehaves: every page is the first one, while the links go on.
    pub fn ignore_page(&self) {
        self.state().ignore_page = true;
    }

    /// Returns every request so far.
    pub fn log(&self) -> Vec<Logged> {
        self.state.lock().expect("state").log.clone()
    }
}

fn install_hooks(bare: &Path, events: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let hooks = bare.join("hooks");
    std::fs::create_dir_all(&hooks).expect("hooks directory");
    let quoted = |p: &Path| format!("'{}'", p.display().to_string().replace('\'', r"'\''"));
    let post = format!("#!/bin/sh\ncat >> {}\n", quoted(events));
    // Protected branches on push: lines "branch force delete" (1 = allowed).
    let pre = format!(
        r#"#!/bin/sh
rules={}
status=0
while read old new ref; do
  branch=${{ref#refs/heads/}}
  [ "$branch" = "$ref" ] && continue
  [ -f "$rules" ] || continue
  while read name force delete; do
    [ "$name" = "$branch" ] || continue
    if [ "$new" = "{ZERO}" ]; then
      [ "$delete" = 1 ] || {{ echo "error: GH006: Protected branch update failed for $ref."; echo "error: Cannot delete this protected branch"; status=1; }}
    elif [ "$old" != "{ZERO}" ] && ! git merge-base --is-ancestor "$old" "$new"; then
      [ "$force" = 1 ] || {{ echo "error: GH006: Protected branch update failed for $ref."; echo "error: Cannot force-push to this branch"; status=1; }}
    fi
  done < "$rules"
done
exit $status
"#,
        quoted(&bare.join("regraft-standin-protected"))
    );
    for (name, text) in [("post-receive", post), ("pre-receive", pre)] {
        let path = hooks.join(name);
        std::fs::write(&path, text).expect("write a hook");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
}

fn now() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).expect("after 1970").as_secs()
}

/// Returns `secs` (UTC epoch seconds) as ISO 8601, `2011-01-26T19:01:12Z`.
fn iso(secs: u64) -> String {
    let (days, rest) = ((secs / 86_400) as i64, secs % 86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

fn git(bare: &Path) -> regraft::git::Git {
    regraft::git::Git::new(bare).isolated()
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

fn query_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

/// An answer: status, extra headers, JSON body (none for 204).
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Option<Value>,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer { status, headers: Vec::new(), body: Some(body) }
    }

    fn error(status: u16, message: &str) -> Answer {
        Answer::json(
            status,
            json!({"message": message, "documentation_url": DOCS, "status": status.to_string()}),
        )
    }

    fn not_found() -> Answer {
        Answer::error(404, "Not Found")
    }

    /// "Validation Failed" with `errors`.
    fn invalid(errors: Value) -> Answer {
        Answer::json(
            422,
            json!({"message": "Validation Failed", "errors": errors, "documentation_url": DOCS, "status": "422"}),
        )
    }

    fn custom(resource: &str, message: &str) -> Answer {
        Answer::invalid(json!([{"resource": resource, "code": "custom", "message": message}]))
    }

    fn with(mut self, name: &str, value: String) -> Answer {
        self.headers.push((name.into(), value));
        self
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

struct Incoming {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Incoming {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn read_request(stream: &TcpStream) -> Option<Incoming> {
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, target) = (words.next()?.to_string(), words.next()?.to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).ok()? == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length.min(1 << 20)];
    reader.read_exact(&mut body).ok()?;
    Some(Incoming { method, target, headers, body: String::from_utf8_lossy(&body).into_owned() })
}

fn handle(mut stream: TcpStream, state: &Mutex<State>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some(request) = read_request(&stream) else { return };
    let answer = {
        let mut st = state.lock().expect("state");
        st.log.push(Logged {
            method: request.method.clone(),
            target: request.target.clone(),
            body: request.body.clone(),
            authorization: request.header("authorization").map(str::to_string),
            headers: request.headers.clone(),
        });
        if st.silent {
            None
        } else {
            st.apply_events();
            Some(st.answer(&request))
        }
    };
    let Some(answer) = answer else {
        // Holds the connection, unanswered, for as long as a test can wait.
        for _ in 0..300 {
            if stop.load(Ordering::SeqCst) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        return;
    };
    let body = answer.body.map(|b| b.to_string()).unwrap_or_default();
    let mut head = format!("HTTP/1.1 {} {}\r\n", answer.status, reason(answer.status));
    for (k, v) in &answer.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if answer.status != 204 {
        head.push_str("content-type: application/json; charset=utf-8\r\n");
    }
    head.push_str(&format!("content-length: {}\r\nconnection: close\r\n\r\n", body.len()));
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body.as_bytes());
    let _ = stream.flush();
}

impl State {
    /// Returns every branch's tip.
    fn tips(&self) -> BTreeMap<String, String> {
        let out = git(&self.bare)
            .output(&["for-each-ref", "--format=%(objectname) %(refname)", "refs/heads/"])
            .expect("for-each-ref");
        String::from_utf8_lossy(&out)
            .lines()
            .filter_map(|l| {
                let (sha, name) = l.split_once(' ')?;
                Some((name.strip_prefix("refs/heads/")?.to_string(), sha.to_string()))
            })
            .collect()
    }

    fn default_branch(&self) -> String {
        let out = git(&self.bare).output(&["symbolic-ref", "--short", "HEAD"]).expect("HEAD");
        String::from_utf8_lossy(&out).trim().to_string()
    }

    fn is_ancestor(&self, old: &str, new: &str) -> bool {
        git(&self.bare).output(&["merge-base", "--is-ancestor", old, new]).is_ok()
    }

    /// Applies the pushes recorded since the last request, in order.
    fn apply_events(&mut self) {
        let text = std::fs::read_to_string(&self.events).expect("events file");
        let new = text[self.events_read..].to_string();
        self.events_read = text.len();
        for line in new.lines() {
            let mut w = line.split_whitespace();
            let (Some(_old), Some(sha), Some(reference)) = (w.next(), w.next(), w.next()) else {
                continue;
            };
            if let Some(branch) = reference.strip_prefix("refs/heads/") {
                self.branch_moved(branch, (sha != ZERO).then_some(sha));
            }
        }
        let tips = self.tips();
        for pull in self.pulls.values_mut().filter(|p| p.open) {
            if let Some(sha) = tips.get(&pull.head) {
                pull.head_sha = sha.clone();
            }
        }
    }

    /// What GitHub does when a branch moves: open pull requests follow their head, and
    /// those whose base or head is deleted are closed.
    fn branch_moved(&mut self, branch: &str, sha: Option<&str>) {
        let time = now();
        for pull in self.pulls.values_mut().filter(|p| p.open) {
            match sha {
                Some(sha) if pull.head == branch => pull.head_sha = sha.to_string(),
                Some(_) => {}
                None if pull.base == branch || pull.head == branch => {
                    pull.open = false;
                    pull.closed_at = Some(time);
                    pull.updated_at = time;
                    let side = if pull.base == branch { "base" } else { "head" };
                    pull.closed_because = Some(format!("{side} branch {branch} deleted"));
                }
                None => {}
            }
        }
    }

    fn write_protections(&self) {
        let text: String = self
            .protections
            .iter()
            .map(|(b, r)| {
                format!("{b} {} {}\n", u8::from(r.allow_force_pushes), u8::from(r.allow_deletions))
            })
            .collect();
        std::fs::write(self.bare.join("regraft-standin-protected"), text).expect("rules file");
    }

    fn rate_headers(&self, remaining: u64, reset: u64) -> Vec<(String, String)> {
        vec![
            ("x-ratelimit-limit".into(), "5000".into()),
            ("x-ratelimit-remaining".into(), remaining.to_string()),
            ("x-ratelimit-used".into(), (5000 - remaining).to_string()),
            ("x-ratelimit-reset".into(), reset.to_string()),
            ("x-ratelimit-resource".into(), "core".into()),
        ]
    }

    fn answer(&mut self, request: &Incoming) -> Answer {
        let mut answer = self.route_checked(request);
        if request.method == "POST" && self.lose_posts.0 > 0 && answer.status < 300 {
            self.lose_posts.0 -= 1;
            answer = Answer::error(self.lose_posts.1, "Server Error");
        }
        if !answer.headers.iter().any(|(k, _)| k == "x-ratelimit-remaining") {
            self.used += 1;
            let remaining = 5000u64.saturating_sub(self.used);
            let mut headers = self.rate_headers(remaining, now() + 3600);
            headers.append(&mut answer.headers);
            answer.headers = headers;
        }
        answer.headers.push(("x-github-api-version-selected".into(), API_VERSION.into()));
        answer
    }

    fn route_checked(&mut self, request: &Incoming) -> Answer {
        if !self.fail_next.is_empty() && self.fail_skip > 0 {
            self.fail_skip -= 1;
        } else if !self.fail_next.is_empty() {
            let status = self.fail_next.remove(0);
            return Answer::error(status, "Server Error");
        }
        if let Some((limit, reset)) = self.limited {
            let time = now();
            if time < reset {
                return match limit {
                    Limit::Primary { status } => Answer::error(
                        status,
                        "API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID.",
                    )
                    .with("x-ratelimit-limit", "5000".into())
                    .with("x-ratelimit-remaining", "0".into())
                    .with("x-ratelimit-used", "5000".into())
                    .with("x-ratelimit-reset", reset.to_string())
                    .with("x-ratelimit-resource", "core".into()),
                    Limit::Secondary { status } => Answer::error(
                        status,
                        "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.",
                    )
                    .with("retry-after", (reset - time).to_string()),
                };
            }
            self.limited = None;
        }
        if request.header("user-agent").is_none_or(str::is_empty) {
            return Answer::error(
                403,
                "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.",
            );
        }
        if let Some(version) = request.header("x-github-api-version") {
            if version != API_VERSION && version != "2026-03-10" {
                return Answer::error(400, &format!("API version {version} is not supported."));
            }
        }
        let authorized = match request.header("authorization") {
            None => false,
            Some(value) => {
                let token = value
                    .strip_prefix("Bearer ")
                    .or_else(|| value.strip_prefix("bearer "))
                    .or_else(|| value.strip_prefix("token "));
                if token != Some(self.token.as_str()) {
                    return Answer::error(401, "Bad credentials");
                }
                true
            }
        };
        let (path, query) = request.target.split_once('?').unwrap_or((&request.target, ""));
        let Some(rest) = path.strip_prefix("/repos/") else { return Answer::not_found() };
        let mut parts = rest.splitn(3, '/');
        let (owner, name) = (parts.next().unwrap_or_default(), parts.next().unwrap_or_default());
        if !decode(owner).eq_ignore_ascii_case(&self.owner)
            || !decode(name).eq_ignore_ascii_case(&self.name)
        {
            return Answer::not_found();
        }
        if !authorized && !self.public {
            return Answer::not_found();
        }
        let write = request.method != "GET";
        let tail = parts.next().map(|t| format!("/{t}")).unwrap_or_default();
        if (write || tail.ends_with("/protection")) && !authorized {
            return Answer::error(401, "Requires authentication");
        }
        let body = if write && !request.body.trim().is_empty() {
            match serde_json::from_str::<Value>(&request.body) {
                Ok(v @ Value::Object(_)) => v,
                Ok(_) => return Answer::error(400, "Body should be a JSON object"),
                Err(_) => return Answer::error(400, "Problems parsing JSON"),
            }
        } else {
            json!({})
        };
        let query = query_pairs(query);
        self.route(&request.method, &tail, &query, &body)
    }

    fn route(
        &mut self,
        method: &str,
        tail: &str,
        query: &[(String, String)],
        body: &Value,
    ) -> Answer {
        let segments: Vec<&str> = tail.split('/').skip(1).collect();
        match (method, segments.as_slice()) {
            ("GET", []) => Answer::json(200, self.repository_json()),
            ("GET", ["pulls"]) => self.list_pulls(query),
            ("POST", ["pulls"]) => self.create_pull(body),
            ("GET", ["pulls", n]) => match self.number(n) {
                Some(n) => Answer::json(200, self.pull_json(n, true)),
                None => Answer::not_found(),
            },
            ("PATCH", ["pulls", n]) => match self.number(n) {
                Some(n) => self.update_pull(n, body),
                None => Answer::not_found(),
            },
            ("GET", ["issues", n, "comments"]) => match self.number(n) {
                Some(n) => self.list_comments(n, query),
                None => Answer::not_found(),
            },
            ("POST", ["issues", n, "comments"]) => match self.number(n) {
                Some(n) => self.create_comment(n, body),
                None => Answer::not_found(),
            },
            ("GET", ["branches", branch @ .., "protection"]) if !branch.is_empty() => {
                self.protection(&decode(&branch.join("/")))
            }
            ("GET", ["git", "ref", reference @ ..]) if !reference.is_empty() => {
                self.get_ref(&decode(&reference.join("/")))
            }
            ("DELETE", ["git", "refs", reference @ ..]) if !reference.is_empty() => {
                self.delete_ref(&decode(&reference.join("/")))
            }
            _ => Answer::not_found(),
        }
    }
}

fn enc(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
