//! A GitLab stand-in: a small HTTP/1.1 server on 127.0.0.1 answering GitLab's REST API v4 for
//! one project, its branches kept in a real bare repository that tests push to with git.
//!
//! Written from GitLab's REST documentation (doc/api/ in gitlabhq), field by field, not from
//! regraft's client:
//! - rest/index.md "Authentication": a token in `PRIVATE-TOKEN`, `Authorization: Bearer`
//!   or the `private_token` parameter; a missing or invalid token is `401` with
//!   `{"message":"401 Unauthorized"}`. "Most API requests require authentication, or only
//!   return public data": here a request without a token may read a public project, a
//!   private one is `404 Project Not Found` (GitLab does not tell a stranger it exists), and
//!   every write without a token is `401`. A token that is present and wrong is always `401`.
//! - rest/index.md "Namespaced path encoding": `:id` is the numeric id or the path with `/`
//!   as `%2F` (`group%2Fname`), decoded once; "File path, branches, and tags name encoding":
//!   a branch with `/` is `%2F` in its segment. An unencoded `/` makes another route: "Unknown
//!   route" is `404` with `{"error":"404 Not Found"}`; a known route with another method is
//!   `405 Method Not Allowed` ("Status codes").
//! - rest/index.md "Offset-based pagination": `page` (default 1) and `per_page` (default 20,
//!   max 100; [`Server::cap_per_page`] lowers the cap for tests); "Pagination Link header"
//!   (`prev`, `next`, `first`, `last`, absolute URLs) and "Other pagination headers"
//!   (`x-next-page`, `x-page`, `x-per-page`, `x-prev-page`, `x-total`, `x-total-pages`;
//!   `x-next-page` empty on the last page).
//! - rest/index.md "Data validation and error reporting": a missing attribute is `400` with
//!   `{"message":"400 (Bad request) \"title\" not given"}`; other errors are
//!   `{"message": ...}` with the status of "Status codes" (`409 Conflict`, `422`).
//! - projects.md "Get single project": `id`, `name`, `path`, `path_with_namespace`,
//!   `default_branch` (the bare repository's `HEAD`; `null` while it is unborn),
//!   `visibility`, `web_url`, `http_url_to_repo`.
//! - merge_requests.md "List project merge requests": `state` (`opened`, `closed`, `locked`,
//!   `merged`, `all`), `target_branch`, `source_branch`, `order_by=created_at` and
//!   `sort=desc` by default, paginated. The merge request object: `id`, `iid`,
//!   `project_id`, `title`, `description`, `state`, `target_branch`, `source_branch`,
//!   `author`, `sha`, `web_url`, `references`, `closed_at`, `merged_at`, ...
//! - merge_requests.md "Get single MR" (`GET .../merge_requests/:merge_request_iid`),
//!   "Create MR" (`POST`, `source_branch`, `target_branch`, `title` required,
//!   `description`; `201`), "Update MR" (`PUT`, `target_branch`, `title`, `description`,
//!   `state_event` `close`/`reopen`; "Must include at least one non-required attribute",
//!   else `400`).
//! - notes.md "Create new merge request note" (`POST .../notes`, `body` required, `201`) and
//!   "List all merge request notes" (`sort` `desc` by default, paginated). State changes
//!   and retargets leave system notes (`system: true`), as GitLab's timeline shows them.
//! - protected_branches.md "List protected branches" (rules as defined: a wildcard rule is
//!   returned as the wildcard, not the branches it matches) and "Get a single protected
//!   branch or wildcard protected branch" (`:name` is the rule's name; `404` otherwise):
//!   `id`, `name`, `push_access_levels`, `merge_access_levels`, `allow_force_push`,
//!   `code_owner_approval_required`; access levels 0 No one, 30 Developers, 40 Maintainers.
//! - user/project/protected_branches.md: `*` in a rule matches any characters
//!   (`stable/*`); a protected branch cannot be deleted with a push ("can only be deleted
//!   using the web interface or the API"), and cannot be force-pushed unless the rule allows
//!   force push; when several rules match a branch the most permissive decides
//!   (repository/branches/protection_rules.md). The bare repository's `pre-receive` hook enforces this on real pushes,
//!   reading the rules from a file this server writes, and answers with GitLab's messages.
//! - branches.md "Get single repository branch" (`name`, `merged`, `protected`, `default`,
//!   `developers_can_push`, `developers_can_merge`, `can_push`, `web_url`, `commit`) and
//!   "Delete repository branch" (`204`; the default branch is `405`, "Cannot remove HEAD
//!   branch"; a protected branch may be deleted here, by a maintainer, as the user docs say).
//! - What a pushed (or deleted) branch does to merge requests. GitLab's documentation does
//!   not promise to close merge requests whose *target* branch is deleted, and GitLab does
//!   not: the merge request stays open and its page says "The target branch ... does not
//!   exist" (its feature spec "User sees deleted target branch"; issue 567761 shows an open
//!   MR left without its target). Only when a merged MR deletes its source branch does
//!   GitLab retarget up to four MRs stacked on it ("Update merge requests when target branch
//!   merges"), which a push never does. This stand-in follows that: a deleted target leaves
//!   its MRs open (and not mergeable). Deleting a *source* branch closes its open MRs (the
//!   refresh GitLab runs on every push; issue 545458 shows it). A push to a source branch
//!   moves the MR's `sha`.
//! - Reopening: GitLab refuses to reopen a merge request whose source or target branch no
//!   longer exists (`422`, "Cannot reopen this merge request because the source or target
//!   branch no longer exists", MR 245864), and one whose source branch already has another
//!   open MR to the same target (`409`, "Another open merge request already exists for this
//!   source branch: !N", the same check as "Create MR").
//! - Rate limits (user/gitlab_com "Rate limits", administration "Rate limits"): every answer
//!   carries `RateLimit-Limit`, `RateLimit-Observed`, `RateLimit-Remaining`,
//!   `RateLimit-Reset` (Unix time) and `RateLimit-ResetTime` (HTTP date); a refused request
//!   is `429 Too Many Requests` with `RateLimit-Remaining: 0`, `Retry-After` (seconds) and
//!   the plain-text body `Retry later`.
//!
//! Faults for the client's guards: the next requests answered with a 5xx, a rate limit, or
//! never answered at all. Every request is logged with the credential it carried.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

