//! placeholder
pub mod proto {
    tonic::include_proto!("demo.v1");
}
