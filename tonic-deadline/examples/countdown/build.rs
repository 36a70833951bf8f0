//! Compiles `proto/countdown.proto` with protox (no system `protoc`) and
//! keeps its descriptor set, which `Methods::from_descriptor_set` reads so
//! that metrics say `grpc_type="server_stream"` and streams end at once at
//! shutdown.
use std::{env, fs, path::PathBuf};

use protox::prost::Message as _;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    println!("cargo:rerun-if-changed=proto");
    let fds = protox::compile(["countdown.proto"], ["proto"])?;
    // With protox the set is in hand: write it. (With protoc, tonic-prost-build's
    // `.file_descriptor_set_path(out.join(..))` before `.compile_protos(..)`
    // writes it instead; `compile_fds` ignores that setting.)
    let out = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(out.join("countdown_descriptor.bin"), fds.encode_to_vec())?;
    tonic_prost_build::configure().compile_fds(fds)?;
    Ok(())
}
