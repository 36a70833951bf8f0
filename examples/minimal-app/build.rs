//! The demo's tonic clients, generated from `proto/demo.proto`: clients
//! only, no transport (the browser is the transport).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    let protos = concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto");
    println!("cargo:rerun-if-changed={protos}");
    let fds = protox::compile(["demo.proto"], [protos])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_transport(false)
        .compile_fds(fds)?;
    Ok(())
}
