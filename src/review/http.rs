//! The REST transport every review host shares: one request with a deadline, retries of
//! transient failures, rate limits waited out within the deadline, certificates checked
//! against the repository's trust, and the credential sent as a header that never shows.
//!
//! What the rate-limit handling follows:
//! - RFC 9110 §10.2.3 `Retry-After`: seconds (or an HTTP date, which is not waited on
//!   here: a server that names a date is answered with [`ReviewError::RateLimited`]);
//!   RFC 6585 §4 `429 Too Many Requests`.
//! - GitHub, "Rate limits for the REST API": a 403 or 429 with `x-ratelimit-remaining: 0`
//!   waits until `x-ratelimit-reset` (seconds since 1970, UTC); with `retry-after`, that
//!   many seconds.
//! - GitLab, "Rate limits": 429 with `Retry-After`, and `RateLimit-Reset` (seconds since
//!   1970) beside `RateLimit-Remaining`.
//! - Gerrit, "Quota" (rest-api.html): 429 when a quota is exceeded.

use std::sync::Arc;
use std::time::{Duration, Instant};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::{Deserialize, Serialize};

use super::{ReviewError, Secret, Trust};

/// The HTTP methods regraft's calls use, written as HTTP writes them (`GET`...), which is
/// how journals and saved plans hold them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    /// Returns the method as HTTP writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One call to a host's REST API, as data: what a plan shows and journals is what the
/// client sends.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HttpCall {
    pub method: Method,
    /// The path after the API's root, encoded exactly as it is sent (a query included).
    pub path: String,
    /// The JSON body, exactly as sent.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub body: Option<String>,
}

impl HttpCall {
    /// Returns a call with `body` written as JSON.
    pub fn new(method: Method, path: String, body: Option<serde_json::Value>) -> HttpCall {
        HttpCall { method, path, body: body.map(|b| b.to_string()) }
    }
}

/// Everything but the unreserved characters of RFC 3986 §2.3 is escaped.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Percent-encodes one path segment or query value (`stable/liberty` → `stable%2Fliberty`).
pub fn encode(segment: &str) -> String {
    utf8_percent_encode(segment, SEGMENT).to_string()
}

/// What the transport tells its observer while it waits.
#[derive(Debug, Clone, PartialEq)]
pub enum Note {
    /// A rate limit is waited out: `seconds` from now, for `url`.
    RateLimited { server: String, url: String, seconds: u64 },
    /// A transient failure is tried again after `pause`.
    Retrying { server: String, url: String, attempt: u32, detail: String },
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Note::RateLimited { server, seconds, .. } => {
                write!(f, "{server} asks to wait {seconds} s (rate limit); waiting")
            }
            Note::Retrying { server, attempt, detail, .. } => {
                write!(f, "{server}: {detail}; trying again ({attempt})")
            }
        }
    }
}

/// Who is told of waits and retries (a progress line, a test).
pub type Observer = Arc<dyn Fn(&Note) + Send + Sync>;

/// One request.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub method: Method,
    /// The absolute URL.
    pub url: &'a str,
    /// A JSON body, sent with `Content-Type: application/json`.
    pub body: Option<&'a str>,
    /// The whole `Authorization` (or other credential) header: name and secret value.
    pub auth: Option<(&'a str, &'a Secret)>,
    /// Further headers (`Accept`...).
    pub headers: &'a [(&'a str, &'a str)],
}

/// A response whose status the caller reads (none is turned into an error here but the
/// transient ones and rate limits that could not be waited out).
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub body: String,
    /// Header names in lower case.
    headers: Vec<(String, String)>,
}

impl Response {
    /// Returns a header's value, by a name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers.iter().find(|(n, _)| *n == name).map(|(_, v)| v.as_str())
    }

    /// Tells whether the status is 2xx.
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// How long one call may take, by default, retries and waits included.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// One server's transport.
#[derive(Clone)]
pub struct Http {
    /// The server, as messages name it (no credentials).
    server: String,
    agent: ureq::Agent,
    timeout: Duration,
    trust: Trust,
    /// How many times a transient failure (5xx, connection trouble) is tried again.
    retries: u32,
    /// A POST that may have been carried out (a 5xx, or a failure once it was sent) is not
    /// sent again (see [`Http::posting_once`]).
    posts_once: bool,
    observer: Option<Observer>,
}

impl std::fmt::Debug for Http {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Http")
            .field("server", &self.server)
            .field("timeout", &self.timeout)
            .field("trust", &self.trust)
            .field("retries", &self.retries)
            .finish()
    }
}

impl Http {
    /// Returns a transport for `server` (its name in messages), whose calls end within
    /// `timeout`, checking certificates against `trust`.
    pub fn new(server: impl Into<String>, timeout: Duration, trust: Trust) -> Http {
        Http {
            server: server.into(),
            agent: agent(timeout, &trust),
            timeout,
            trust,
            retries: 3,
            posts_once: false,
            observer: None,
        }
    }

