//! The stdio transport: messages framed as `lsp-server` frames them, on stdin and
//! stdout, with three differences from its own `Connection::stdio`:
//!
//! - a body that is not a JSON-RPC message gets a JSON-RPC error and the server goes on
//!   reading, instead of the connection closing: a parse error (`-32700`) for a body that
//!   is not JSON, an invalid request (`-32600`, with the message's id when it has one) for
//!   JSON that is no request, notification or response, and for a batch (a JSON array;
//!   LSP has no batches);
//! - a request whose `method` is not a string is such an invalid request, where
//!   `lsp-server` would take it for a response and nobody would answer it;
//! - a `Content-Length` over [`MAX_MESSAGE`] stops the server with an error before
//!   anything is allocated for the body.
//!
//! Hence the headers are read here; the bodies are still typed by `lsp-server`'s own
//! deserialisation, and everything the server sends is written by `lsp-server`. Only a
//! broken header, after which the stream cannot be followed, or the end of stdin stops it.

use std::io::{self, BufRead, Read, Write};
use std::thread::{self, JoinHandle};

use lsp_server::{Connection, ErrorCode, Message};
use serde_json::Value;

/// The largest message body read, in bytes: 64 MiB, far more than any document an
/// editor sends whole, and little enough to allocate. A larger `Content-Length` is
/// refused (see `docs/editors.md`).
pub const MAX_MESSAGE: usize = 64 << 20;

/// The longest header line read, in bytes, so that a line with no end is refused too.
const MAX_HEADER_LINE: u64 = 1024;

/// The reader and writer threads of [`stdio`].
pub struct Threads {
    reader: JoinHandle<io::Result<()>>,
    writer: JoinHandle<io::Result<()>>,
}

impl Threads {
    /// Waits for both threads: the writer ends when the server's side of the
    /// connection is dropped, the reader after `exit` or at the end of stdin.
    pub fn join(self) -> io::Result<()> {
        let writer = self.writer.join().map_err(|_| io::Error::other("the writer thread panicked"))?;
        let reader = self.reader.join().map_err(|_| io::Error::other("the reader thread panicked"))?;
        writer.and(reader)
    }
}

/// A connection over stdin and stdout, and the threads that move its messages.
pub fn stdio() -> (Connection, Threads) {
    let (server, client) = Connection::memory();
    let Connection { sender: to_server, receiver: from_server } = client;
    let writer = thread::spawn(move || {
        for message in from_server {
            let mut out = io::stdout().lock();
            message.write(&mut out)?;
        }
        Ok(())
    });
    let reader = thread::spawn(move || {
        let mut input = io::stdin().lock();
        read_messages(&mut input, &mut |message| to_server.send(message).is_ok(), &mut |rejection| {
            let mut out = io::stdout().lock();
            write_rejection(&mut out, &rejection)
        })
    });
    (server, Threads { reader, writer })
}

/// Reads messages from `input` and hands each to `deliver` (false: the server is gone)
/// until `exit`, the end of the input or a broken header; a message whose body is not
/// a JSON-RPC message is handed to `reject` and skipped.
fn read_messages(
    input: &mut impl BufRead,
    deliver: &mut dyn FnMut(Message) -> bool,
    reject: &mut dyn FnMut(Rejection) -> io::Result<()>,
) -> io::Result<()> {
    while let Some(body) = read_body(input)? {
        match parse(&body) {
            Ok(message) => {
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if !deliver(message) || exit {
                    return Ok(());
                }
            }
            Err(rejection) => reject(rejection)?,
        }
    }
    Ok(())
}

/// The body of the next message, `None` at the end of the input. The headers are
/// `Name: value` lines ending in CRLF, then an empty line, as `lsp-server` reads them;
/// but a `Content-Length` over [`MAX_MESSAGE`] is an error before anything is allocated.
fn read_body(input: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut length = None;
    let mut line = Vec::new();
    loop {
        line.clear();
        if input.by_ref().take(MAX_HEADER_LINE).read_until(b'\n', &mut line)? == 0 {
            return Ok(None);
        }
        let header = line.strip_suffix(b"\r\n").and_then(|h| std::str::from_utf8(h).ok());
        let Some(header) = header else { return Err(broken_header(&line)) };
        if header.is_empty() {
            break;
        }
        let Some((name, value)) = header.split_once(": ") else { return Err(broken_header(&line)) };
        if name.eq_ignore_ascii_case("Content-Length") {
            length = Some(content_length(value)?);
        }
    }
    let length = length.ok_or_else(|| invalid_data("cannot read a message: it has no `Content-Length`".into()))?;
    let mut body = Vec::new();
    input.by_ref().take(length as u64).read_to_end(&mut body)?;
    if body.len() < length {
        return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "the input ended inside a message"));
    }
    Ok(Some(body))
}

/// A `Content-Length` value, at most [`MAX_MESSAGE`].
fn content_length(value: &str) -> io::Result<usize> {
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid_data(format!("cannot read a message: `Content-Length: {value}` is not a number")));
    }
    match value.parse::<usize>() {
        Ok(length) if length <= MAX_MESSAGE => Ok(length),
        _ => Err(invalid_data(format!(
            "cannot read a message of {value} bytes: messages are limited to {} MiB",
            MAX_MESSAGE >> 20
        ))),
    }
}

