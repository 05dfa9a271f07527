//! A small HTTP/1.1 client for Tandem's REST API (one request per connection, over std's
//! TcpStream), with helpers for the calls the tests make.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use serde_json::{json, Value};

/// An HTTP answer: status code and body.
#[derive(Debug, Clone)]
pub struct HttpResponse {
    pub status: u16,
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as JSON; panics with the body text when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "HTTP {} body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `message`s of the envelope's `errors`, joined.
    pub fn error_messages(&self) -> String {
        let v: Value = serde_json::from_slice(&self.body).unwrap_or(Value::Null);
        match v["errors"].as_array() {
            Some(errors) => errors
                .iter()
                .map(|e| e["message"].as_str().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
                .join("; "),
            None => self.text(),
        }
    }
}

/// Client of the API at `http://addr/client/v4`.
#[derive(Clone, Debug)]
pub struct Api {
    pub addr: SocketAddr,
    pub token: String,
}

impl Api {
    pub fn new(addr: SocketAddr, token: &str) -> Api {
        Api {
            addr,
            token: token.to_string(),
        }
    }

    /// One request; `path` is below `/client/v4`. Panics only on transport errors.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> HttpResponse {
        self.try_request(method, path, content_type, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// [`Api::request`], with a transport error (the server gone, say) returned as text.
    pub fn try_request(
        &self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<HttpResponse, String> {
        let auth = format!("Bearer {}", self.token);
        self.try_request_with(
            method,
            path,
            &[("Authorization", &auth)],
            content_type,
            body,
        )
    }

    /// One request with exactly the authentication `headers` given (this client's token is
    /// not sent unless among them); `path` is below `/client/v4`.
    pub fn request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> HttpResponse {
        self.try_request_with(method, path, headers, content_type, body)
            .unwrap_or_else(|e| panic!("{e}"))
    }

    fn try_request_with(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<HttpResponse, String> {
        let full = format!("/client/v4{path}");
        let mut stream = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))
            .map_err(|e| format!("connect to API {}: {e}", self.addr))?;
        stream
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut head = format!(
            "{method} {full} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\
             Content-Length: {}\r\n",
            self.addr,
            body.len()
        );
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        head.push_str("\r\n");
        let mut out = head.into_bytes();
        out.extend_from_slice(body);
        stream
            .write_all(&out)
            .map_err(|e| format!("{method} {full}: write: {e}"))?;
        let mut raw = Vec::new();
        stream
            .read_to_end(&mut raw)
            .map_err(|e| format!("{method} {full}: read: {e}"))?;
        parse_http(&raw).map_err(|e| {
            format!(
                "{method} {full}: bad HTTP answer ({e}): {}",
                String::from_utf8_lossy(&raw)
            )
        })
    }

    pub fn get(&self, path: &str) -> HttpResponse {
        self.request("GET", path, None, b"")
    }

    pub fn post_json(&self, path: &str, body: &Value) -> HttpResponse {
        self.request(
            "POST",
            path,
            Some("application/json"),
            body.to_string().as_bytes(),
        )
    }

    /// POST of raw bytes declared as JSON (for malformed-JSON tests).
    pub fn post_raw_json(&self, path: &str, body: &[u8]) -> HttpResponse {
        self.request("POST", path, Some("application/json"), body)
    }

    /// `GET path`, asserting a successful envelope; returns its `result`.
    pub fn get_ok(&self, path: &str) -> Value {
        let resp = self.get(path);
        expect_success(&format!("GET {path}"), &resp)["result"].clone()
    }

    /// `POST path` with JSON, asserting a successful envelope; returns its `result`.
    pub fn post_ok(&self, path: &str, body: &Value) -> Value {
        let resp = self.post_json(path, body);
        expect_success(&format!("POST {path} {body}"), &resp)["result"].clone()
    }

    /// The id of the first account (the `default` one on a fresh server).
    pub fn account_id(&self) -> String {
        let result = self.get_ok("/accounts");
        result[0]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("GET /accounts: no result[0].id in {result}"))
            .to_string()
    }

    /// Creates a `full` zone and returns its id.
    pub fn create_zone(&self, name: &str) -> String {
        let account = self.account_id();
        let result = self.post_ok(
            "/zones",
            &json!({"name": name, "account": {"id": account}, "type": "full"}),
        );
        result["id"]
            .as_str()
            .unwrap_or_else(|| panic!("POST /zones: no result.id in {result}"))
            .to_string()
    }

