//! The demo server: two tonic + tonic-web tiers that honour gRPC deadlines
//! and cancellation end to end, built on the `tonic-deadline` crate like any
//! other tonic server.
//!
//! Follow one cancellation by file: `tonic-deadline`'s layer and context →
//! [`services`] (the work, and the frontends' upstream calls) → [`metrics`]
//! (what the server observed).
pub mod accept;
pub mod app;
pub mod metrics;
pub mod services;
pub mod stop_log;
pub mod summary;
pub mod tiers;
pub mod tls;

pub use tonic_deadline::{CallContext, CancelReason, DeadlineLayer, Propagate, PropagateLayer};

/// The generated messages, servers and clients of `proto/demo.proto`.
pub mod proto {
    tonic::include_proto!("demo.v1");

    /// The encoded `FileDescriptorSet` of `demo.proto`.
    pub const DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/demo_descriptor.bin"));

    /// The demo's methods, for their `grpc_type`.
    pub fn methods() -> tonic_deadline::Methods {
        tonic_deadline::Methods::from_descriptor_set(DESCRIPTOR_SET)
            .expect("the build script wrote a valid descriptor set")
    }
}
