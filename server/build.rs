//! Compiles `proto/demo.proto` with protox (no system `protoc`), generating
//! tonic clients and servers, and keeps the descriptor set so the server can
//! tell unary from streaming methods for its metrics.
use std::{env, fs, path::PathBuf};

use protox::prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_dir = "../proto";
    println!("cargo:rerun-if-changed={proto_dir}");
    let fds = protox::compile(["demo.proto"], [proto_dir])?;
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("demo_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