mod answer;
mod hooks;
mod json;
mod merge_requests;

use answer::{Answer, HttpDate};
use json::{branch_json, mr_json, note_json, project, rule_json};
use merge_requests::{create_request, list_requests, update_request};

/// GitLab's documented default and maximum `per_page`.
const DEFAULT_PER_PAGE: usize = 20;
const MAX_PER_PAGE: usize = 100;
/// How long a connection the server was told not to answer is held open.
const SILENCE: Duration = Duration::from_secs(30);
/// The requests a client may make in a window before GitLab.com's limiter (shown only).
const RATE_LIMIT: u64 = 2000;

/// A merge request as the stand-in holds it.
#[derive(Debug, Clone)]
pub struct MergeRequest {
    pub iid: u64,
    pub title: String,
    pub description: String,
    pub source_branch: String,
    pub target_branch: String,
    /// `opened`, `closed` or `merged`.
    pub state: String,
    /// The source branch's tip when last pushed.
    pub sha: Option<String>,
    pub author: String,
    pub notes: Vec<Note>,
    created: u64,
    updated: u64,
    closed: Option<u64>,
}

/// A comment on a merge request; GitLab's own notes (state changes) are `system`.
#[derive(Debug, Clone)]
pub struct Note {
    pub id: u64,
    pub body: String,
    pub author: String,
    pub system: bool,
    created: u64,
}

/// A protected-branch rule: a branch name or a wildcard such as `stable/*`.
#[derive(Debug, Clone)]
pub struct Rule {
    pub name: String,
    pub allow_force_push: bool,
    /// Who may push: 0 No one, 30 Developers + Maintainers, 40 Maintainers.
    pub push_access_level: u32,
    pub merge_access_level: u32,
}

impl Rule {
    /// Returns a rule as GitLab creates it by default: maintainers push and merge, no force
    /// push.
    pub fn new(name: &str) -> Rule {
        Rule {
            name: name.to_string(),
            allow_force_push: false,
            push_access_level: 40,
            merge_access_level: 40,
        }
    }

    /// Tells whether the rule covers `branch` (`*` matches any run of characters).
    pub fn matches(&self, branch: &str) -> bool {
        wildcard(&self.name, branch)
    }
}

