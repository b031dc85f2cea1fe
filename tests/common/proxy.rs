//! A small HTTP/1.1 proxy on loopback that forwards to the test homeserver
//! and, when told to, answers chosen requests with faults instead: error
//! statuses (429 with `retry_after_ms`, 5xx) or a dropped connection. Each
//! forwarded request goes over its own upstream connection.

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
}

#[derive(Default)]
struct Rules {
    /// (method, path prefix) -> faults to serve, in order.
    faults: Vec<(String, String, VecDeque<Fault>)>,
}

pub struct Proxy {
    pub url: String,
    rules: Arc<Mutex<Rules>>,
    served: Arc<AtomicUsize>,
}

impl Proxy {
    pub async fn start(upstream: &str) -> Proxy {
        let up = url::Url::parse(upstream).expect("upstream URL");
        let up_addr = format!(
            "{}:{}",
            up.host_str().expect("host"),
            up.port_or_known_default().expect("port")
        );
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let rules: Arc<Mutex<Rules>> = Arc::default();
        let served = Arc::new(AtomicUsize::new(0));
        let (r, s) = (rules.clone(), served.clone());
        tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                tokio::spawn(serve(conn, up_addr.clone(), r.clone(), s.clone()));
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
        let (method, path) = (
            first.next().unwrap_or_default().to_owned(),
            first.next().unwrap_or_default().to_owned(),
        );
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
            r.faults
                .iter_mut()
                .find(|(m, p, f)| *m == method && path.starts_with(p.as_str()) && !f.is_empty())
                .and_then(|(_, _, f)| f.pop_front())
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
            None => {
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
                if conn.write_all(&resp).await.is_err() {
                    return;
                }
            }
        }
    }
}
