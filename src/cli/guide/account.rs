//! The account on a review server, checked before the guide asks to carry anything out:
//! missing or refused credentials are said, with how to give them, while nothing depends on
//! them yet (issue 26, item 4).

use std::time::Duration;

use regraft::git::repo::Repo;
use regraft::review::{Credentials, Gerrit, GerritUrl, HttpCall, Named, ReviewError, Trust};

use super::screen::say;

/// How long the check may take: one call, one retry.
const WAIT: Duration = Duration::from_secs(10);

/// Checks that `gerrit` takes the credentials a run would send it (`named` says who named
/// the server): finds them as the run does, says which server it asks and what, then asks
/// for the account they sign in as (`GET /a/accounts/self`). Returns the account in words,
/// else what is wrong and exactly how to mend it; a secret is never part of either.
pub(super) fn check(repo: &Repo, gerrit: &GerritUrl, named: Named) -> Result<String, String> {
    let credentials = match Credentials::lookup(repo.git(), gerrit, named) {
        Ok(Some(credentials)) => credentials,
        Ok(None) => return Err(missing(repo, gerrit, named)),
        // Plain HTTP not allowed (with the setting that allows it), or a helper that failed.
        Err(e) => return Err(format!("{e}.")),
    };
    let user = credentials.user.clone();
    let trust = Trust::find(repo.git(), gerrit).map_err(|e| format!("{e}."))?;
    let host = Gerrit::with(gerrit, Some(credentials), WAIT).with_retries(1).trusting(trust);
    say(&format!(
        "Checking the account `{user}` on {gerrit} (GET {})...",
        host.url_of(&HttpCall::own_account())
    ));
    match host.own_account() {
        Ok(account) => {
            let mut about: Vec<String> = Vec::new();
            about.extend(account.name.clone());
            about.extend(account.email.clone());
            about.push(format!("account {}", account.id));
            Ok(format!("`{user}` ({})", about.join(", ")))
        }
        Err(e @ ReviewError::Unauthorized { status, .. }) => Err(format!(
            "It answered HTTP {status}: {}.",
            e.hint().unwrap_or_else(|| e.to_string())
        )),
        Err(e @ (ReviewError::NoAnswer { .. } | ReviewError::Transport { .. })) => {
            Err(format!("{gerrit} did not answer ({e}): the account could not be checked."))
        }
        Err(e) => Err(format!("{e}: the account could not be checked.")),
    }
}

/// Says that no credentials were found for `gerrit`, and every way to give them.
fn missing(repo: &Repo, gerrit: &GerritUrl, named: Named) -> String {
    match named {
        Named::ByUser => format!(
            "No credentials for {gerrit}. Give them in one of these ways: set {} and {} before starting the guide (they go only to a server you name, as this one); store them for {gerrit} with your git credential helper (`git credential approve`); or give the URL as {} at the question (for this guide's run only: never shown, never stored).",
            regraft::review::USER_VAR,
            regraft::review::PASSWORD_VAR,
            with_userinfo(gerrit),
        ),
        // What `find` says: why the environment's were withheld, when they were.
        Named::InFile(_) => Credentials::find(repo.git(), gerrit, named)
            .err()
            .map_or_else(|| format!("No credentials for {gerrit}."), |e| format!("{e}.")),
    }
}

/// `gerrit` written with `USER:PASSWORD@` where a password goes, as an example to type.
fn with_userinfo(gerrit: &GerritUrl) -> String {
    let url = gerrit.as_str();
    match url.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://USER:PASSWORD@{rest}"),
        None => url.to_string(),
    }
}
