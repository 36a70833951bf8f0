//! Compiles `proto/demo.proto` with protox (no system `protoc`) into tonic
//! clients only: the browser never serves, and tonic's transport is replaced
//! by `fetch` (src/fetch.rs).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(["demo.proto"], ["proto"])?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_transport(false)
        .compile_fds(fds)?;
    Ok(())
}