fn wildcard(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => pattern == text,
        Some((head, rest)) => {
            let Some(text) = text.strip_prefix(head) else { return false };
            (0..=text.len())
                .filter(|i| text.is_char_boundary(*i))
                .any(|i| wildcard(rest, &text[i..]))
        }
    }
}

/// One request as it arrived.
#[derive(Debug, Clone)]
pub struct Logged {
    pub method: String,
    /// The request target: path and query, as sent.
    pub target: String,
    pub body: String,
    /// The token it carried (`PRIVATE-TOKEN`, `Authorization: Bearer` or `private_token`).
    pub token: Option<String>,
}

#[derive(Debug, Clone, Copy)]
enum Fault {
    Status(u16),
    /// Carried out, then answered with this status instead (a POST only; others pass by):
    /// a gateway timing out after the work was done. A 5xx does not say whether the
    /// request took effect (RFC 9110 §9.2.2: a non-idempotent request is not retried
    /// automatically).
    Lost(u16),
    RateLimit {
        seconds: u64,
        retry_after: bool,
    },
}

#[derive(Debug)]
struct State {
    url: String,
    bare: PathBuf,
    project_id: u64,
    path: String,
    token: String,
    user: String,
    public: bool,
    per_page_cap: usize,
    requests: BTreeMap<u64, MergeRequest>,
    rules: Vec<Rule>,
    faults: VecDeque<Fault>,
    /// Requests answered as usual before `faults` apply.
    fault_skip: usize,
    silent: bool,
    /// Misbehaving: every page is the first one, while the headers say there are more.
    ignore_page: bool,
    log: Vec<Logged>,
    /// Lines of the events file already applied.
    events_seen: usize,
    /// The clock of the project's history: every change ticks it.
    tick: u64,
    next_note: u64,
}

/// The running stand-in; it serves until the test process ends (each test has its own port).
#[derive(Debug, Clone)]
pub struct Server {
    url: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    /// Starts a GitLab serving project `path` (`group/name`), whose repository is the bare
    /// repository `bare`, to holders of `token` (a maintainer of the project). Installs the
    /// hooks that tell the server about pushes and refuse what protected branches refuse.
    pub fn start(bare: &Path, path: &str, token: &str) -> Server {
        hooks::install(bare);
        let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let state = Arc::new(Mutex::new(State {
            url: url.clone(),
            bare: bare.to_path_buf(),
            project_id: 42,
            path: path.to_string(),
            token: token.to_string(),
            user: "release-bot".to_string(),
            public: false,
            per_page_cap: MAX_PER_PAGE,
            requests: BTreeMap::new(),
            rules: Vec::new(),
            faults: VecDeque::new(),
            fault_skip: 0,
            silent: false,
            ignore_page: false,
            log: Vec::new(),
            events_seen: 0,
            tick: 0,
            next_note: 1,
        }));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || handle(stream, &shared));
            }
        });
        Server { url, state }
    }

    /// Returns the instance's URL (`http://127.0.0.1:PORT`); the API is under `/api/v4`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Returns the project's numeric id.
    pub fn project_id(&self) -> u64 {
        self.lock().project_id
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("the stand-in's state")
    }

    /// Makes the project public: readable without a token.
    pub fn make_public(&self) {
        self.lock().public = true;
    }

    /// Lowers the largest `per_page` honoured (GitLab's is 100), so tests see many pages.
    pub fn cap_per_page(&self, cap: usize) {
        self.lock().per_page_cap = cap.max(1);
    }

    /// Opens a merge request from `source` to `target` by someone else, as if made in the
    /// web interface; returns its `iid`.
    pub fn add_request(&self, source: &str, target: &str, title: &str) -> u64 {
        let mut st = self.lock();
        st.apply_events();
        let sha = st.tip(source);
        st.create(source, target, title, "", "ada", sha)
    }

    /// Returns every merge request, by `iid`, after the pushes so far.
    pub fn requests(&self) -> Vec<MergeRequest> {
        let mut st = self.lock();
        st.apply_events();
        st.requests.values().cloned().collect()
    }

    /// Returns merge request `iid`, after the pushes so far.
    pub fn request(&self, iid: u64) -> MergeRequest {
        self.requests().into_iter().find(|r| r.iid == iid).expect("a merge request of the test")
    }

    /// Protects branches with `rule` (as Settings > Repository > Protected branches would).
    pub fn protect(&self, rule: Rule) {
        let mut st = self.lock();
        st.rules.retain(|r| r.name != rule.name);
        st.rules.push(rule);
        hooks::write_rules(&st.bare, &st.rules);
    }

    /// Answers the next `count` requests with `status` (a 5xx) and GitLab's error body.
    pub fn fail_next(&self, count: usize, status: u16) {
        let mut st = self.lock();
        st.faults.extend(std::iter::repeat_n(Fault::Status(status), count));
    }

    /// Answers the next `skip` requests as usual, then the `count` after them with `status`
    /// (a failure halfway through a run of calls).
    pub fn fail_after(&self, skip: usize, count: usize, status: u16) {
        let mut st = self.lock();
        st.fault_skip = skip;
        st.faults.extend(std::iter::repeat_n(Fault::Status(status), count));
    }

    /// Carries out the next `count` POSTs, then answers each with `status` (a 5xx) instead
    /// of its own answer: the note or merge request is there, the client cannot know.
    pub fn lose_answers_to_posts(&self, count: usize, status: u16) {
        self.lock().faults.extend(std::iter::repeat_n(Fault::Lost(status), count));
    }

    /// Refuses the next request with `429`: `RateLimit-Remaining: 0`, `RateLimit-Reset` in
    /// `seconds`, and `Retry-After: seconds` when `retry_after`.
    pub fn rate_limit_next(&self, seconds: u64, retry_after: bool) {
        self.lock().faults.push_back(Fault::RateLimit { seconds, retry_after });
    }

    /// From now on reads every request and never answers it (the connection stays open
    /// for a while, then closes without a word).
    pub fn stop_answering(&self) {
        self.lock().silent = true;
    }

    /// Misbehaves: answers the first page whatever `page` asks, with the headers of the
    /// page asked for.
    pub fn ignore_page(&self) {
        self.lock().ignore_page = true;
    }

    /// Returns every request received so far.
    pub fn log(&self) -> Vec<Logged> {
        self.lock().log.clone()
    }
}

