//! The demo's protos for the tests: the descriptor set (what a generated
//! package embeds) and tonic clients (what a Rust frontend generates).
fn main() -> Result<(), Box<dyn std::error::Error>> {
    // tests/hostile.rs is built only where its server runs (`cargo xtask
    // test --only hostile` sets the variable and starts it).
    println!("cargo:rustc-check-cfg=cfg(hostile_server)");
    println!("cargo:rerun-if-env-changed=HOSTILE_SERVER_URL");
    if std::env::var_os("HOSTILE_SERVER_URL").is_some() {
        println!("cargo:rustc-cfg=hostile_server");
    }
    let proto = concat!(env!("CARGO_MANIFEST_DIR"), "/../../proto");
    println!("cargo:rerun-if-changed={proto}");
    let fds = protox::compile(["demo.proto"], [proto])?;
    let out = std::path::PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(
        out.join("demo_descriptor.bin"),
        prost::Message::encode_to_vec(&fds),
    )?;
    tonic_prost_build::configure()
        .build_server(false)
        .build_transport(false)
        .compile_fds(fds)?;
    Ok(())
}