fn broken_header(line: &[u8]) -> io::Error {
    invalid_data(format!("cannot read a message: malformed header {:?}", String::from_utf8_lossy(line)))
}

fn invalid_data(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}

/// A message body that is not a JSON-RPC message, and how to answer it.
#[derive(Debug)]
struct Rejection {
    code: ErrorCode,
    /// The message's id when it has one a request may have (a string or a number), else null.
    id: Value,
    message: &'static str,
}

/// The message in `body`. JSON-RPC's rules come first, as `lsp-server` tries each kind
/// of message in turn and takes anything with an `id` and no string `method` for a
/// response, which nobody answers.
fn parse(body: &[u8]) -> Result<Message, Rejection> {
    let value: Value = serde_json::from_slice(body).map_err(|_| Rejection {
        code: ErrorCode::ParseError,
        id: Value::Null,
        message: "the message is not JSON",
    })?;
    let Value::Object(fields) = &value else {
        let message = match value {
            Value::Array(_) => "a batch (a JSON array) is not part of LSP: send each message on its own",
            _ => "a message is a JSON object",
        };
        return Err(Rejection { code: ErrorCode::InvalidRequest, id: Value::Null, message });
    };
    let id = fields.get("id").filter(|id| id.is_string() || id.is_number()).cloned().unwrap_or_default();
    let has_id = fields.contains_key("id");
    let parsed = match fields.get("method") {
        Some(Value::String(_)) if has_id => serde_json::from_value(value).map(Message::Request),
        Some(Value::String(_)) => serde_json::from_value(value).map(Message::Notification),
        Some(_) => return Err(Rejection { code: ErrorCode::InvalidRequest, id, message: "`method` must be a string" }),
        None => serde_json::from_value(value).map(Message::Response),
    };
    parsed.map_err(|_| Rejection {
        code: ErrorCode::InvalidRequest,
        id,
        message: "the message is no JSON-RPC request, notification or response",
    })
}

