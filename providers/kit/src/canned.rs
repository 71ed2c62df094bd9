//! A canned HTTP server for the provider crates' unit tests, compiled only for them (the
//! `canned` feature, which their dev-dependencies turn on). It is a fake, on purpose: the
//! real servers the end-to-end tests use (moto, Mimic, the stand-ins behind Prism) never
//! throttle, fail at will, or answer with a long `Retry-After`, so they cannot show a
//! client's retries, its pagination edge cases, or an interrupted retry.

use std::io::{Read, Write};

/// One canned answer: status, extra header lines (each ending in `\r\n`), body.
pub type Canned = (u16, &'static str, String);

/// Serves `answers(endpoint)` one per connection, in order, and returns the requests it
/// served (request line, headers and body). `answers` is given the server's own address,
/// for answers that point back at it (an identity service's catalogue).
pub fn serve(answers: impl FnOnce(&str) -> Vec<Canned>) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let answers = answers(&endpoint);
    let server = std::thread::spawn(move || {
        let mut served = Vec::new();
        for (status, headers, body) in answers {
            let Ok((mut stream, _)) = listener.accept() else { break };
            served.push(read_request(&mut stream));
            let answer = format!(
                "HTTP/1.1 {status} Canned\r\n{headers}content-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = stream.write_all(answer.as_bytes());
        }
        served
    });
    (endpoint, server)
}

/// Serves `connections` connections, each answered as `script` says given the requests
/// so far (the one to answer last): `Some((status, body))`, or `None` to close the
/// connection without an answer, as a lost answer does. Returns the requests it served.
pub fn serve_scripted(
    connections: usize,
    mut script: impl FnMut(&[String]) -> Option<(u16, String)> + Send + 'static,
) -> (String, std::thread::JoinHandle<Vec<String>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    let server = std::thread::spawn(move || {
        let mut served = Vec::new();
        for _ in 0..connections {
            let Ok((mut stream, _)) = listener.accept() else { break };
            served.push(read_request(&mut stream));
            if let Some((status, body)) = script(&served) {
                let answer = format!(
                    "HTTP/1.1 {status} Scripted\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = stream.write_all(answer.as_bytes());
            }
        }
        served
    });
    (endpoint, server)
}

/// The request line, headers and as much body as they announce.
fn read_request(stream: &mut std::net::TcpStream) -> String {
    let mut request = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let n = stream.read(&mut buffer).unwrap_or(0);
        request.extend_from_slice(&buffer[..n]);
        let text = String::from_utf8_lossy(&request).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if request.len() >= end + 4 + length {
                return text;
            }
        }
        if n == 0 {
            return text;
        }
    }
}
