//! The demo's protos as the browser tests use them.

/// Messages and tonic clients of `proto/demo.proto`.
pub mod proto {
    tonic::include_proto!("demo.v1");

    /// The encoded `FileDescriptorSet` of `demo.proto`, as a generated
    /// package embeds it.
    pub const DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/demo_descriptor.bin"));
}

/// `docs/rust.md`, whose Rust blocks are compiled here as doc tests against
/// the demo's clients (this crate's build script generates them as the
/// guide's does): on the host (`cargo test --workspace`), where the guide's
/// build.rs has its build dependencies.
#[cfg_attr(not(target_arch = "wasm32"), doc = include_str!("../../../docs/rust.md"))]
pub mod rust_guide {}

/// The crate's crates.io README, its example compiled the same way.
#[cfg_attr(
    not(target_arch = "wasm32"),
    doc = include_str!("../../../docs/crate-grpc-web-abort.md")
)]
pub mod crate_readme {}
