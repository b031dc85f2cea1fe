//! A small HTTP/1.1 proxy on loopback that forwards to the test homeserver
//! and, when told to, answers chosen requests with faults instead: error
//! statuses (429 with `retry_after_ms`, 5xx) or a dropped connection; or
//! passes them on and spoils the answer: delayed, stalled, throttled,
//! truncated or rewritten. Each forwarded request goes over its own
//! upstream connection.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Debug)]
pub enum Fault {
    /// Answer with this status and JSON body.
    Status(u16, String),
    /// Close the connection without answering.
    Drop,
    /// Pass the request on, then hold the answer this long.
    Delay(std::time::Duration),
    /// Pass the request on and never answer (the connection stays open).
    Stall,
    /// Pass the answer on at this many bytes a second.
    Throttle(usize),
    /// Pass on only the first this many bytes of the answer, then close.
    Truncate(usize),
    /// Replace every `from` with `to` (of the same length, so lengths and
    /// chunk sizes stay right) in the answer.
    Rewrite(Vec<u8>, Vec<u8>),
}

#[derive(Default)]
struct Rules {
    /// (method, path prefix) -> faults to serve, in order.
    faults: Vec<(String, String, VecDeque<Fault>)>,
    /// (method, path prefix) -> a fault for every matching request.
    always: Vec<(String, String, Fault)>,
}

pub struct Proxy {
    /// The proxy's base URL (with its path prefix, if any).
    pub url: String,
    rules: Arc<Mutex<Rules>>,
    served: Arc<AtomicUsize>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Proxy {
        Self::start_under(upstream, "").await
    }

