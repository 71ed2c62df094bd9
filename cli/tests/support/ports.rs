//! Ports for the servers the tests start (moto, PostgreSQL, sshd, the Debian container's
//! sshd and nginx, Mimic, Prism, the plugin stand-ins and mirrors, QEMU's forwards).
//!
//! A port is chosen before its server starts, since the server is told it on its command
//! line or in a document, and the server binds it a moment later: milliseconds for sshd,
//! a second or more for moto, Mimic, Prism or PostgreSQL, several for nginx in the
//! container after its package installs. A port taken from the range the system gives
//! outgoing connections their local ports from (binding port 0 gives one) could
//! meanwhile become the local end of a connection made by a test running beside this
//! one, and the server would then fail to start. So the port is a free one below that
//! range, where no outgoing connection is ever given one; where the range starts too
//! low to leave room below it, any free port.

#![allow(dead_code)] // Each test file uses its own subset.

use std::net::TcpListener;

/// The lowest port handed out: well above the ones services listen on by convention.
const LOWEST: u16 = 10_000;

/// A port of 127.0.0.1 free when asked, below the range of outgoing connections' ports.
pub fn free_port() -> u16 {
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").unwrap_or_default();
    let ephemeral = range.split_whitespace().next().and_then(|low| low.parse::<u16>().ok()).unwrap_or(32_768);
    let span = u32::from(ephemeral.saturating_sub(LOWEST));
    // Tests run in processes of their own, side by side: each starts its search at a
    // place of its own, so two asking at once rarely meet on one port.
    let clock = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let start = (std::process::id().wrapping_mul(7919) ^ clock) % span.max(1);
    (0..span)
        .filter_map(|i| u16::try_from(u32::from(LOWEST) + (start + i) % span).ok())
        .find(|&port| TcpListener::bind(("127.0.0.1", port)).is_ok())
        .unwrap_or_else(|| {
            TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("a free port")
        })
}

/// Two different free ports, for a server and the one beside it.
pub fn two_free_ports() -> (u16, u16) {
    let first = free_port();
    let second = std::iter::repeat_with(free_port).find(|&p| p != first).expect("a second free port");
    (first, second)
}
