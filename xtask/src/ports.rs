//! The fixed loopback ports the test steps listen on, shifted by
//! `XTASK_PORT_OFFSET` (default 0) so that two checkouts (or two people in
//! one) can run test steps on one machine at the same time.
//!
//! They are 27080–27900, below Linux's ephemeral range (32768–60999): a port
//! in that range can be the local end of any outgoing connection on the
//! machine (a browser's, a benchmark's), and a server binding it then fails
//! with "address in use" (seen three times at 47xxx on a busy machine).
//! Offsets up to 4,800 stay below the range.
/// `127.0.0.1:<port + XTASK_PORT_OFFSET>`.
pub fn addr(port: u16) -> String {
    let offset: u16 = std::env::var("XTASK_PORT_OFFSET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    format!("127.0.0.1:{}", port + offset)
}
