//! HTTPS to a Gerrit behind a private CA, and the credential helpers git runs for it.
//!
//! The server is real TLS on 127.0.0.1 (rustls), its certificate signed by a CA made in
//! the test, which no trust store on the machine holds: as for a Gerrit inside a company
//! whose CA git and curl are told about with `http.sslCAInfo` or `SSL_CERT_FILE`. It
//! answers every request with one page of Gerrit's "Query Changes" (`)]}'` and one
//! `ChangeInfo`), enough to see a request go through.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use regraft::review::{
    Credentials, Gerrit, GerritUrl, Named, ReviewError, ReviewHost, ReviewStatus, Trust,
};
use tempfile::TempDir;

use crate::git;

/// A private CA's certificate written to `ca.pem`, and an HTTPS server whose certificate
/// (for `127.0.0.1`) it signed.
struct Served {
    _dir: TempDir,
    ca_file: PathBuf,
    url: String,
    /// The request lines the server read, after a handshake that succeeded.
    requests: Arc<Mutex<Vec<String>>>,
}

impl Served {
    fn gerrit_url(&self) -> GerritUrl {
        GerritUrl::parse(&self.url).expect("the server's URL parses")
    }
}

fn serve() -> Served {
    let dir = TempDir::new().expect("a temporary directory");
    let ca_key = rcgen::KeyPair::generate().expect("a CA key");
    let mut ca_params = rcgen::CertificateParams::new(Vec::new()).expect("CA parameters");
    ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(rcgen::DnType::CommonName, "Example Corp Private CA");
    ca_params.key_usages =
        vec![rcgen::KeyUsagePurpose::KeyCertSign, rcgen::KeyUsagePurpose::CrlSign];
    let ca = ca_params.self_signed(&ca_key).expect("the CA certificate");
    let ca_file = dir.path().join("ca.pem");
    std::fs::write(&ca_file, ca.pem()).expect("ca.pem written");
    let key = rcgen::KeyPair::generate().expect("a server key");
    let params = rcgen::CertificateParams::new(vec!["127.0.0.1".to_string()]).expect("params");
    let issuer = rcgen::Issuer::new(ca_params, ca_key);
    let cert = params.signed_by(&key, &issuer).expect("the server certificate");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("TLS versions")
    .with_no_client_auth()
    .with_single_cert(
        vec![cert.der().clone()],
        rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    )
    .expect("the server's TLS configuration");
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").expect("a port");
    let url = format!("https://{}", listener.local_addr().expect("addr"));
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&requests);
    std::thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let Ok(connection) = rustls::ServerConnection::new(Arc::clone(&config)) else {
                continue;
            };
            let mut tls = rustls::StreamOwned::new(connection, tcp);
            let mut head = Vec::new();
            let mut byte = [0u8; 1];
            // A client that refuses the certificate ends the handshake: read fails.
            while !head.ends_with(b"\r\n\r\n") {
                match tls.read(&mut byte) {
                    Ok(1) => head.push(byte[0]),
                    _ => break,
                }
            }
            if !head.ends_with(b"\r\n\r\n") {
                continue;
            }
            let head = String::from_utf8_lossy(&head);
            seen.lock().expect("requests").push(head.lines().next().unwrap_or("").to_string());
            let body = r#")]}'
[{"id":"openstack%2Fkolla~1","project":"openstack/kolla","branch":"stable/liberty","_number":1,"subject":"Change 1","change_id":"I0000000000000000000000000000000000000001","status":"NEW"}]"#;
            let _ = write!(
                tls,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    });
    Served { _dir: dir, ca_file, url, requests }
}

/// A repository whose git configuration the test writes.
fn repository(tmp: &TempDir) -> PathBuf {
    git(tmp.path(), &["init", "-q", "repo"]);
    tmp.path().join("repo")
}

fn listed(gerrit: &Gerrit) -> Result<Vec<(u64, ReviewStatus)>, ReviewError> {
    let open = gerrit.open_reviews("openstack/kolla", "stable/liberty")?;
    Ok(open.into_iter().map(|r| (r.number, r.status)).collect())
}