impl State {
    fn tip(&self, branch: &str) -> Option<String> {
        let out = server_git(&self.bare)
            .output(&["rev-parse", "--verify", "-q", &format!("refs/heads/{branch}^{{commit}}")])
            .ok()?;
        Some(String::from_utf8_lossy(&out).trim().to_string())
    }

    fn default_branch(&self) -> Option<String> {
        let out = server_git(&self.bare).output(&["symbolic-ref", "-q", "HEAD"]).ok()?;
        let name = String::from_utf8_lossy(&out).trim().strip_prefix("refs/heads/")?.to_string();
        self.tip(&name).map(|_| name)
    }

    fn now(&mut self) -> u64 {
        self.tick += 1;
        self.tick
    }

    fn create(
        &mut self,
        source: &str,
        target: &str,
        title: &str,
        description: &str,
        author: &str,
        sha: Option<String>,
    ) -> u64 {
        let iid = self.requests.keys().next_back().copied().unwrap_or(0) + 1;
        let now = self.now();
        self.requests.insert(
            iid,
            MergeRequest {
                iid,
                title: title.to_string(),
                description: description.to_string(),
                source_branch: source.to_string(),
                target_branch: target.to_string(),
                state: "opened".to_string(),
                sha,
                author: author.to_string(),
                notes: Vec::new(),
                created: now,
                updated: now,
                closed: None,
            },
        );
        iid
    }

    fn note(&mut self, iid: u64, body: &str, author: &str, system: bool) -> Option<Note> {
        let (id, created) = (self.next_note, self.now());
        let request = self.requests.get_mut(&iid)?;
        self.next_note += 1;
        let note = Note { id, body: body.to_string(), author: author.to_string(), system, created };
        request.notes.push(note.clone());
        request.updated = created;
        Some(note)
    }