    /// Returns this transport sending a POST again only when it surely was not carried out
    /// (a rate limit, a connection never made), as RFC 9110 §9.2.2 asks of a request that
    /// is not idempotent: a comment or a pull request created twice cannot be taken back,
    /// while a failed step is resumed by reading what is there first.
    pub fn posting_once(mut self) -> Http {
        self.posts_once = true;
        self
    }

    /// Returns this transport trying a transient failure again `retries` times (default 3).
    pub fn with_retries(mut self, retries: u32) -> Http {
        self.retries = retries;
        self
    }

    /// Returns this transport checking certificates against `trust`.
    pub fn trusting(mut self, trust: Trust) -> Http {
        self.agent = agent(self.timeout, &trust);
        self.trust = trust;
        self
    }

    /// Returns this transport telling `observer` of its waits and retries.
    pub fn observed(mut self, observer: Observer) -> Http {
        self.observer = Some(observer);
        self
    }

    /// Returns the server's name in messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Returns the time one call may take.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    fn tell(&self, note: Note) {
        if let Some(observer) = &self.observer {
            observer(&note);
        }
    }

    /// Sends one request. The timeout bounds the whole call: retries, their pauses and
    /// rate-limit waits included. 5xx answers and connection failures are tried again with
    /// backoff; a rate limit is waited out when the wait fits in the time left, else it is
    /// [`ReviewError::RateLimited`]. Every other status is returned for the caller to read.
    pub fn send(&self, request: &Request) -> Result<Response, ReviewError> {
        let method = request.method;
        let url = request.url;
        let started = Instant::now();
        let no_answer = || ReviewError::NoAnswer {
            method,
            url: url.to_string(),
            server: self.server.clone(),
            seconds: self.timeout.as_secs_f64(),
        };
        let mut attempt = 0;
        loop {
            let left = self.timeout.saturating_sub(started.elapsed());
            if left.is_zero() {
                return Err(no_answer());
            }
            let mut maybe_done = true;
            let transient = match self.once(request, left) {
                Ok(response) if response.status >= 500 => ReviewError::Status {
                    method,
                    url: url.to_string(),
                    status: response.status,
                    body: response.body.trim().to_string(),
                },
                Ok(response) => match rate_limit_wait(&response, now_epoch()) {
                    None => return Ok(response),
                    Some(wait) => {
                        let left = self.timeout.saturating_sub(started.elapsed());
                        match wait {
                            Some(seconds) if Duration::from_secs(seconds) < left => {
                                self.tell(Note::RateLimited {
                                    server: self.server.clone(),
                                    url: url.to_string(),
                                    seconds,
                                });
                                // A reset in the past still gets a moment, so the loop
                                // cannot spin on a server whose clock is behind.
                                std::thread::sleep(
                                    Duration::from_secs(seconds)
                                        .max(Duration::from_millis(200).min(left / 2)),
                                );
                                continue;
                            }
                            _ => {
                                return Err(ReviewError::RateLimited {
                                    method,
                                    url: url.to_string(),
                                    server: self.server.clone(),
                                    seconds: wait,
                                    left: left.as_secs(),
                                });
                            }
                        }
                    }
                },
                // A certificate that is not trusted stays so: no retry.
                Err(e) if certificate_problem(&e) => {
                    return Err(ReviewError::Certificate {
                        method,
                        url: url.to_string(),
                        detail: e.to_string(),
                        trusted: self.trust.describe(),
                    });
                }
                // The time for the whole call is used up.
                Err(ureq::Error::Timeout(_)) => return Err(no_answer()),
                Err(e) => {
                    maybe_done =
                        !matches!(e, ureq::Error::ConnectionFailed | ureq::Error::HostNotFound);
                    ReviewError::Transport { method, url: url.to_string(), detail: e.to_string() }
                }
            };
            if attempt >= self.retries || (self.posts_once && method == Method::Post && maybe_done)
            {
                return Err(transient);
            }
            attempt += 1;
            let pause = Duration::from_millis(100 << attempt);
            if started.elapsed() + pause >= self.timeout {
                return Err(transient);
            }
            self.tell(Note::Retrying {
                server: self.server.clone(),
                url: url.to_string(),
                attempt,
                detail: transient.to_string(),
            });
            std::thread::sleep(pause);
        }
    }

    /// Sends the request once, with `left` for all of it.
    fn once(&self, request: &Request, left: Duration) -> Result<Response, ureq::Error> {
        let mut headers: Vec<(&str, &str)> = request.headers.to_vec();
        if let Some((name, secret)) = request.auth {
            headers.push((name, secret.reveal()));
        }
        let url = request.url;
        let result = match request.method {
            Method::Get | Method::Delete => {
                let builder = if request.method == Method::Get {
                    self.agent.get(url)
                } else {
                    self.agent.delete(url)
                };
                let mut builder = builder.config().timeout_global(Some(left)).build();
                for (name, value) in &headers {
                    builder = builder.header(*name, *value);
                }
                builder.call()
            }
            Method::Post | Method::Put | Method::Patch => {
                let builder = match request.method {
                    Method::Post => self.agent.post(url),
                    Method::Put => self.agent.put(url),
                    _ => self.agent.patch(url),
                };
                let mut builder = builder
                    .config()
                    .timeout_global(Some(left))
                    .build()
                    .header("Content-Type", "application/json");
                for (name, value) in &headers {
                    builder = builder.header(*name, *value);
                }
                builder.send(request.body.unwrap_or("{}"))
            }
        };
        let mut response = result?;
        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = response.body_mut().read_to_string()?;
        Ok(Response { status, body, headers })
    }
}

