//! The repository as the engine sees it; the only module that uses `git2` types.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::git::Git;
use crate::oid::ObjectId;

/// Errors from opening a repository or resolving names in it.
#[derive(Debug, thiserror::Error)]
pub enum RepoError {
    // libgit2's own words ("class=Repository (6); code=NotFound (-3)") say nothing more.
    #[error("{path} is not in a git repository")]
    NotARepository { path: PathBuf },
    #[error(
        "{repo} is a SHA-256 repository; regraft supports SHA-1 repositories (the library it reads them with does not open SHA-256 ones yet)"
    )]
    Sha256 { repo: PathBuf },
    #[error("unknown revision `{spec}`{}", did_you_mean(.suggestions))]
    UnknownRevision { spec: String, suggestions: Vec<String> },
    #[error("`{spec}` is ambiguous: {detail}")]
    Ambiguous { spec: String, detail: String },
    #[error("`{spec}` names a {kind}, not a commit")]
    NotACommit { spec: String, kind: String },
    #[error("reading {what} in {path}")]
    Read {
        what: String,
        path: PathBuf,
        #[source]
        source: git2::Error,
    },
    #[error("reading {path}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl crate::ErrorOrigin for RepoError {
    fn is_user_input(&self) -> bool {
        match self {
            RepoError::NotARepository { .. }
            | RepoError::Sha256 { .. }
            | RepoError::UnknownRevision { .. }
            | RepoError::Ambiguous { .. }
            | RepoError::NotACommit { .. } => true,
            // libgit2 failing to read what it found is a broken repository or a bug.
            RepoError::Read { .. } | RepoError::Io { .. } => false,
        }
    }
}

fn did_you_mean(suggestions: &[String]) -> String {
    match suggestions {
        [] => String::new(),
        [one] => format!(" (did you mean `{one}`?)"),
        many => format!(
            " (did you mean one of {}?)",
            many.iter().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A local branch, as [`Repo::local_branches`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalBranch {
    /// The short name (`stable/liberty`).
    pub name: String,
    pub tip: ObjectId,
    /// The full name of the remote-tracking ref it tracks (`refs/remotes/origin/...`).
    pub upstream: Option<String>,
}

/// What [`Repo::commit_info`] tells about a commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitInfo {
    pub parents: Vec<ObjectId>,
    pub summary: String,
}

/// What it takes to re-create a commit elsewhere: author, message and its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitOrigin {
    pub author_name: String,
    pub author_email: String,
    /// `<seconds> <+hhmm>`, as git's raw date format.
    pub author_date: String,
    pub message: Vec<u8>,
    /// The declared encoding, when the commit has one.
    pub encoding: Option<String>,
}

/// An open git repository, bare or not.
pub struct Repo {
    inner: git2::Repository,
    git: Git,
    /// `git var GIT_COMMITTER_IDENT`, asked once (see [`Repo::committer_ident`]).
    committer: std::sync::OnceLock<String>,
    /// The merge inputs remembered while a [`MergeInputsScope`] lives: `None` outside one;
    /// inside, what was read and for which arguments (see [`Repo::remember_merge_inputs`]).
    merge_inputs: std::sync::Mutex<Option<Option<RememberedInputs>>>,
}

/// Merge inputs read once, with what they were read for.
type RememberedInputs = (String, crate::git::merge_inputs::MergeInputs);

/// While this lives, the repository's merge inputs are read once (see
/// [`Repo::remember_merge_inputs`]); they are forgotten when it is dropped.
#[derive(Debug)]
#[must_use = "the inputs are remembered only while the scope lives"]
pub struct MergeInputsScope<'a> {
    repo: &'a Repo,
    /// This scope began remembering (an inner scope leaves that to the outer one).
    began: bool,
}

impl Drop for MergeInputsScope<'_> {
    fn drop(&mut self) {
        if self.began {
            *self.repo.merge_inputs.lock().unwrap_or_else(|e| e.into_inner()) = None;
        }
    }
}

impl std::fmt::Debug for Repo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Repo").field("git_dir", &self.inner.path()).finish()
    }
}