    /// Uploads a zone file to `dns_records/import` as the multipart field `file`.
    pub fn import(&self, zone_id: &str, zone_text: &str, replace: bool) -> HttpResponse {
        let (content_type, body) = import_body(zone_text);
        self.request(
            "POST",
            &import_path(zone_id, replace),
            Some(&content_type),
            &body,
        )
    }

    /// Imports and asserts success; returns the result.
    pub fn import_ok(&self, zone_id: &str, zone_text: &str, replace: bool) -> Value {
        let resp = self.import(zone_id, zone_text, replace);
        expect_success("POST dns_records/import", &resp)["result"].clone()
    }

    /// Every record of a zone, following pagination; `filter` is a query string such as
    /// `type=SOA` (may be empty).
    pub fn records(&self, zone_id: &str, filter: &str) -> Vec<Value> {
        let mut out = Vec::new();
        let sep = if filter.is_empty() { "" } else { "&" };
        for page in 1..10_000 {
            let path =
                format!("/zones/{zone_id}/dns_records?{filter}{sep}page={page}&per_page=100");
            let resp = self.get(&path);
            let v = expect_success(&format!("GET {path}"), &resp);
            let items = v["result"]
                .as_array()
                .unwrap_or_else(|| panic!("GET {path}: result is not a list: {v}"))
                .clone();
            let n = items.len();
            out.extend(items);
            let total_pages = v["result_info"]["total_pages"].as_u64().unwrap_or(1);
            if n == 0 || u64::try_from(page).unwrap() >= total_pages {
                break;
            }
        }
        out
    }

    /// The SOA serial the API reports for a zone.
    pub fn soa_serial(&self, zone_id: &str) -> u32 {
        let soa = self.records(zone_id, "type=SOA");
        assert_eq!(soa.len(), 1, "one SOA record expected, got {soa:?}");
        let content = soa[0]["content"].as_str().expect("SOA content");
        content
            .split_whitespace()
            .nth(2)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("SOA content without serial: {content}"))
    }
}

/// The path of a zone's import, with `?replace=true` when asked.
pub fn import_path(zone_id: &str, replace: bool) -> String {
    let query = if replace { "?replace=true" } else { "" };
    format!("/zones/{zone_id}/dns_records/import{query}")
}

/// A zone file as the multipart field `file` of an import: the content type and the body.
pub fn import_body(zone_text: &str) -> (String, Vec<u8>) {
    let boundary = "tandem-test-boundary-7d3f0c9b2a";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; \
             filename=\"zone.txt\"\r\nContent-Type: text/plain\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(zone_text.as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// `GET path` on `addr` without a token and outside `/client/v4` (e.g. `/healthz`).
pub fn http_get(addr: SocketAddr, path: &str) -> HttpResponse {
    http_get_as(addr, path, None)
}

/// `GET path` on `addr` outside `/client/v4`, with `token` as bearer when given (`/metrics`
/// needs the administrator's).
pub fn http_get_as(addr: SocketAddr, path: &str, token: Option<&str>) -> HttpResponse {
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
    stream
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{auth}Connection: close\r\n\r\n");
    stream
        .write_all(head.as_bytes())
        .unwrap_or_else(|e| panic!("GET {path}: write: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("GET {path}: read: {e}"));
    parse_http(&raw).unwrap_or_else(|e| {
        panic!(
            "GET {path}: bad HTTP answer ({e}): {}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// Asserts a 2xx status and `"success": true`; returns the envelope.
pub fn expect_success(what: &str, resp: &HttpResponse) -> Value {
    assert!(
        (200..300).contains(&resp.status),
        "{what}: HTTP {} {}",
        resp.status,
        resp.text()
    );
    let v = resp.json();
    assert_eq!(v["success"], json!(true), "{what}: not successful: {v}");
    v
}

fn parse_http(raw: &[u8]) -> Result<HttpResponse, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "headers not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().ok_or("no status line")?;
    let status = status_line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or("bad status line")?;
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
        if k == "transfer-encoding" && v.eq_ignore_ascii_case("chunked") {
            chunked = true;
        }
        if k == "content-length" {
            length = v.parse::<usize>().ok();
        }
    }
    let rest = &raw[end + 4..];
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(n) = length {
        rest.get(..n)
            .ok_or("body shorter than Content-Length")?
            .to_vec()
    } else {
        rest.to_vec()
    };
    Ok(HttpResponse { status, body })
}

fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let eol = data
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("bad chunk header")?;
        let size_text = std::str::from_utf8(&data[..eol]).map_err(|_| "bad chunk size")?;
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| "bad chunk size")?;
        data = &data[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(data.get(..size).ok_or("short chunk")?);
        data = data.get(size + 2..).ok_or("short chunk")?;
    }
}
