//! The demo's protos as the browser tests use them.

/// Messages and tonic clients of `proto/demo.proto`.
pub mod proto {
    tonic::include_proto!("demo.v1");

    /// The encoded `FileDescriptorSet` of `demo.proto`, as a generated
    /// package embeds it.
    pub const DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/demo_descriptor.bin"));
}