    /// Applies the pushes the post-receive hook recorded since the last request, in order.
    fn apply_events(&mut self) {
        let events = std::fs::read_to_string(hooks::events_file(&self.bare)).unwrap_or_default();
        let lines: Vec<String> = events.lines().skip(self.events_seen).map(String::from).collect();
        self.events_seen += lines.len();
        for line in lines {
            let mut words = line.split_whitespace();
            let (Some(_old), Some(new), Some(reference)) =
                (words.next(), words.next(), words.next())
            else {
                continue;
            };
            let Some(branch) = reference.strip_prefix("refs/heads/") else { continue };
            let deleted = new.bytes().all(|b| b == b'0');
            let affected: Vec<u64> = self
                .requests
                .values()
                .filter(|r| r.state == "opened" && r.source_branch == branch)
                .map(|r| r.iid)
                .collect();
            for iid in affected {
                if deleted {
                    // GitLab closes an open MR whose source branch is gone.
                    let now = self.now();
                    let user = self.user.clone();
                    if let Some(r) = self.requests.get_mut(&iid) {
                        r.state = "closed".to_string();
                        r.closed = Some(now);
                    }
                    self.note(iid, &format!("deleted source branch {branch}"), &user, true);
                    self.note(iid, "closed", &user, true);
                } else if let Some(r) = self.requests.get_mut(&iid) {
                    r.sha = Some(new.to_string());
                }
            }
        }
    }
}

/// Runs git on the stand-in's bare repository, blind to the caller's git settings.
pub fn server_git(bare: &Path) -> regraft::git::Git {
    regraft::git::Git::new(bare).isolated()
}

/// A request after its line and headers were read.
struct Request {
    method: String,
    path: String,
    query: Vec<(String, String)>,
    body: String,
    content_type: String,
    token: Option<String>,
}

impl Request {
    fn read(stream: &TcpStream) -> Option<(Request, String)> {
        let mut reader = BufReader::new(stream.try_clone().ok()?);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let mut words = line.split_whitespace();
        let (method, target) = (words.next()?.to_string(), words.next()?.to_string());
        let (mut token, mut length, mut content_type) = (None, 0usize, String::new());
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((&header, ""));
            let value = value.trim().to_string();
            match name.to_ascii_lowercase().as_str() {
                "private-token" => token = Some(value),
                "authorization" => {
                    token = Some(value.strip_prefix("Bearer ").unwrap_or(&value).to_string())
                }
                "content-length" => length = value.parse().unwrap_or(0),
                "content-type" => content_type = value,
                _ => {}
            }
        }
        let mut body = vec![0; length.min(1 << 20)];
        reader.read_exact(&mut body).ok()?;
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let query = form(query);
        if token.is_none() {
            token = query.iter().find(|(k, _)| k == "private_token").map(|(_, v)| v.clone());
        }
        let request = Request {
            method,
            path: path.to_string(),
            query,
            body: String::from_utf8_lossy(&body).into_owned(),
            content_type,
            token,
        };
        Some((request, target))
    }

    /// Returns the attributes given in the query, a JSON body or a form body.
    fn params(&self) -> BTreeMap<String, Value> {
        let mut params: BTreeMap<String, Value> =
            self.query.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        if self.content_type.starts_with("application/json") {
            if let Ok(Value::Object(map)) = serde_json::from_str::<Value>(&self.body) {
                params.extend(map);
            }
        } else if self.content_type.starts_with("application/x-www-form-urlencoded") {
            params.extend(form(&self.body).into_iter().map(|(k, v)| (k, Value::String(v))));
        }
        params
    }
}

fn form(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|kv| !kv.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

fn text(params: &BTreeMap<String, Value>, key: &str) -> Option<String> {
    match params.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Null => None,
        other => Some(other.to_string()),
    }
}

fn handle(mut stream: TcpStream, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let Some((request, target)) = Request::read(&stream) else { return };
    let answer = {
        let mut st = state.lock().expect("the stand-in's state");
        st.log.push(Logged {
            method: request.method.clone(),
            target,
            body: request.body.clone(),
            token: request.token.clone(),
        });
        if st.silent {
            None
        } else {
            let observed = st.log.len() as u64;
            let fault = if st.fault_skip > 0 && !st.faults.is_empty() {
                st.fault_skip -= 1;
                None
            } else if matches!(st.faults.front(), Some(Fault::Lost(_))) && request.method != "POST"
            {
                None
            } else {
                st.faults.pop_front()
            };
            let mut answer = match fault {
                Some(Fault::Status(status)) => Answer::message(status, &reason_message(status)),
                Some(Fault::RateLimit { seconds, retry_after }) => {
                    let mut a = Answer::text(429, "Retry later\n");
                    rate_headers(&mut a, observed, 0, seconds);
                    if retry_after {
                        a.header("Retry-After", &seconds.to_string());
                    }
                    return a.write(&mut stream);
                }
                Some(Fault::Lost(status)) => {
                    st.apply_events();
                    let done = route(&mut st, &request);
                    if done.status() < 300 {
                        Answer::message(status, &reason_message(status))
                    } else {
                        done
                    }
                }
                None => {
                    st.apply_events();
                    route(&mut st, &request)
                }
            };
            rate_headers(&mut answer, observed, RATE_LIMIT.saturating_sub(observed), 60);
            Some(answer)
        }
    };
    match answer {
        Some(answer) => answer.write(&mut stream),
        // Read, and never answered: held open for a while, then closed.
        None => std::thread::sleep(SILENCE),
    }
}

