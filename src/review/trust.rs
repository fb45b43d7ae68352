//! Which certificates an HTTPS server's must chain to: the CA file git is told to trust
//! for the server, `SSL_CERT_FILE`, or the platform's trust store.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ureq::tls::{Certificate, PemItem, RootCerts};

use super::{GerritUrl, ReviewError};
use crate::git::Git;

/// The roots a server's certificate is checked against.
#[derive(Clone, Default)]
pub enum Trust {
    /// The platform's verifier and trust store: what curl and git trust on this machine.
    #[default]
    Platform,
    /// Only the certificates of one PEM file, as git does with `http.sslCAInfo`.
    CaFile {
        /// Where they came from, and why (`http.sslCAInfo`, `SSL_CERT_FILE`), for messages.
        source: String,
        certificates: Arc<Vec<Certificate<'static>>>,
    },
}

impl std::fmt::Debug for Trust {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

impl Trust {
    /// Finds what git would trust for `url`, first found wins: `GIT_SSL_CAINFO`; git's
    /// `http.<url>.sslCAInfo` or `http.sslCAInfo`; `SSL_CERT_FILE`; else the platform's
    /// trust store. A plain `http` URL needs none: nothing is read.
    pub fn find(git: &Git, url: &GerritUrl) -> Result<Trust, ReviewError> {
        Trust::find_for(git, url.as_str())
    }

    /// As [`Trust::find`], for any server's URL (a forge's).
    pub fn find_for(git: &Git, url: &str) -> Result<Trust, ReviewError> {
        if !url.starts_with("https://") {
            return Ok(Trust::Platform);
        }
        let env = |k| std::env::var_os(k).filter(|v| !v.is_empty()).map(PathBuf::from);
        if let Some(path) = env("GIT_SSL_CAINFO") {
            return Trust::ca_file(&path, "GIT_SSL_CAINFO");
        }
        match Trust::configured(git, url)? {
            Some(trust) => Ok(trust),
            None => Trust::from_environment(),
        }
    }

    /// Returns the certificates of the CA file git's configuration names for `url`
    /// (`http.<url>.sslCAInfo`, else `http.sslCAInfo`), if it names one.
    pub fn configured(git: &Git, url: &str) -> Result<Option<Trust>, ReviewError> {
        let configured = crate::git::credential::ssl_ca_info(git, url)
            .map_err(|e| ReviewError::GitConfig { url: url.to_string(), detail: e.to_string() })?;
        configured.map(|path| Trust::ca_file(&path, "http.sslCAInfo")).transpose()
    }

    /// Returns the certificates of `SSL_CERT_FILE` when it is set, else the platform's.
    pub fn from_environment() -> Result<Trust, ReviewError> {
        match std::env::var_os("SSL_CERT_FILE").filter(|v| !v.is_empty()) {
            Some(path) => Trust::ca_file(Path::new(&path), "SSL_CERT_FILE"),
            None => Ok(Trust::Platform),
        }
    }

    /// Reads the PEM certificates of `path`; `why` names the setting that gave it.
    pub fn ca_file(path: &Path, why: &str) -> Result<Trust, ReviewError> {
        let source = format!("{} ({why})", path.display());
        let bad = |detail: String| ReviewError::CaFile { file: source.clone(), detail };
        let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
        let mut certificates = Vec::new();
        for item in ureq::tls::parse_pem(&pem) {
            if let PemItem::Certificate(cert) = item.map_err(|e| bad(e.to_string()))? {
                certificates.push(cert);
            }
        }
        if certificates.is_empty() {
            return Err(bad("it holds no PEM certificate".to_string()));
        }
        Ok(Trust::CaFile { source, certificates: Arc::new(certificates) })
    }

    /// Says what is trusted, for messages.
    pub fn describe(&self) -> String {
        match self {
            Trust::Platform => "the platform's trust store".to_string(),
            Trust::CaFile { source, certificates } => {
                format!("the {} certificates of {source}", certificates.len())
            }
        }
    }

    pub(super) fn root_certs(&self) -> RootCerts {
        match self {
            Trust::Platform => RootCerts::PlatformVerifier,
            Trust::CaFile { certificates, .. } => RootCerts::Specific(Arc::clone(certificates)),
        }
    }
}
