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
            RepoError::Read { .. } => false,
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
        Ok(Repo { inner, git, committer: std::sync::OnceLock::new() })
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
    pub fn has_commit_graph(&self) -> bool {
        let enabled = self
            .inner
            .config()
            .and_then(|config| config.get_bool("core.commitGraph"))
            .unwrap_or(true);
        let info = self.objects_dir().join("info");
        enabled
            && (info.join("commit-graph").is_file()
                || info.join("commit-graphs").join("commit-graph-chain").is_file())
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
    pub fn has_object(&self, id: ObjectId) -> bool {
        self.inner.odb().is_ok_and(|odb| odb.exists(git_oid(id)))
    }

    /// Returns what `reference` (a full ref name) points at, if it exists.
    pub fn reference_target(&self, reference: &str) -> Option<ObjectId> {
        self.inner.find_reference(reference).ok()?.resolve().ok()?.target().map(oid)
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

    /// Tells whether `ancestor` is `descendant` or one of its ancestors.
    pub fn is_ancestor(&self, ancestor: ObjectId, descendant: ObjectId) -> bool {
        ancestor == descendant
            || self
                .inner
                .graph_descendant_of(git_oid(descendant), git_oid(ancestor))
                .unwrap_or(false)
    }

    /// Returns the local branches with their tips and upstreams.
    pub fn local_branches(&self) -> Vec<LocalBranch> {
        let Ok(branches) = self.inner.branches(Some(git2::BranchType::Local)) else {
            return Vec::new();
        };
        branches
            .flatten()
            .filter_map(|(branch, _)| {
                let name = branch.name().ok().flatten()?.to_string();
                let tip = oid(branch.get().target()?);
                let upstream =
                    branch.upstream().ok().and_then(|u| u.get().name().ok().map(str::to_string));
                Some(LocalBranch { name, tip, upstream })
            })
            .collect()
    }

    /// Returns the values `reference` had, newest first, from its reflog (each entry's new
    /// and old value; empty when it has none). A ref's first update records the value it
    /// replaced, which is how a remote-tracking ref created by `clone` is still known.
    pub fn reflog(&self, reference: &str) -> Vec<ObjectId> {
        let Ok(log) = self.inner.reflog(reference) else { return Vec::new() };
        log.iter()
            .flat_map(|entry| [oid(entry.id_new()), oid(entry.id_old())])
            .filter(|id| id.as_bytes() != &[0; 20])
            .collect()
    }

    /// Returns every tag with the commit it peels to (tags of other objects left out).
    pub fn tags(&self) -> Vec<(String, ObjectId)> {
        let Ok(names) = self.inner.tag_names(None) else { return Vec::new() };
        names
            .iter()
            .flatten()
            .flatten()
            .filter_map(|name| {
                Some((name.to_string(), self.resolve_commit(&format!("refs/tags/{name}")).ok()?))
            })
            .collect()
    }

    /// Returns the branch HEAD names, or `None` when HEAD is detached or unborn.
    pub fn head_branch(&self) -> Option<String> {
        let head = self.inner.head().ok()?;
        head.is_branch().then(|| head.shorthand().ok().map(str::to_string)).flatten()
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

    /// Resolves the hex prefix of a commit named in a message (at least four digits) to a
    /// commit this repository has, or `None` when it has no such commit or the prefix is
    /// ambiguous.
    pub fn find_commit_by_prefix(&self, hex: &str) -> Option<ObjectId> {
        if hex.len() < 4 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.inner.find_commit_by_prefix(hex).ok().map(|c| oid(c.id()))
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

    /// Returns the names of the remotes configured in this repository.
    pub fn remote_names(&self) -> Vec<String> {
        self.inner
            .remotes()
            .map(|names| names.iter().flatten().flatten().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// Returns the URL of a configured remote.
    pub fn remote_url(&self, remote: &str) -> Option<String> {
        self.inner.find_remote(remote).ok()?.url().ok().map(str::to_string)
    }

    /// Checks that `remote` is a configured remote or a URL (see [`crate::git::names`]).
    pub fn check_remote(&self, remote: &str) -> Result<(), crate::git::names::NameError> {
        crate::git::names::check_remote(remote, &self.remote_names())
    }

    /// Returns the commits at which a shallow clone's history was cut (empty when the
    /// repository is complete).
    pub fn shallow_boundary(&self) -> Vec<ObjectId> {
        // The clone's `shallow` file, in the common directory: libgit2's `is_shallow` looks
        // in a linked worktree's own git directory and calls a shallow clone's worktree
        // complete.
        let text = std::fs::read(self.common_dir().join("shallow")).unwrap_or_default();
        text.split(|b| *b == b'\n')
            .filter_map(|line| ObjectId::from_hex(line.trim_ascii()))
            .collect()
    }

    /// Returns the blob at each of `paths` in `commit`'s tree (`None` where there is none).
    pub fn blobs_at(&self, commit: ObjectId, paths: &[&str]) -> Vec<Option<ObjectId>> {
        let tree = self.inner.find_commit(git_oid(commit)).and_then(|c| c.tree()).ok();
        paths
            .iter()
            .map(|path| {
                let entry = tree.as_ref()?.get_path(Path::new(path)).ok()?;
                (entry.kind() == Some(git2::ObjectType::Blob)).then(|| oid(entry.id()))
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
    pub fn signs_commits(&self) -> bool {
        self.inner.config().and_then(|c| c.get_bool("commit.gpgsign")).unwrap_or(false)
    }

    /// Returns the content of the file at `path` in `commit`, if there is such a blob.
    pub fn file_at(&self, commit: ObjectId, path: &str) -> Option<Vec<u8>> {
        let blob = self.blobs_at(commit, &[path]).pop().flatten()?;
        Some(self.inner.find_blob(git_oid(blob)).ok()?.content().to_vec())
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