#[test]
fn a_certificate_from_a_private_ca_is_refused_until_git_is_told_of_the_ca() {
    let s = serve();
    let tmp = TempDir::new().expect("temp dir");
    let repo = repository(&tmp);
    let opened = crate::open(&repo);
    let url = s.gerrit_url();

    // Nothing configured: the platform's store does not hold the CA. (Trust::find would
    // also read GIT_SSL_CAINFO and SSL_CERT_FILE, which this process may have.)
    let trust =
        Trust::configured(opened.git(), url.as_str()).expect("nothing configured is no error");
    assert!(trust.is_none(), "{trust:?}");
    let err = listed(&Gerrit::anonymous(&url)).expect_err("an unknown CA");
    eprintln!("{err}");
    let text = err.to_string();
    assert!(matches!(err, ReviewError::Certificate { .. }), "{err:?}");
    assert!(text.contains(&s.url), "names the server: {text}");
    assert!(text.contains("UnknownIssuer"), "names the certificate problem: {text}");
    assert!(text.contains("http.sslCAInfo"), "says how to trust the CA: {text}");
    assert!(s.requests.lock().expect("requests").is_empty(), "no request got through");

    // A per-URL setting for another server changes nothing.
    let ca = s.ca_file.to_str().expect("a UTF-8 path");
    git(&repo, &["config", "http.https://review.example.org.sslCAInfo", ca]);
    let trust = Trust::configured(opened.git(), url.as_str()).expect("reads");
    assert!(trust.is_none(), "{trust:?}");

    // git's http.<url>.sslCAInfo for this server: the request goes through.
    git(&repo, &["config", &format!("http.{}.sslCAInfo", s.url), ca]);
    let trust = Trust::configured(opened.git(), url.as_str()).expect("reads").expect("the CA file");
    assert!(trust.describe().contains("ca.pem (http.sslCAInfo)"), "{trust:?}");
    let open = listed(&Gerrit::anonymous(&url).trusting(trust)).expect("trusted now");
    assert_eq!(open, vec![(1, ReviewStatus::New)]);
    let requests = s.requests.lock().expect("requests").clone();
    assert!(requests.iter().any(|r| r.starts_with("GET /changes/?q=status:open")), "{requests:?}");

    // The plain http.sslCAInfo serves every server.
    git(&repo, &["config", "--unset", &format!("http.{}.sslCAInfo", s.url)]);
    git(&repo, &["config", "http.sslCAInfo", ca]);
    let trust = Trust::configured(opened.git(), url.as_str()).expect("reads").expect("the CA file");
    assert_eq!(
        listed(&Gerrit::anonymous(&url).trusting(trust)).expect("trusted"),
        vec![(1, ReviewStatus::New)]
    );

    // A CA file that is not one is an error naming it, before any request.
    std::fs::write(tmp.path().join("empty.pem"), "").expect("written");
    let empty = tmp.path().join("empty.pem");
    git(&repo, &["config", "http.sslCAInfo", empty.to_str().expect("UTF-8")]);
    let err = Trust::configured(opened.git(), url.as_str()).expect_err("no certificate in it");
    assert!(err.to_string().contains("empty.pem"), "{err}");
}

/// Runs `git regraft abandon` (a dry run: it lists, anonymously) against the server, with
/// none of the machine's CA variables but `envs`.
fn abandon_dry_run(repo: &Path, s: &Served, envs: &[(&str, &Path)]) -> (Option<i32>, String) {
    let mut cmd = crate::regraft(repo);
    cmd.args(["abandon", "stable/liberty", "--gerrit", &s.url, "--project", "openstack/kolla"]);
    cmd.env_remove("GIT_SSL_CAINFO").env_remove("SSL_CERT_FILE").env_remove("SSL_CERT_DIR");
    for (key, value) in envs {
        cmd.env(key, value);
    }
    crate::run(&mut cmd)
}

#[test]
fn the_command_trusts_the_ca_that_ssl_cert_file_git_ssl_cainfo_or_git_config_names() {
    let s = serve();
    let tmp = TempDir::new().expect("temp dir");
    let repo = repository(&tmp);
    let (code, out) = abandon_dry_run(&repo, &s, &[]);
    assert_eq!(code, Some(2), "the user's configuration to mend: {out}");
    assert!(out.contains(&s.url) && out.contains("not trusted"), "{out}");
    assert!(out.contains("UnknownIssuer"), "{out}");
    for variable in ["SSL_CERT_FILE", "GIT_SSL_CAINFO"] {
        let (code, out) = abandon_dry_run(&repo, &s, &[(variable, &s.ca_file)]);
        assert_eq!(code, Some(0), "{variable}: {out}");
        assert!(out.contains("1 open reviews on stable/liberty"), "{out}");
        assert!(out.contains("  1 Change 1"), "{out}");
    }
    git(&repo, &["config", "http.sslCAInfo", s.ca_file.to_str().expect("UTF-8")]);
    let (code, out) = abandon_dry_run(&repo, &s, &[]);
    assert_eq!(code, Some(0), "http.sslCAInfo: {out}");
    assert!(out.contains("1 open reviews on stable/liberty"), "{out}");
}

#[test]
fn a_credential_helper_that_fails_is_reported_and_none_is_no_error() {
    let tmp = TempDir::new().expect("temp dir");
    let repo = repository(&tmp);
    let opened = crate::open(&repo);
    let url = GerritUrl::parse("https://review.example.org").expect("parses");
    // No helper: git finds nothing and may not ask.
    let none =
        Credentials::lookup(opened.git(), &url, Named::ByUser).expect("no credential is no error");
    assert!(none.is_none());
    let err = Credentials::find(opened.git(), &url, Named::ByUser).expect_err("none");
    assert!(matches!(err, ReviewError::NoCredentials { .. }), "{err:?}");
    // A helper that answers.
    git(
        &repo,
        &["config", "credential.helper", "!f() { echo username=rel; echo password=s3cret; }; f"],
    );
    let found = Credentials::lookup(opened.git(), &url, Named::ByUser).expect("the helper answers");
    assert_eq!(found.map(|c| c.user), Some("rel".to_string()));
    // A helper that fails: git goes on and finds nothing, and what the helper said is
    // the error.
    git(
        &repo,
        &[
            "config",
            "credential.helper",
            "!f() { echo 'vault: connection refused' >&2; exit 1; }; f",
        ],
    );
    let err =
        Credentials::lookup(opened.git(), &url, Named::ByUser).expect_err("the helper failed");
    assert!(matches!(err, ReviewError::CredentialHelper { .. }), "{err:?}");
    assert!(err.to_string().contains("vault: connection refused"), "{err}");
}