fn rate_headers(answer: &mut Answer, observed: u64, remaining: u64, reset_in: u64) {
    let reset =
        SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0) + reset_in;
    answer.header("RateLimit-Limit", &RATE_LIMIT.to_string());
    answer.header("RateLimit-Observed", &observed.to_string());
    answer.header("RateLimit-Remaining", &remaining.to_string());
    answer.header("RateLimit-Reset", &reset.to_string());
    answer.header("RateLimit-ResetTime", &HttpDate(reset).to_string());
}

fn reason_message(status: u16) -> String {
    format!("{status} {}", answer::reason(status))
}

fn not_found(what: &str) -> Answer {
    Answer::message(404, &format!("404 {what}"))
}

/// Routes `/api/v4/projects/:id/...` after authentication.
fn route(st: &mut State, req: &Request) -> Answer {
    let Some(rest) = req.path.strip_prefix("/api/v4/") else { return unknown_route() };
    let segments: Vec<String> = rest.split('/').map(decode).collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    let known = matches!(
        segments.as_slice(),
        ["projects", _]
            | ["projects", _, "merge_requests"]
            | ["projects", _, "merge_requests", _]
            | ["projects", _, "merge_requests", _, "notes"]
            | ["projects", _, "protected_branches"]
            | ["projects", _, "protected_branches", _]
            | ["projects", _, "repository", "branches", _]
    );
    if !known {
        return unknown_route();
    }
    // Authentication comes first: a wrong token is refused whatever it asks.
    let authenticated = match &req.token {
        Some(token) if *token == st.token => true,
        Some(_) => return Answer::message(401, "401 Unauthorized"),
        None => false,
    };
    if !authenticated && req.method != "GET" {
        return Answer::message(401, "401 Unauthorized");
    }
    let id = segments[1];
    if id != st.path && id != st.project_id.to_string() {
        return not_found("Project Not Found");
    }
    if !authenticated && !st.public {
        return not_found("Project Not Found");
    }
    let params = req.params();
    let method = req.method.as_str();
    match (segments.as_slice(), method) {
        (["projects", _], "GET") => Answer::json(200, project(st)),
        (["projects", _, "merge_requests"], "GET") => list_requests(st, req, &params),
        (["projects", _, "merge_requests"], "POST") => create_request(st, &params),
        (["projects", _, "merge_requests", iid], "GET") => match request_of(st, iid) {
            Some(r) => Answer::json(200, mr_json(st, &r)),
            None => not_found("Not found"),
        },
        (["projects", _, "merge_requests", iid], "PUT") => update_request(st, iid, &params),
        (["projects", _, "merge_requests", iid, "notes"], "GET") => {
            let Some(r) = request_of(st, iid) else { return not_found("Not found") };
            let mut notes = r.notes.clone();
            if text(&params, "sort").as_deref() != Some("asc") {
                notes.reverse();
            }
            let items = notes.iter().map(|n| note_json(st, &r, n)).collect();
            paginate(st, req, &params, items)
        }
        (["projects", _, "merge_requests", iid, "notes"], "POST") => {
            let Some(r) = request_of(st, iid) else { return not_found("Not found") };
            let Some(body) = text(&params, "body").filter(|b| !b.is_empty()) else {
                return Answer::message(400, "400 (Bad request) \"body\" not given");
            };
            let user = st.user.clone();
            let note = st.note(r.iid, &body, &user, false).expect("the request exists");
            let r = request_of(st, iid).expect("the request exists");
            Answer::json(201, note_json(st, &r, &note))
        }
        (["projects", _, "protected_branches"], "GET") => {
            let search = text(&params, "search").unwrap_or_default();
            let items = st
                .rules
                .iter()
                .enumerate()
                .filter(|(_, r)| r.name.contains(&search))
                .map(|(i, r)| rule_json(i, r))
                .collect();
            paginate(st, req, &params, items)
        }
        (["projects", _, "protected_branches", name], "GET") => {
            match st.rules.iter().enumerate().find(|(_, r)| r.name == *name) {
                Some((i, r)) => Answer::json(200, rule_json(i, r)),
                None => not_found("Not found"),
            }
        }
        (["projects", _, "repository", "branches", branch], "GET") => match branch_json(st, branch)
        {
            Some(b) => Answer::json(200, b),
            None => not_found("Branch Not Found"),
        },
        (["projects", _, "repository", "branches", branch], "DELETE") => delete_branch(st, branch),
        _ => Answer::json(405, json!({"error": "405 Method Not Allowed"})),
    }
}

