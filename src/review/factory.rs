//! The one way the executor reaches a review host: a [`HostFactory`] connects a Gerrit or
//! a forge for a plan's steps, checks and aborts, with the credentials the host may receive
//! and one timeout for every request.

use std::time::Duration;

use super::forge::{ForgeHost, RequestHost};
use super::http::Observer;
use super::{Credentials, DEFAULT_TIMEOUT, Gerrit, GerritUrl, Named, ReviewError, ReviewHost};
use crate::git::Git;

/// The longest `--timeout` a command takes, in seconds: an hour.
pub const MAX_TIMEOUT_SECONDS: u64 = 3600;

/// Connects the review hosts a plan talks to. Who named a host ([`Named`]) decides which
/// credentials it gets: the environment's only go to a host the user named (or a forge's
/// public server), never to one a file named.
pub trait HostFactory: Sync {
    /// Returns the time one request may take, its retries and rate-limit waits included.
    fn timeout(&self) -> Duration;

    /// Returns the credentials for the Gerrit at `url`; none found is
    /// [`ReviewError::NoCredentials`]. Asked before a plan starts, so that missing ones
    /// change nothing.
    fn gerrit_credentials(
        &self,
        git: &Git,
        url: &GerritUrl,
        named: Named,
    ) -> Result<Credentials, ReviewError> {
        Credentials::find(git, url, named)
    }

    /// Connects to the Gerrit at `url` with its credentials.
    fn gerrit(
        &self,
        git: &Git,
        url: &GerritUrl,
        named: Named,
    ) -> Result<Box<dyn ReviewHost>, ReviewError>;

    /// Connects to the Gerrit at `url` without credentials, for what anyone may read (the
    /// open reviews a `.gitreview` names while planning).
    fn gerrit_anonymous(
        &self,
        git: &Git,
        url: &GerritUrl,
    ) -> Result<Box<dyn ReviewHost>, ReviewError>;

    /// Connects to `repository` on the forge `host`, with the token the host may receive
    /// ([`super::forge::find_token`]), anonymously when there is none.
    fn forge(
        &self,
        git: &Git,
        host: &ForgeHost,
        repository: &str,
        named: Named,
    ) -> Result<Box<dyn RequestHost>, ReviewError>;
}

/// The hosts as they are: each client built with the timeout, the certificates git trusts
/// for the host, and an observer told of rate-limit waits and retries.
#[derive(Clone)]
pub struct Connector {
    timeout: Duration,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Connector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connector")
            .field("timeout", &self.timeout)
            .field("observed", &self.observer.is_some())
            .finish()
    }
}

impl Default for Connector {
    fn default() -> Self {
        Connector::new(DEFAULT_TIMEOUT)
    }
}

impl Connector {
    /// Returns a connector whose every request ends within `timeout`.
    pub fn new(timeout: Duration) -> Connector {
        Connector { timeout, observer: None }
    }

    /// Returns `gerrit`, telling this connector's observer of its waits and retries.
    fn observing(&self, gerrit: Gerrit) -> Box<dyn ReviewHost> {
        Box::new(match &self.observer {
            Some(observer) => gerrit.observed(observer.clone()),
            None => gerrit,
        })
    }

    /// Returns this connector telling `observer` of every client's waits and retries.
    pub fn observed(mut self, observer: Observer) -> Connector {
        self.observer = Some(observer);
        self
    }
}

impl HostFactory for Connector {
    fn timeout(&self) -> Duration {
        self.timeout
    }

    fn gerrit(
        &self,
        git: &Git,
        url: &GerritUrl,
        named: Named,
    ) -> Result<Box<dyn ReviewHost>, ReviewError> {
        Ok(self.observing(Gerrit::connect(git, url, named, self.timeout)?))
    }

    fn gerrit_anonymous(
        &self,
        git: &Git,
        url: &GerritUrl,
    ) -> Result<Box<dyn ReviewHost>, ReviewError> {
        let trust = super::Trust::find(git, url)?;
        Ok(self.observing(Gerrit::with(url, None, self.timeout).trusting(trust)))
    }

    fn forge(
        &self,
        git: &Git,
        host: &ForgeHost,
        repository: &str,
        named: Named,
    ) -> Result<Box<dyn RequestHost>, ReviewError> {
        super::forge::connect(git, host, repository, named, self.timeout, self.observer.clone())
    }
}
