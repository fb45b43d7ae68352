//! The stand-in's answers: a status, GitLab's headers and a JSON (or plain) body.

use std::io::Write;
use std::net::TcpStream;

use serde_json::{Value, json};

/// One HTTP answer, written with `Connection: close`.
#[derive(Debug)]
pub struct Answer {
    status: u16,
    content_type: &'static str,
    body: String,
    headers: Vec<(String, String)>,
}

impl Answer {
    pub fn json(status: u16, body: Value) -> Answer {
        Answer { status, content_type: "application/json", body: body.to_string(), headers: vec![] }
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// `{"message": "..."}`, GitLab's shape for most errors.
    pub fn message(status: u16, message: &str) -> Answer {
        Answer::json(status, json!({ "message": message }))
    }

    /// `{"message": ["..."]}`, GitLab's shape for a model's validation errors.
    pub fn message_list(status: u16, message: &str) -> Answer {
        Answer::json(status, json!({ "message": [message] }))
    }

    pub fn text(status: u16, body: &str) -> Answer {
        Answer { status, content_type: "text/plain", body: body.to_string(), headers: vec![] }
    }

    pub fn empty(status: u16) -> Answer {
        Answer { status, content_type: "application/json", body: String::new(), headers: vec![] }
    }

    pub fn header(&mut self, name: &str, value: &str) {
        self.headers.push((name.to_string(), value.to_string()));
    }

    pub fn write(self, stream: &mut TcpStream) {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        let _ = stream.write_all(head.as_bytes());
        let _ = stream.write_all(self.body.as_bytes());
        let _ = stream.flush();
    }
}

/// Returns the reason phrase GitLab's table of status codes gives.
pub fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Error",
    }
}

/// 2024-01-01T00:00:00Z, where the project's history starts.
const BASE: u64 = 1_704_067_200;

/// Returns the ISO 8601 time `tick` seconds into the project's history.
pub fn iso_time(tick: u64) -> String {
    let (y, m, d, hh, mm, ss, _) = civil(BASE + tick);
    format!("{y:04}-{m:02}-{d:02}T{hh:02}:{mm:02}:{ss:02}.000Z")
}

/// A Unix time written as an HTTP date (RFC 7231 IMF-fixdate).
pub struct HttpDate(pub u64);

impl std::fmt::Display for HttpDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] =
            ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
        let (y, m, d, hh, mm, ss, days) = civil(self.0);
        let weekday = DAYS[(days % 7) as usize];
        let month = MONTHS[(m - 1) as usize];
        write!(f, "{weekday}, {d:02} {month} {y} {hh:02}:{mm:02}:{ss:02} GMT")
    }
}

/// Splits a Unix time into year, month, day, hours, minutes, seconds and days since the
/// epoch (Howard Hinnant's days-to-civil algorithm).
fn civil(time: u64) -> (i64, u64, u64, u64, u64, u64, u64) {
    let days = time / 86_400;
    let secs = time % 86_400;
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u64;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u64;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, secs / 3600, secs % 3600 / 60, secs % 60, days)
}
