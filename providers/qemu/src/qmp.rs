//! QMP, QEMU's machine protocol: JSON lines over the Unix socket a VM listens on. Each
//! call opens the socket, negotiates capabilities and runs one command; a
//! [`ResetCounter`] stays connected to count the guest's resets while it boots.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use infra_runtime::provider::{ProviderError, ProviderResult};
use serde_json::{json, Value as Json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;

/// How long one QMP call may take: a VM that does not answer in this time is hung.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs `command` on the VM whose QMP socket is `socket`; its `return` value.
pub async fn call(socket: &Path, command: &str) -> ProviderResult<Json> {
    let what = format!("QMP `{command}` on `{}`", socket.display());
    tokio::time::timeout(CALL_TIMEOUT, exchange(socket, command))
        .await
        .map_err(|_| ProviderError::new(format!("{what}: no answer in {} s", CALL_TIMEOUT.as_secs())))?
        .map_err(|message| ProviderError::new(format!("{what}: {message}")))
}

async fn exchange(socket: &Path, command: &str) -> Result<Json, String> {
    let stream = UnixStream::connect(socket).await.map_err(|e| e.to_string())?;
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader).lines();
    next_reply(&mut lines).await?; // the greeting
    for execute in ["qmp_capabilities", command] {
        let request = json!({ "execute": execute }).to_string() + "\n";
        writer.write_all(request.as_bytes()).await.map_err(|e| e.to_string())?;
        let reply = next_reply(&mut lines).await?;
        if let Some(error) = reply.get("error") {
            return Err(error.get("desc").and_then(Json::as_str).unwrap_or("an error").to_string());
        }
        if execute == command {
            return Ok(reply.get("return").cloned().unwrap_or(Json::Null));
        }
    }
    Err("no reply".to_string())
}

/// The next line that is not an asynchronous event.
async fn next_reply(lines: &mut tokio::io::Lines<BufReader<tokio::net::unix::OwnedReadHalf>>) -> Result<Json, String> {
    loop {
        let line = lines.next_line().await.map_err(|e| e.to_string())?.ok_or("the socket closed")?;
        let reply: Json = serde_json::from_str(&line).map_err(|e| format!("not JSON: {e}"))?;
        if reply.get("event").is_none() {
            return Ok(reply);
        }
    }
}

/// Counts the guest's resets while it lives: a guest that finds too little memory to
/// start (a Linux kernel with no room to unpack itself) resets the VM at once, again and
/// again, printing nothing, and QMP's `RESET` events are how that shows.
pub struct ResetCounter {
    resets: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl ResetCounter {
    /// Starts counting on the VM whose QMP socket is `socket`; `None` when QMP does not
    /// answer. While it counts it holds the socket, which takes one client at a time.
    pub async fn start(socket: &Path) -> Option<ResetCounter> {
        let stream = tokio::time::timeout(CALL_TIMEOUT, UnixStream::connect(socket)).await.ok()?.ok()?;
        let (reader, mut writer) = stream.into_split();
        let mut lines = BufReader::new(reader).lines();
        tokio::time::timeout(CALL_TIMEOUT, next_reply(&mut lines)).await.ok()?.ok()?; // the greeting
        let request = json!({ "execute": "qmp_capabilities" }).to_string() + "\n";
        writer.write_all(request.as_bytes()).await.ok()?;
        let resets = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&resets);
        let task = tokio::spawn(async move {
            let _writer = writer; // Closing it would end the session.
            while let Ok(Some(line)) = lines.next_line().await {
                let Ok(message) = serde_json::from_str::<Json>(&line) else { continue };
                let guest = message.pointer("/data/guest").and_then(Json::as_bool) == Some(true);
                if message.get("event").and_then(Json::as_str) == Some("RESET") && guest {
                    counted.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Some(ResetCounter { resets, task })
    }

    /// The guest's resets so far.
    pub fn resets(&self) -> usize {
        self.resets.load(Ordering::Relaxed)
    }
}

impl Drop for ResetCounter {
    fn drop(&mut self) {
        self.task.abort();
    }
}
