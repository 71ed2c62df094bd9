//! The stdio transport: `lsp-server`'s message framing on stdin and stdout, with one
//! difference from its own `Connection::stdio`: a message whose body is not a JSON-RPC
//! message (bad JSON, bad UTF-8, a shape that is no request, notification or response)
//! gets a JSON-RPC parse error and the server goes on reading, instead of the connection
//! closing. Only a broken header, after which the stream cannot be followed, or the end
//! of stdin stops it.

use std::io::{self, BufRead, Write};
use std::string::FromUtf8Error;
use std::thread::{self, JoinHandle};

use lsp_server::{Connection, ErrorCode, Message};

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
        read_messages(&mut input, &mut |message| to_server.send(message).is_ok(), &mut || {
            let mut out = io::stdout().lock();
            write_parse_error(&mut out)
        })
    });
    (server, Threads { reader, writer })
}

/// Reads messages from `input` and hands each to `deliver` (false: the server is gone)
/// until `exit`, the end of the input or a broken header; a message with a malformed
/// body is reported through `malformed` and skipped.
fn read_messages(
    input: &mut impl BufRead,
    deliver: &mut dyn FnMut(Message) -> bool,
    malformed: &mut dyn FnMut() -> io::Result<()>,
) -> io::Result<()> {
    loop {
        match Message::read(input) {
            Ok(Some(message)) => {
                let exit = matches!(&message, Message::Notification(n) if n.method == "exit");
                if !deliver(message) || exit {
                    return Ok(());
                }
            }
            Ok(None) => return Ok(()),
            Err(error) if is_malformed_body(&error) => malformed()?,
            Err(error) => return Err(io::Error::new(error.kind(), format!("cannot read a message: {error}"))),
        }
    }
}

/// Whether `error` is about a message's body, which `Message::read` has consumed whole,
/// so that the next message can still be read. `lsp-server` reports a body that is not
/// a message as "malformed LSP payload", and a body that is not UTF-8 with the UTF-8
/// error inside.
fn is_malformed_body(error: &io::Error) -> bool {
    error.kind() == io::ErrorKind::InvalidData
        && (error.get_ref().is_some_and(|inner| inner.is::<FromUtf8Error>())
            || error.to_string().starts_with("malformed LSP payload"))
}

/// JSON-RPC's answer to a message that cannot be read: a parse error with a null id
/// (which `lsp_server::Response` cannot express, hence written here).
fn write_parse_error(out: &mut impl Write) -> io::Result<()> {
    let body = serde_json::json!({
        "jsonrpc": "2.0",
        "id": null,
        "error": { "code": ErrorCode::ParseError as i32, "message": "the message is not JSON-RPC" },
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

    /// Runs the reader over `input`; the methods delivered, the number of parse errors,
    /// and the result.
    fn read_all(input: Vec<u8>) -> (Vec<String>, usize, io::Result<()>) {
        let mut methods = Vec::new();
        let mut errors = 0;
        let result = read_messages(
            &mut io::Cursor::new(input),
            &mut |message| {
                if let Message::Notification(n) = message {
                    methods.push(n.method);
                }
                true
            },
            &mut || {
                errors += 1;
                Ok(())
            },
        );
        (methods, errors, result)
    }

    fn notification(method: &str) -> Vec<u8> {
        frame(format!(r#"{{"jsonrpc":"2.0","method":"{method}","params":{{}}}}"#).as_bytes())
    }

    #[test]
    fn a_malformed_body_is_reported_and_reading_goes_on() {
        let mut input = notification("first");
        input.extend(frame(b"{ not json"));
        input.extend(frame(b"\"a string\""));
        input.extend(frame(&[0xff, 0xfe, b'{', b'}']));
        input.extend(notification("second"));
        let (methods, errors, result) = read_all(input);
        assert_eq!(methods, vec!["first", "second"]);
        assert_eq!(errors, 3);
        assert!(result.is_ok());
    }

    #[test]
    fn a_broken_header_stops_reading_with_an_error() {
        let mut input = notification("first");
        input.extend(b"Content-Length: many\r\n\r\n{}");
        input.extend(notification("never"));
        let (methods, _, result) = read_all(input);
        assert_eq!(methods, vec!["first"]);
        assert!(result.is_err());
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
    fn the_parse_error_is_a_framed_json_rpc_error() {
        let mut out = Vec::new();
        write_parse_error(&mut out).expect("write");
        let text = String::from_utf8(out).expect("utf-8");
        let (header, body) = text.split_once("\r\n\r\n").expect("framed");
        assert_eq!(header, format!("Content-Length: {}", body.len()));
        let value: serde_json::Value = serde_json::from_str(body).expect("json");
        assert_eq!(value["error"]["code"], -32700);
        assert_eq!(value["id"], serde_json::Value::Null);
    }
}