/// JSON-RPC's answer to a message that cannot be read. Its id may be null or an id
/// `lsp_server::RequestId` cannot hold (a number that is no `i32`), hence written here.
fn write_rejection(out: &mut impl Write, rejection: &Rejection) -> io::Result<()> {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": rejection.id,
        "error": { "code": rejection.code as i32, "message": rejection.message },
    })
    .to_string();
    write!(out, "Content-Length: {}\r\n\r\n{body}", body.len())?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> Vec<u8> {
        let mut framed = format!("Content-Length: {}\r\n\r\n", body.len()).into_bytes();
        framed.extend_from_slice(body);
        framed
    }

    /// Runs the reader over `input`; the methods delivered (`id:method` for requests),
    /// the rejections, and the result.
    fn read_all(input: Vec<u8>) -> (Vec<String>, Vec<Rejection>, io::Result<()>) {
        let mut methods = Vec::new();
        let mut rejections = Vec::new();
        let result = read_messages(
            &mut io::Cursor::new(input),
            &mut |message| {
                match message {
                    Message::Notification(n) => methods.push(n.method),
                    Message::Request(r) => methods.push(format!("{}:{}", r.id, r.method)),
                    Message::Response(r) => methods.push(format!("response {}", r.id)),
                }
                true
            },
            &mut |rejection| {
                rejections.push(rejection);
                Ok(())
            },
        );
        (methods, rejections, result)
    }

    fn notification(method: &str) -> Vec<u8> {
        frame(format!(r#"{{"jsonrpc":"2.0","method":"{method}","params":{{}}}}"#).as_bytes())
    }

    fn rejection(code: ErrorCode, id: Value) -> (i32, Value) {
        (code as i32, id)
    }

    fn codes_and_ids(rejections: &[Rejection]) -> Vec<(i32, Value)> {
        rejections.iter().map(|r| (r.code as i32, r.id.clone())).collect()
    }

    #[test]
    fn a_malformed_body_is_reported_and_reading_goes_on() {
        let mut input = notification("first");
        input.extend(frame(b"{ not json"));
        input.extend(frame(b"\"a string\""));
        input.extend(frame(&[0xff, 0xfe, b'{', b'}']));
        input.extend(notification("second"));
        let (methods, rejections, result) = read_all(input);
        assert_eq!(methods, vec!["first", "second"]);
        let expected = vec![
            rejection(ErrorCode::ParseError, Value::Null),
            rejection(ErrorCode::InvalidRequest, Value::Null),
            rejection(ErrorCode::ParseError, Value::Null),
        ];
        assert_eq!(codes_and_ids(&rejections), expected);
        assert!(result.is_ok());
    }

    /// A request whose `method` is not a string was taken for a response by
    /// `lsp-server`, and never answered.
    #[test]
    fn regression_a_method_that_is_not_a_string_is_an_invalid_request_with_its_id() {
        let mut input = frame(br#"{"jsonrpc":"2.0","id":78,"method":5}"#);
        input.extend(frame(br#"{"jsonrpc":"2.0","id":"x","method":null,"params":{}}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":{"a":1},"method":"m"}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":null,"method":"m"}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","method":[]}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":79,"method":"textDocument/hover"}"#));
        input.extend(frame(br#"{"jsonrpc":"2.0","id":80,"result":null}"#));
        let (methods, rejections, result) = read_all(input);
        assert_eq!(methods, vec!["79:textDocument/hover", "response 80"]);
        let expected = vec![
            rejection(ErrorCode::InvalidRequest, Value::from(78)),
            rejection(ErrorCode::InvalidRequest, Value::from("x")),
            rejection(ErrorCode::InvalidRequest, Value::Null),
            rejection(ErrorCode::InvalidRequest, Value::Null),
            rejection(ErrorCode::InvalidRequest, Value::Null),
        ];
        assert_eq!(codes_and_ids(&rejections), expected);
        assert!(result.is_ok());
    }

    /// A batch was ignored without an answer.
    #[test]
    fn regression_a_batch_is_an_invalid_request() {
        let mut input = frame(br#"[{"jsonrpc":"2.0","id":1,"method":"shutdown"}]"#);
        input.extend(frame(b"[]"));
        input.extend(notification("after"));
        let (methods, rejections, result) = read_all(input);
        assert_eq!(methods, vec!["after"]);
        let expected =
            vec![rejection(ErrorCode::InvalidRequest, Value::Null), rejection(ErrorCode::InvalidRequest, Value::Null)];
        assert_eq!(codes_and_ids(&rejections), expected);
        assert!(result.is_ok());
    }

    /// A `Content-Length` of 10^12 was allocated, and the process aborted.
    #[test]
    fn regression_a_content_length_over_the_limit_stops_reading_with_an_error() {
        for length in ["1000000000000", "99999999999999999999999", &(MAX_MESSAGE + 1).to_string()] {
            let mut input = notification("first");
            input.extend(format!("Content-Length: {length}\r\n\r\n{{}}").as_bytes());
            input.extend(notification("never"));
            let (methods, _, result) = read_all(input);
            assert_eq!(methods, vec!["first"]);
            let error = result.expect_err("refused");
            assert!(error.to_string().contains("limited to 64 MiB"), "{error}");
        }
    }

    #[test]
    fn a_message_of_the_largest_length_is_read() {
        let padding = " ".repeat(MAX_MESSAGE - 2);
        let (methods, rejections, result) = read_all(frame(format!("{{}}{padding}").as_bytes()));
        // `{}` is no message, but it was read whole and answered.
        assert!(methods.is_empty());
        assert_eq!(codes_and_ids(&rejections), vec![rejection(ErrorCode::InvalidRequest, Value::Null)]);
        assert!(result.is_ok());
    }

    #[test]
    fn a_broken_header_stops_reading_with_an_error() {
        for broken in [
            &b"Content-Length: many\r\n\r\n{}"[..],
            b"Content-Length: -1\r\n\r\n{}",
            b"Content-Length 2\r\n\r\n{}",
            b"Content-Type: x\r\n\r\n{}",
            b"Content-Length: 2\n\n{}",
            &[b'x'; 5000],
        ] {
            let mut input = notification("first");
            input.extend(broken);
            input.extend(notification("never"));
            let (methods, _, result) = read_all(input);
            assert_eq!(methods, vec!["first"]);
            assert!(result.is_err());
        }
    }

    #[test]
    fn the_input_ending_inside_a_body_is_an_error() {
        let mut input = notification("first");
        input.extend(b"Content-Length: 10\r\n\r\n{}");
        let (methods, _, result) = read_all(input);
        assert_eq!(methods, vec!["first"]);
        assert_eq!(result.map_err(|e| e.kind()).expect_err("cut short"), io::ErrorKind::UnexpectedEof);
    }

    #[test]
    fn headers_are_read_as_lsp_server_reads_them() {
        let body = br#"{"jsonrpc":"2.0","method":"m"}"#;
        let mut input = format!(
            "content-length: {}\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n",
            body.len()
        )
        .into_bytes();
        input.extend(body);
        let (methods, _, result) = read_all(input);
        assert_eq!(methods, vec!["m"]);
        assert!(result.is_ok());
    }

    #[test]
    fn exit_is_the_last_message_read() {
        let mut input = notification("exit");
        input.extend(notification("after"));
        let (methods, _, result) = read_all(input);
        assert_eq!(methods, vec!["exit"]);
        assert!(result.is_ok());
    }

    #[test]
    fn the_rejection_is_a_framed_json_rpc_error() {
        let mut out = Vec::new();
        let rejection = Rejection { code: ErrorCode::InvalidRequest, id: Value::from(78), message: "no" };
        write_rejection(&mut out, &rejection).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        let (header, body) = text.split_once("\r\n\r\n").expect("framed");
        assert_eq!(header, format!("Content-Length: {}", body.len()));
        let value: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(value["error"]["code"], -32600);
        assert_eq!(value["id"], 78);
        assert_eq!(value["jsonrpc"], "2.0");
    }
}
