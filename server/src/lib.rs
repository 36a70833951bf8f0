//! The demo server: two tonic + tonic-web tiers that honour gRPC deadlines
//! and cancellation end to end.
//!
//! Follow one cancellation by file: [`deadline`] (the layer that parses
//! `grpc-timeout`, enforces it, and notices the client's disconnect) →
//! [`context`] (what a handler sees: deadline, remaining time, token) →
//! [`propagate`] (upstream calls inherit both) → [`services`] (the work) →
//! [`metrics`] (what the server observed).
pub mod app;
pub mod context;
pub mod deadline;
pub mod grpc_status;
pub mod methods;
pub mod metrics;
pub mod propagate;
pub mod services;
pub mod tiers;
pub mod upstream;

pub use context::{CallContext, CancelReason};
pub use deadline::DeadlineLayer;
pub use propagate::{Propagate, PropagateLayer};

/// The generated messages, servers and clients of `proto/demo.proto`.
pub mod proto {
    tonic::include_proto!("demo.v1");

    /// The encoded `FileDescriptorSet` of `demo.proto`.
    pub const DESCRIPTOR_SET: &[u8] =
        include_bytes!(concat!(env!("OUT_DIR"), "/demo_descriptor.bin"));
}
