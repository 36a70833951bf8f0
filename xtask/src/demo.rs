//! `cargo xtask demo`: set up, build the npm package, serve the demo page
//! (with `--tls`, over https and HTTP/2) until Ctrl-C or SIGTERM, which stop
//! the server too.
use crate::{
    pkg,
    server::{Server, stop_on_signals},
    setup,
};

pub fn run(addr: &str, tls: bool) -> anyhow::Result<()> {
    setup::build_tools()?;
    pkg::build()?;
    let stop = stop_on_signals()?;
    if !tls {
        let server = Server::start(addr)?;
        eprintln!("xtask: the demo is at {}/ (Ctrl-C stops it)", server.url);
        return server.run_until(&stop);
    }
    let server = Server::start_tls(addr)?;
    let spki = server.spki.as_deref().unwrap_or_default();
    eprintln!(
        "xtask: the demo is at {}/ (Ctrl-C stops it); its certificate is made at start-up, so start Chromium with\n  \
         chromium --ignore-certificate-errors-spki-list={spki} {}/",
        server.url, server.url
    );
    server.run_until(&stop)
}