impl Repo {
    /// Opens the repository containing `path`, searching upwards as git does.
    pub fn discover(path: &Path) -> Result<Repo, RepoError> {
        // libgit2 hashes every object it reads to check its name (with SHA-1DC, the
        // collision-detecting SHA-1, slow on large blobs); git does not on ordinary reads,
        // only in fsck and when objects arrive. On nova, deps spent a fifth of its own time
        // there. A process-wide libgit2 setting, the same for every repository.
        git2::opts::strict_hash_verification(false);
        let inner =
            git2::Repository::discover(path).map_err(|_| match sha256_repository(path) {
                Some(repo) => RepoError::Sha256 { repo },
                None => RepoError::NotARepository { path: path.to_path_buf() },
            })?;
        let git = Git::new(inner.path());
        Ok(Repo {
            inner,
            git,
            committer: std::sync::OnceLock::new(),
            merge_inputs: std::sync::Mutex::new(None),
        })
    }

    /// Remembers the merge inputs ([`crate::git::merge_inputs::read`]) while the returned
    /// scope lives, so that several simulations of one command read them once. Only for a
    /// command that changes none of them meanwhile (no configuration, attribute file, index
    /// or replacement ref written): outside the scope every simulation reads them again.
    pub fn remember_merge_inputs(&self) -> MergeInputsScope<'_> {
        let mut memo = self.merge_inputs.lock().unwrap_or_else(|e| e.into_inner());
        let began = memo.is_none();
        if began {
            *memo = Some(None);
        }
        MergeInputsScope { repo: self, began }
    }

    /// Remembers `inputs`, read for `for_what` through another handle of this same
    /// repository, while the returned scope lives (see [`Repo::remember_merge_inputs`]):
    /// threads that each open the repository read them once between them.
    pub(crate) fn remember_merge_inputs_as(
        &self,
        for_what: &str,
        inputs: crate::git::merge_inputs::MergeInputs,
    ) -> MergeInputsScope<'_> {
        let mut memo = self.merge_inputs.lock().unwrap_or_else(|e| e.into_inner());
        let began = memo.is_none();
        if began {
            *memo = Some(Some((for_what.to_string(), inputs)));
        }
        MergeInputsScope { repo: self, began }
    }

    /// Returns the merge inputs remembered for `for_what`, reading them with `read` the
    /// first time; outside a [`MergeInputsScope`], always reads them.
    pub(crate) fn merge_inputs_with(
        &self,
        for_what: &str,
        read: impl FnOnce() -> crate::git::merge_inputs::MergeInputs,
    ) -> crate::git::merge_inputs::MergeInputs {
        let mut memo = self.merge_inputs.lock().unwrap_or_else(|e| e.into_inner());
        match &mut *memo {
            None => read(),
            Some(Some((what, inputs))) if what == for_what => inputs.clone(),
            Some(slot) => {
                let inputs = read();
                *slot = Some((for_what.to_string(), inputs.clone()));
                inputs
            }
        }
    }

    /// Makes every later `git` call ignore the user's and the system's configuration.
    pub fn isolate_git_config(&mut self) {
        self.git = self.git.clone().isolated();
    }

    /// Returns the runner for the `git` executable bound to this repository.
    pub fn git(&self) -> &Git {
        &self.git
    }

    /// Returns the git directory (`.git`, or the repository itself when bare).
    pub fn git_dir(&self) -> &Path {
        self.inner.path()
    }

    /// Returns the directory that linked worktrees share with the main one (objects, refs,
    /// config, `shallow`); the git directory itself outside linked worktrees.
    pub fn common_dir(&self) -> &Path {
        self.inner.commondir()
    }

    /// Returns the directory where regraft keeps its state (lock, journals, records, the
    /// patch-id cache): `regraft/` in the common git directory, so every worktree of a
    /// repository sees the same operation and takes the same lock.
    pub fn state_dir(&self) -> PathBuf {
        self.common_dir().join("regraft")
    }

    /// Tells whether git reads generation numbers here: a commit-graph file in the object
    /// directory and `core.commitGraph` not off. (One only an alternate has is not seen, which
    /// errs on the side of not relying on it.)
    pub fn has_commit_graph(&self) -> Result<bool, RepoError> {
        let enabled = self.config_bool("core.commitGraph")?.unwrap_or(true);
        let info = self.objects_dir().join("info");
        Ok(enabled
            && (info.join("commit-graph").is_file()
                || info.join("commit-graphs").join("commit-graph-chain").is_file()))
    }

    /// Tells whether `regraft.mergeCache` is surely set to false, without running git: in
    /// the files libgit2 reads, or in `GIT_CONFIG_KEY_<n>`/`GIT_CONFIG_VALUE_<n>`. Only a
    /// shortcut: where this says no, git's own reading of the configuration decides.
    pub(crate) fn merge_cache_off(&self) -> bool {
        let count: usize =
            std::env::var("GIT_CONFIG_COUNT").ok().and_then(|c| c.parse().ok()).unwrap_or(0);
        let from_env = (0..count.min(1000)).rev().find_map(|i| {
            let key = std::env::var(format!("GIT_CONFIG_KEY_{i}")).ok()?;
            key.eq_ignore_ascii_case("regraft.mergeCache")
                .then(|| std::env::var(format!("GIT_CONFIG_VALUE_{i}")).ok())
                .flatten()
        });
        match from_env {
            Some(value) => crate::git::config::says_false(&value),
            None => matches!(self.config_bool("regraft.mergeCache"), Ok(Some(false))),
        }
    }

    /// Returns the boolean `key` of the repository's configuration, `None` when unset.
    fn config_bool(&self, key: &str) -> Result<Option<bool>, RepoError> {
        let read = |source| RepoError::Read {
            what: format!("the configuration value {key}"),
            path: self.git_dir().to_path_buf(),
            source,
        };
        let config = self.inner.config().map_err(read)?;
        match config.get_bool(key) {
            Ok(value) => Ok(Some(value)),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
            Err(source) => Err(read(source)),
        }
    }

    /// Returns a [`RepoError::Read`] of `what` in this repository.
    fn read_error(&self, what: impl Into<String>) -> impl FnOnce(git2::Error) -> RepoError + '_ {
        let what = what.into();
        move |source| RepoError::Read { what, path: self.git_dir().to_path_buf(), source }
    }

    /// Returns the directory holding the repository's objects (shared by linked worktrees).
    pub fn objects_dir(&self) -> PathBuf {
        self.common_dir().join("objects")
    }

    /// Returns the tree of `commit`.
    pub fn tree_of(&self, commit: ObjectId) -> Result<ObjectId, RepoError> {
        self.inner.find_commit(git_oid(commit)).and_then(|c| c.tree()).map(|t| oid(t.id())).map_err(
            |source| RepoError::Read {
                what: format!("the tree of {}", commit.short()),
                path: self.git_dir().to_path_buf(),
                source,
            },
        )
    }

    /// Returns a commit's parents and subject.
    pub fn commit_info(&self, commit: ObjectId) -> Result<CommitInfo, RepoError> {
        let c = self.inner.find_commit(git_oid(commit)).map_err(|source| RepoError::Read {
            what: format!("commit {}", commit.short()),
            path: self.git_dir().to_path_buf(),
            source,
        })?;
        Ok(CommitInfo {
            parents: c.parent_ids().map(oid).collect(),
            summary: crate::text::message::subject(c.message_raw_bytes()),
        })
    }

    /// Returns the author, message and encoding of `commit`.
    pub fn commit_origin(&self, commit: ObjectId) -> Result<CommitOrigin, RepoError> {
        let c = self.inner.find_commit(git_oid(commit)).map_err(|source| RepoError::Read {
            what: format!("commit {}", commit.short()),
            path: self.git_dir().to_path_buf(),
            source,
        })?;
        let author = c.author();
        let when = author.when();
        let offset = when.offset_minutes();
        let sign = if offset < 0 { '-' } else { '+' };
        Ok(CommitOrigin {
            author_name: String::from_utf8_lossy(author.name_bytes()).into_owned(),
            author_email: String::from_utf8_lossy(author.email_bytes()).into_owned(),
            author_date: format!(
                "{} {sign}{:02}{:02}",
                when.seconds(),
                offset.abs() / 60,
                offset.abs() % 60
            ),
            message: c.message_raw_bytes().to_vec(),
            encoding: c.message_encoding().ok().flatten().map(str::to_string),
        })
    }

    /// Tells whether the object database has `id` (objects git wrote since this handle was
    /// opened included: libgit2 re-reads the database on a miss).
    pub fn has_object(&self, id: ObjectId) -> Result<bool, RepoError> {
        let odb = self.inner.odb().map_err(self.read_error("the object database"))?;
        Ok(odb.exists(git_oid(id)))
    }

    /// Returns what `reference` (a full ref name) points at, `None` when it does not exist
    /// (or is a symbolic ref to one that does not, or is no valid ref name).
    pub fn reference_target(&self, reference: &str) -> Result<Option<ObjectId>, RepoError> {
        let found = self.inner.find_reference(reference).and_then(|r| r.resolve());
        match found {
            Ok(r) => Ok(r.target().map(oid)),
            // A name git would not accept names no reference either.
            Err(e)
                if matches!(e.code(), git2::ErrorCode::NotFound | git2::ErrorCode::InvalidSpec) =>
            {
                Ok(None)
            }
            Err(source) => Err(self.read_error(format!("the reference {reference}"))(source)),
        }
    }

    /// Returns the commits reachable from `tip` but not from `base`, newest first.
    pub fn commits_since(&self, base: ObjectId, tip: ObjectId) -> Result<Vec<ObjectId>, RepoError> {
        let read = |source| RepoError::Read {
            what: format!("history between {} and {}", base.short(), tip.short()),
            path: self.git_dir().to_path_buf(),
            source,
        };
        let mut walk = self.inner.revwalk().map_err(read)?;
        walk.push(git_oid(tip)).map_err(read)?;
        walk.hide(git_oid(base)).map_err(read)?;
        walk.map(|r| r.map(oid).map_err(read)).collect()
    }

    /// Tells whether `ancestor` is `descendant` or one of its ancestors; an error when
    /// either is not a commit this repository has (the answer is then unknown, not no).
    pub fn is_ancestor(&self, ancestor: ObjectId, descendant: ObjectId) -> Result<bool, RepoError> {
        if ancestor == descendant {
            return Ok(true);
        }
        let what = || format!("whether {} contains {}", descendant.short(), ancestor.short());
        for id in [ancestor, descendant] {
            // libgit2 answers "no" about a commit it lacks instead of failing.
            self.inner.find_commit(git_oid(id)).map_err(self.read_error(what()))?;
        }
        self.inner
            .graph_descendant_of(git_oid(descendant), git_oid(ancestor))
            .map_err(self.read_error(what()))
    }

    /// Returns the local branches with their tips and upstreams (branches whose names are
    /// not UTF-8, and symbolic ones, left out).
    pub fn local_branches(&self) -> Result<Vec<LocalBranch>, RepoError> {
        let read = || self.read_error("the local branches");
        let mut found = Vec::new();
        for entry in self.inner.branches(Some(git2::BranchType::Local)).map_err(read())? {
            let (branch, _) = entry.map_err(read())?;
            let Some(name) = branch.name().map_err(read())?.map(str::to_string) else { continue };
            let Some(tip) = branch.get().target().map(oid) else { continue };
            let upstream = match branch.upstream() {
                Ok(u) => Some(String::from_utf8_lossy(u.get().name_bytes()).into_owned()),
                // No upstream configured, or its remote-tracking ref is not there.
                Err(e) if e.code() == git2::ErrorCode::NotFound => None,
                Err(source) => {
                    return Err(self.read_error(format!("the upstream of {name}"))(source));
                }
            };
            found.push(LocalBranch { name, tip, upstream });
        }
        Ok(found)
    }

    /// Returns the values `reference` had, newest first, from its reflog (each entry's new
    /// and old value; empty when it has none). A ref's first update records the value it
    /// replaced, which is how a remote-tracking ref created by `clone` is still known.
    pub fn reflog(&self, reference: &str) -> Result<Vec<ObjectId>, RepoError> {
        let log = match self.inner.reflog(reference) {
            Ok(log) => log,
            Err(e)
                if matches!(e.code(), git2::ErrorCode::NotFound | git2::ErrorCode::InvalidSpec) =>
            {
                return Ok(Vec::new());
            }
            Err(source) => {
                return Err(self.read_error(format!("the reflog of {reference}"))(source));
            }
        };
        Ok(log
            .iter()
            .flat_map(|entry| [oid(entry.id_new()), oid(entry.id_old())])
            .filter(|id| id.as_bytes() != &[0; 20])
            .collect())
    }

    /// Returns every tag with the commit it peels to (tags of other objects, and tags whose
    /// names are not UTF-8, left out).
    pub fn tags(&self) -> Result<Vec<(String, ObjectId)>, RepoError> {
        let names = self.inner.tag_names(None).map_err(self.read_error("the tags"))?;
        let mut found = Vec::new();
        for name in names.iter().flatten().flatten() {
            match self.resolve_commit(&format!("refs/tags/{name}")) {
                Ok(commit) => found.push((name.to_string(), commit)),
                Err(RepoError::NotACommit { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(found)
    }

    /// Returns the branch HEAD names, or `None` when HEAD is detached or unborn.
    pub fn head_branch(&self) -> Result<Option<String>, RepoError> {
        let head = match self.inner.head() {
            Ok(head) => head,
            Err(e)
                if matches!(
                    e.code(),
                    git2::ErrorCode::UnbornBranch | git2::ErrorCode::NotFound
                ) =>
            {
                return Ok(None);
            }
            Err(source) => return Err(self.read_error("HEAD")(source)),
        };
        Ok(head.is_branch().then(|| String::from_utf8_lossy(head.shorthand_bytes()).into_owned()))
    }

    /// Returns the work tree, or `None` for a bare repository.
    pub fn work_tree(&self) -> Option<&Path> {
        self.inner.workdir()
    }

    /// Resolves anything git accepts as a commit (branch, remote-tracking branch, tag,
    /// full or abbreviated id, `HEAD~2`...), peeling tags, to the commit's id.
    pub fn resolve_commit(&self, spec: &str) -> Result<ObjectId, RepoError> {
        let object = match self.inner.revparse_single(spec) {
            Ok(object) => object,
            Err(e) if e.code() == git2::ErrorCode::Ambiguous => {
                return Err(RepoError::Ambiguous {
                    spec: spec.to_string(),
                    detail: e.message().to_string(),
                });
            }
            Err(_) => {
                return Err(RepoError::UnknownRevision {
                    spec: spec.to_string(),
                    suggestions: self.near_names(spec),
                });
            }
        };
        let kind = object.kind().map_or("object", |k| k.str()).to_string();
        let commit = object
            .peel_to_commit()
            .map_err(|_| RepoError::NotACommit { spec: spec.to_string(), kind })?;
        Ok(oid(commit.id()))
    }

    /// Returns the full names of the references `name` means by git's rules, in the order
    /// git tries them (`refs/<name>`, `refs/tags/<name>`, `refs/heads/<name>`,
    /// `refs/remotes/<name>`, `refs/remotes/<name>/HEAD`), when it means more than one:
    /// git then warns "refname is ambiguous" and uses the first, and so does
    /// [`Repo::resolve_commit`]. Empty when `name` is not ambiguous, or is no plain name.
    pub fn ambiguous_refname(&self, name: &str) -> Result<Vec<String>, RepoError> {
        if name.is_empty() || name.starts_with("refs/") || name.contains(['~', '^', ':', '@']) {
            return Ok(Vec::new());
        }
        let mut found = Vec::new();
        for prefix in ["refs/", "refs/tags/", "refs/heads/", "refs/remotes/"] {
            let full = format!("{prefix}{name}");
            if self.has_reference(&full)? {
                found.push(full);
            }
        }
        let remote_head = format!("refs/remotes/{name}/HEAD");
        if self.has_reference(&remote_head)? {
            found.push(remote_head);
        }
        if found.len() < 2 {
            found.clear();
        }
        Ok(found)
    }

    fn has_reference(&self, full: &str) -> Result<bool, RepoError> {
        match self.inner.find_reference(full) {
            Ok(_) => Ok(true),
            Err(e)
                if matches!(e.code(), git2::ErrorCode::NotFound | git2::ErrorCode::InvalidSpec) =>
            {
                Ok(false)
            }
            Err(source) => Err(RepoError::Read {
                what: format!("the reference {full}"),
                path: self.git_dir().to_path_buf(),
                source,
            }),
        }
    }

    /// Resolves the hex prefix of a commit named in a message (four to forty digits) to a
    /// commit this repository has, or `None` when it has no such commit, the prefix is
    /// ambiguous or it is no SHA-1 prefix.
    pub fn find_commit_by_prefix(&self, hex: &str) -> Result<Option<ObjectId>, RepoError> {
        if !(4..=40).contains(&hex.len()) || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Ok(None);
        }
        match self.inner.find_commit_by_prefix(hex) {
            Ok(c) => Ok(Some(oid(c.id()))),
            // Another kind of object with that prefix is NotFound too.
            Err(e)
                if matches!(e.code(), git2::ErrorCode::NotFound | git2::ErrorCode::Ambiguous) =>
            {
                Ok(None)
            }
            Err(source) => Err(self.read_error(format!("the commit {hex}"))(source)),
        }
    }

    /// Returns every merge base of `a` and `b` (as `git merge-base --all`), or none when
    /// their histories are unrelated.
    pub fn merge_bases(&self, a: ObjectId, b: ObjectId) -> Result<Vec<ObjectId>, RepoError> {
        match self.inner.merge_bases(git_oid(a), git_oid(b)) {
            Ok(bases) => Ok(bases.iter().map(|id| oid(*id)).collect()),
            Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(Vec::new()),
            Err(source) => Err(RepoError::Read {
                what: format!("merge bases of {} and {}", a.short(), b.short()),
                path: self.git_dir().to_path_buf(),
                source,
            }),
        }
    }

    /// Returns the names of the remotes configured in this repository (names that are not
    /// UTF-8 left out).
    pub fn remote_names(&self) -> Result<Vec<String>, RepoError> {
        let names = self.inner.remotes().map_err(self.read_error("the remotes"))?;
        Ok(names.iter().flatten().flatten().map(str::to_string).collect())
    }

    /// Returns the URL of a configured remote, `None` when there is no such remote.
    pub fn remote_url(&self, remote: &str) -> Result<Option<String>, RepoError> {
        match self.inner.find_remote(remote) {
            Ok(r) => Ok(Some(String::from_utf8_lossy(r.url_bytes()).into_owned())),
            // A name git would not accept names no remote either.
            Err(e)
                if matches!(e.code(), git2::ErrorCode::NotFound | git2::ErrorCode::InvalidSpec) =>
            {
                Ok(None)
            }
            Err(source) => Err(self.read_error(format!("the remote {remote}"))(source)),
        }
    }

    /// Checks that `remote` is a configured remote or a URL (see [`crate::git::names`]).
    pub fn check_remote(&self, remote: &str) -> Result<(), crate::git::names::NameError> {
        let known = self.remote_names().map_err(|e| crate::git::names::NameError::Unreadable {
            what: "the remotes of this repository",
            detail: crate::git::names::chain(&e),
        })?;
        crate::git::names::check_remote(remote, &known)
    }

    /// Returns the commits at which a shallow clone's history was cut (empty when the
    /// repository is complete).
    pub fn shallow_boundary(&self) -> Result<Vec<ObjectId>, RepoError> {
        // The clone's `shallow` file, in the common directory: libgit2's `is_shallow` looks
        // in a linked worktree's own git directory and calls a shallow clone's worktree
        // complete.
        let path = self.common_dir().join("shallow");
        let text = match std::fs::read(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(RepoError::Io { path, source }),
        };
        Ok(text
            .split(|b| *b == b'\n')
            .filter_map(|line| ObjectId::from_hex(line.trim_ascii()))
            .collect())
    }

    /// Returns the blob at each of `paths` in `commit`'s tree (`None` where there is none).
    pub fn blobs_at(
        &self,
        commit: ObjectId,
        paths: &[&str],
    ) -> Result<Vec<Option<ObjectId>>, RepoError> {
        let tree = self
            .inner
            .find_commit(git_oid(commit))
            .and_then(|c| c.tree())
            .map_err(self.read_error(format!("the tree of {}", commit.short())))?;
        paths
            .iter()
            .map(|path| match tree.get_path(Path::new(path)) {
                Ok(entry) => {
                    Ok((entry.kind() == Some(git2::ObjectType::Blob)).then(|| oid(entry.id())))
                }
                Err(e) if e.code() == git2::ErrorCode::NotFound => Ok(None),
                Err(source) => Err(self
                    .read_error(format!("{path} in the tree of {}", commit.short()))(
                    source
                )),
            })
            .collect()
    }

    /// Returns the committer as git makes it here (`git var GIT_COMMITTER_IDENT`: name,
    /// email and date from the environment and this repository's configuration), asked once
    /// per handle: the commits of one run share it.
    pub fn committer_ident(&self) -> Result<String, crate::git::GitError> {
        if let Some(ident) = self.committer.get() {
            return Ok(ident.clone());
        }
        let out = self.git.output(&["var", "GIT_COMMITTER_IDENT"])?;
        let ident = String::from_utf8_lossy(&out).trim().to_string();
        Ok(self.committer.get_or_init(|| ident).clone())
    }

    /// Writes a commit object from its raw text (headers, blank line, message) and returns
    /// its id.
    pub fn write_commit(&self, raw: &[u8]) -> Result<ObjectId, RepoError> {
        let odb = self.inner.odb().map_err(|source| RepoError::Read {
            what: "the object database".into(),
            path: self.git_dir().to_path_buf(),
            source,
        })?;
        odb.write(git2::ObjectType::Commit, raw).map(oid).map_err(|source| RepoError::Read {
            what: "a new commit".into(),
            path: self.git_dir().to_path_buf(),
            source,
        })
    }

    /// Moves `reference` from `old` to `new` only while it still is `old` (a reflog entry
    /// with `message`, as `git update-ref -m` writes); `false` when it moved meanwhile.
    pub fn move_ref(
        &self,
        reference: &str,
        new: ObjectId,
        old: ObjectId,
        message: &str,
    ) -> Result<bool, RepoError> {
        match self.inner.reference_matching(reference, git_oid(new), true, git_oid(old), message) {
            Ok(_) => Ok(true),
            Err(e)
                if e.code() == git2::ErrorCode::Modified || e.code() == git2::ErrorCode::Locked =>
            {
                Ok(false)
            }
            Err(source) => Err(RepoError::Read {
                what: format!("the move of {reference}"),
                path: self.git_dir().to_path_buf(),
                source,
            }),
        }
    }

    /// Tells whether git signs the commits it makes here (`commit.gpgSign`).
    pub fn signs_commits(&self) -> Result<bool, RepoError> {
        Ok(self.config_bool("commit.gpgsign")?.unwrap_or(false))
    }

    /// Returns the content of the file at `path` in `commit`, if there is such a blob.
    pub fn file_at(&self, commit: ObjectId, path: &str) -> Result<Option<Vec<u8>>, RepoError> {
        let Some(blob) = self.blobs_at(commit, &[path])?.pop().flatten() else { return Ok(None) };
        let blob = self
            .inner
            .find_blob(git_oid(blob))
            .map_err(self.read_error(format!("{path} in {}", commit.short())))?;
        Ok(Some(blob.content().to_vec()))
    }

    /// Returns the changed blocks between two blobs (no context) and the number of lines of
    /// `new`; `None` when either is binary.
    pub fn line_diff(&self, old: ObjectId, new: ObjectId) -> Result<Option<LineDiff>, RepoError> {
        line_diff(&self.inner, old, new)
    }

    /// Returns [`Repo::line_diff`] of every pair, computed by `jobs` threads at once, each
    /// with its own handle on the repository and a run of neighbouring pairs (so the
    /// versions of a file one thread reads are close in history).
    pub fn line_diffs(
        &self,
        pairs: &[(ObjectId, ObjectId)],
        jobs: usize,
    ) -> Result<HashMap<(ObjectId, ObjectId), Option<LineDiff>>, RepoError> {
        let run = pairs.len().div_ceil(jobs.max(1)).max(1);
        // A libgit2 handle is not shared between threads; each opens its own.
        let git_dir = self.git_dir();
        let results = std::thread::scope(|scope| {
            let handles: Vec<_> = pairs
                .chunks(run)
                .map(|chunk| {
                    scope.spawn(move || {
                        let inner =
                            git2::Repository::open(git_dir).map_err(|source| RepoError::Read {
                                what: "the repository for a line-diff thread".to_string(),
                                path: git_dir.to_path_buf(),
                                source,
                            })?;
                        chunk
                            .iter()
                            .map(|&(old, new)| Ok(((old, new), line_diff(&inner, old, new)?)))
                            .collect::<Result<Vec<_>, RepoError>>()
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("a line diff thread does not panic"))
                .collect::<Vec<_>>()
        });
        let mut out = HashMap::with_capacity(pairs.len());
        for result in results {
            out.extend(result?);
        }
        Ok(out)
    }

    /// Returns up to three reference names that look like `spec`, for "did you mean".
    /// Best effort: it only adds to an error already being reported, so references it
    /// cannot read are left out rather than hiding that error.
    fn near_names(&self, spec: &str) -> Vec<String> {
        let Ok(references) = self.inner.references() else {
            return Vec::new();
        };
        let limit = (spec.chars().count() / 4).max(2);
        let mut scored: Vec<(usize, String)> = references
            .flatten()
            .filter_map(|r| r.shorthand().ok().map(str::to_string))
            .filter_map(|name| {
                // `liberty` for `stable/liberty` or `origin/stable/liberty` is a near name too.
                let distance = if name.ends_with(&format!("/{spec}")) {
                    1
                } else {
                    strsim::damerau_levenshtein(spec, &name)
                };
                (distance <= limit).then_some((distance, name))
            })
            .collect();
        scored.sort();
        scored.dedup_by(|a, b| a.1 == b.1);
        scored.into_iter().take(3).map(|(_, name)| name).collect()
    }
}

fn oid(id: git2::Oid) -> ObjectId {
    let mut bytes = [0u8; 20];
    bytes.copy_from_slice(&id.as_bytes()[..20]);
    ObjectId::from_bytes(bytes)
}

/// Returns the repository containing `path` when its configuration says its objects are
/// SHA-256 (`extensions.objectFormat = sha256`), which libgit2 refuses to open.
fn sha256_repository(path: &Path) -> Option<PathBuf> {
    let start = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    start.ancestors().find_map(|dir| {
        [dir.join(".git").join("config"), dir.join("config")].into_iter().find_map(|config| {
            let text = std::fs::read_to_string(&config).ok()?;
            let sha256 = text.lines().any(|line| {
                let line = line.trim().to_ascii_lowercase();
                line.split_once('=').is_some_and(|(key, value)| {
                    key.trim() == "objectformat" && value.trim() == "sha256"
                })
            });
            sha256.then(|| dir.to_path_buf())
        })
    })
}

fn git_oid(id: ObjectId) -> git2::Oid {
    git2::Oid::from_bytes(id.as_bytes()).expect("20 bytes is a valid SHA-1 id")
}

/// The changed blocks between two blobs and the number of lines of the new one.
pub type LineDiff = (Vec<crate::text::changes::Block>, u32);

fn line_diff(
    repo: &git2::Repository,
    old: ObjectId,
    new: ObjectId,
) -> Result<Option<LineDiff>, RepoError> {
    let read = |source| RepoError::Read {
        what: format!("blobs {} and {}", old.short(), new.short()),
        path: repo.path().to_path_buf(),
        source,
    };
    let old_blob = repo.find_blob(git_oid(old)).map_err(read)?;
    let new_blob = repo.find_blob(git_oid(new)).map_err(read)?;
    if old_blob.is_binary() || new_blob.is_binary() {
        return Ok(None);
    }
    let content = new_blob.content();
    let lines = content.iter().filter(|b| **b == b'\n').count()
        + usize::from(content.last().is_some_and(|b| *b != b'\n'));
    let mut options = git2::DiffOptions::new();
    options.context_lines(0).indent_heuristic(true);
    let patch = git2::Patch::from_blobs(&old_blob, None, &new_blob, None, Some(&mut options))
        .map_err(read)?;
    let mut blocks = Vec::new();
    for i in 0..patch.num_hunks() {
        let (hunk, _) = patch.hunk(i).map_err(read)?;
        let old_start = if hunk.old_lines() == 0 { hunk.old_start() + 1 } else { hunk.old_start() };
        let new_start = if hunk.new_lines() == 0 { hunk.new_start() + 1 } else { hunk.new_start() };
        blocks.push(crate::text::changes::Block {
            old_start,
            old_count: hunk.old_lines(),
            new_start,
            new_count: hunk.new_lines(),
        });
    }
    Ok(Some((blocks, u32::try_from(lines).unwrap_or(u32::MAX))))
}