fn now_epoch() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// Tells whether a response is a rate limit, and how many seconds it asks to wait (`None`
/// inside: a limit whose end cannot be read). Not a rate limit: `None`.
fn rate_limit_wait(response: &Response, now: u64) -> Option<Option<u64>> {
    let seconds = |name: &str| response.header(name).and_then(|v| v.trim().parse::<u64>().ok());
    let exhausted = ["x-ratelimit-remaining", "ratelimit-remaining"]
        .iter()
        .any(|name| response.header(name).is_some_and(|v| v.trim() == "0"));
    let limited = response.status == 429
        || (response.status == 403 && exhausted)
        || (response.status == 403 && response.header("retry-after").is_some());
    if !limited {
        return None;
    }
    if let Some(after) = seconds("retry-after") {
        return Some(Some(after));
    }
    let reset = seconds("x-ratelimit-reset").or_else(|| seconds("ratelimit-reset"));
    Some(reset.map(|at| at.saturating_sub(now)))
}

/// Returns an agent that leaves statuses to the caller, with `timeout` per request and
/// `trust`'s roots.
fn agent(timeout: Duration, trust: &Trust) -> ureq::Agent {
    let tls = ureq::tls::TlsConfig::builder().root_certs(trust.root_certs()).build();
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout))
        .tls_config(tls)
        .build()
        .into()
}

/// Tells whether the TLS handshake failed on the server's certificate (unknown issuer,
/// expired, another name), which trying again does not mend.
fn certificate_problem(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Rustls(rustls) => rustls.to_string().contains("certificate"),
        ureq::Error::Io(io) => io.to_string().contains("invalid peer certificate"),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)]) -> Response {
        Response {
            status,
            body: String::new(),
            headers: headers.iter().map(|(n, v)| (n.to_ascii_lowercase(), v.to_string())).collect(),
        }
    }

    #[test]
    fn rate_limits_are_read_as_each_host_documents_them() {
        let now = 1_000;
        // GitHub: primary limit used up, reset in 30 s.
        let github =
            response(403, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "1030")]);
        assert_eq!(rate_limit_wait(&github, now), Some(Some(30)));
        // GitHub's secondary limit, and any 429, with Retry-After.
        assert_eq!(rate_limit_wait(&response(403, &[("Retry-After", "7")]), now), Some(Some(7)));
        assert_eq!(rate_limit_wait(&response(429, &[("retry-after", "2")]), now), Some(Some(2)));
        // GitLab.
        let gitlab = response(429, &[("RateLimit-Remaining", "0"), ("RateLimit-Reset", "1005")]);
        assert_eq!(rate_limit_wait(&gitlab, now), Some(Some(5)));
        // A 429 that says nothing of when: a limit with no known end.
        assert_eq!(rate_limit_wait(&response(429, &[]), now), Some(None));
        // A 403 with requests left is a refusal, not a limit; a 200 is never one.
        assert_eq!(rate_limit_wait(&response(403, &[("x-ratelimit-remaining", "12")]), now), None);
        assert_eq!(rate_limit_wait(&response(200, &[("x-ratelimit-remaining", "0")]), now), None);
        // A reset already past asks for no wait.
        let past = response(403, &[("x-ratelimit-remaining", "0"), ("x-ratelimit-reset", "10")]);
        assert_eq!(rate_limit_wait(&past, now), Some(Some(0)));
    }

    #[test]
    fn segments_are_encoded_once_and_fully() {
        assert_eq!(encode("stable/liberty"), "stable%2Fliberty");
        assert_eq!(encode("a-b_c.d~e f+g:h@ü"), "a-b_c.d~e%20f%2Bg%3Ah%40%C3%BC");
    }

    #[test]
    fn calls_written_with_the_method_as_a_string_read_and_write_back_the_same() {
        for (method, text) in [
            (Method::Get, "GET"),
            (Method::Post, "POST"),
            (Method::Put, "PUT"),
            (Method::Patch, "PATCH"),
            (Method::Delete, "DELETE"),
        ] {
            let old = format!(r#"{{"method":"{text}","path":"x/y"}}"#);
            let call: HttpCall = serde_json::from_str(&old).expect("a call reads");
            assert_eq!(call.method, method);
            assert_eq!(serde_json::to_string(&call).expect("writes"), old);
            assert_eq!(method.to_string(), text);
        }
        assert!(serde_json::from_str::<HttpCall>(r#"{"method":"get","path":"x"}"#).is_err());
    }
}
