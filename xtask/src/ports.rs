//! The fixed loopback ports the test steps listen on, shifted by
//! `XTASK_PORT_OFFSET` (default 0) so that two checkouts (or two people in
//! one) can run test steps on one machine at the same time.
/// `127.0.0.1:<port + XTASK_PORT_OFFSET>`.
pub fn addr(port: u16) -> String {
    let offset: u16 = std::env::var("XTASK_PORT_OFFSET")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    format!("127.0.0.1:{}", port + offset)
}