    /// A proxy that serves the homeserver under a path prefix
    /// (`http://127.0.0.1:PORT/prefix/_matrix/...`), as reverse proxies do.
    pub async fn start_under(upstream: &str, prefix: &str) -> Proxy {
        let up = url::Url::parse(upstream).expect("upstream URL");
        let up_addr = format!(
            "{}:{}",
            up.host_str().expect("host"),
            up.port_or_known_default().expect("port")
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}{prefix}", listener.local_addr().expect("addr"));
        let prefix = prefix.to_owned();
        let rules: Arc<Mutex<Rules>> = Arc::default();
        let served = Arc::new(AtomicUsize::new(0));
        let (r, s) = (rules.clone(), served.clone());
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(
                    conn,
                    up_addr.clone(),
                    prefix.clone(),
                    r.clone(),
                    s.clone(),
                ));
            }
        });
        Proxy { url, rules, served }
    }

    /// Serves `faults`, one per matching request, before passing them on.
    pub fn inject(&self, method: &str, path_prefix: &str, faults: Vec<Fault>) {
        self.rules.lock().unwrap().faults.push((
            method.to_owned(),
            path_prefix.to_owned(),
            faults.into(),
        ));
    }

    /// Serves `fault` for every matching request from now on.
    pub fn always(&self, method: &str, path_prefix: &str, fault: Fault) {
        if let Fault::Rewrite(from, to) = &fault {
            assert_eq!(from.len(), to.len(), "a rewrite keeps the length");
        }
        self.rules
            .lock()
            .unwrap()
            .always
            .push((method.to_owned(), path_prefix.to_owned(), fault));
    }

    /// Stops every `always` fault.
    pub fn clear(&self) {
        self.rules.lock().unwrap().always.clear();
    }

    /// How many faults were served so far.
    pub fn served(&self) -> usize {
        self.served.load(Ordering::SeqCst)
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn serve(
    mut conn: TcpStream,
    upstream: String,
    prefix: String,
    rules: Arc<Mutex<Rules>>,
    served: Arc<AtomicUsize>,
) {
    let mut buf: Vec<u8> = Vec::new();
    loop {
        let head_end = loop {
            if let Some(i) = find(&buf, b"\r\n\r\n") {
                break i + 4;
            }
            let mut chunk = [0u8; 8192];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or_default().split(' ');
        let (method, full_path) = (
            first.next().unwrap_or_default().to_owned(),
            first.next().unwrap_or_default().to_owned(),
        );
        // Outside the prefix there is nothing: a client that drops the
        // prefix gets 404, as from a real reverse proxy.
        let path = match full_path.strip_prefix(prefix.as_str()) {
            Some(p) if p.starts_with('/') => p.to_owned(),
            _ => {
                let body = r#"{"errcode":"M_UNRECOGNIZED","error":"outside the prefix"}"#;
                let resp = format!(
                    "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
                let _ = conn.write_all(resp.as_bytes()).await;
                return;
            }
        };
        let mut body_len = 0usize;
        let mut headers = vec![];
        for l in lines.filter(|l| !l.is_empty()) {
            let lower = l.to_ascii_lowercase();
            if let Some(v) = lower.strip_prefix("content-length:") {
                body_len = v.trim().parse().unwrap_or(0);
            }
            if !lower.starts_with("connection:") {
                headers.push(l.to_owned());
            }
        }
        while buf.len() < head_end + body_len {
            let mut chunk = [0u8; 65536];
            match conn.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        let body: Vec<u8> = buf[head_end..head_end + body_len].to_vec();
        buf.drain(..head_end + body_len);

        let fault = {
            let mut r = rules.lock().unwrap();
            let once = r
                .faults
                .iter_mut()
                .find(|(m, p, f)| *m == method && path.starts_with(p.as_str()) && !f.is_empty())
                .and_then(|(_, _, f)| f.pop_front());
            once.or_else(|| {
                r.always
                    .iter()
                    .find(|(m, p, _)| *m == method && path.starts_with(p.as_str()))
                    .map(|(_, _, f)| f.clone())
            })
        };
        match fault {
            Some(Fault::Drop) => {
                served.fetch_add(1, Ordering::SeqCst);
                return;
            }
            Some(Fault::Status(code, json)) => {
                served.fetch_add(1, Ordering::SeqCst);
                let resp = format!(
                    "HTTP/1.1 {code} Fault\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{json}",
                    json.len()
                );
                if conn.write_all(resp.as_bytes()).await.is_err() {
                    return;
                }
            }
            passed => {
                if passed.is_some() {
                    served.fetch_add(1, Ordering::SeqCst);
                }
                let Ok(mut up) = TcpStream::connect(&upstream).await else {
                    return;
                };
                let mut req = format!("{method} {path} HTTP/1.1\r\n");
                for h in &headers {
                    req.push_str(h);
                    req.push_str("\r\n");
                }
                req.push_str("Connection: close\r\n\r\n");
                if up.write_all(req.as_bytes()).await.is_err() || up.write_all(&body).await.is_err()
                {
                    return;
                }
                let mut resp = Vec::new();
                if up.read_to_end(&mut resp).await.is_err() {
                    return;
                }
                match &passed {
                    Some(Fault::Delay(d)) => tokio::time::sleep(*d).await,
                    Some(Fault::Stall) => {
                        // Hold the connection until the client gives up.
                        let mut sink = [0u8; 1024];
                        while let Ok(n) = conn.read(&mut sink).await {
                            if n == 0 {
                                break;
                            }
                        }
                        return;
                    }
                    Some(Fault::Truncate(n)) => {
                        resp.truncate(*n);
                        let _ = conn.write_all(&resp).await;
                        return;
                    }
                    Some(Fault::Rewrite(from, to)) => {
                        let mut i = 0;
                        while let Some(at) = find(&resp[i..], from) {
                            resp[i + at..i + at + from.len()].copy_from_slice(to);
                            i += at + from.len();
                        }
                    }
                    _ => {}
                }
                if let Some(Fault::Throttle(rate)) = passed {
                    // Small chunks, evenly spaced.
                    let chunk = (rate / 20).max(1);
                    for part in resp.chunks(chunk) {
                        if conn.write_all(part).await.is_err() {
                            return;
                        }
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    }
                } else if conn.write_all(&resp).await.is_err() {
                    return;
                }
            }
        }
    }
}