fn unknown_route() -> Answer {
    Answer::json(404, json!({"error": "404 Not Found"}))
}

fn request_of(st: &State, iid: &str) -> Option<MergeRequest> {
    st.requests.get(&iid.parse().ok()?).cloned()
}

fn delete_branch(st: &mut State, branch: &str) -> Answer {
    let Some(sha) = st.tip(branch) else { return not_found("Branch Not Found") };
    if st.default_branch().as_deref() == Some(branch) {
        return Answer::message(405, "Cannot remove HEAD branch");
    }
    let reference = format!("refs/heads/{branch}");
    if server_git(&st.bare).output(&["update-ref", "-d", &reference, &sha]).is_err() {
        return Answer::message(400, "Failed to remove branch");
    }
    // What a deletion through the API does to merge requests is what a pushed one does.
    hooks::record_event(&st.bare, &sha, &"0".repeat(sha.len()), &reference);
    st.apply_events();
    Answer::empty(204)
}

fn paginate(
    st: &State,
    req: &Request,
    params: &BTreeMap<String, Value>,
    items: Vec<Value>,
) -> Answer {
    let number = |key: &str, default: usize| match text(params, key) {
        None => Ok(default),
        Some(v) => v.parse::<usize>().map_err(|_| key.to_string()),
    };
    let (page, per_page) = match (number("page", 1), number("per_page", DEFAULT_PER_PAGE)) {
        (Ok(page), Ok(per_page)) => (page.max(1), per_page.clamp(1, st.per_page_cap)),
        (Err(key), _) | (_, Err(key)) => {
            return Answer::json(400, json!({"error": format!("{key} is invalid")}));
        }
    };
    let total = items.len();
    let pages = total.div_ceil(per_page).max(1);
    let first = if st.ignore_page { 0 } else { (page - 1) * per_page };
    let shown: Vec<Value> = items.into_iter().skip(first).take(per_page).collect();
    let mut answer = Answer::json(200, Value::Array(shown));
    let link = |p: usize| {
        let mut query: Vec<(String, String)> =
            req.query.iter().filter(|(k, _)| k != "page" && k != "per_page").cloned().collect();
        query.push(("page".into(), p.to_string()));
        query.push(("per_page".into(), per_page.to_string()));
        let query: Vec<String> =
            query.iter().map(|(k, v)| format!("{}={}", encode(k), encode(v))).collect();
        format!("{}{}?{}", st.url, req.path, query.join("&"))
    };
    let mut links = Vec::new();
    if page > 1 {
        links.push(format!("<{}>; rel=\"prev\"", link(page - 1)));
    }
    if page < pages {
        links.push(format!("<{}>; rel=\"next\"", link(page + 1)));
    }
    links.push(format!("<{}>; rel=\"first\"", link(1)));
    links.push(format!("<{}>; rel=\"last\"", link(pages)));
    answer.header("Link", &links.join(", "));
    let next = if page < pages { (page + 1).to_string() } else { String::new() };
    let prev = if page > 1 { (page - 1).to_string() } else { String::new() };
    answer.header("x-next-page", &next);
    answer.header("x-page", &page.to_string());
    answer.header("x-per-page", &per_page.to_string());
    answer.header("x-prev-page", &prev);
    answer.header("x-total", &total.to_string());
    answer.header("x-total-pages", &pages.to_string());
    answer
}

fn encode(text: &str) -> String {
    percent_encoding::utf8_percent_encode(text, percent_encoding::NON_ALPHANUMERIC).to_string()
}
