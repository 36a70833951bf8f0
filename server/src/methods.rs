//! Which gRPC method a request path names, and whether it streams: read from
//! the proto's descriptor set, so new methods need no code here.
use std::{collections::HashMap, sync::Arc};

use prost::Message as _;

/// The RPC shapes, written as go-grpc-prometheus writes `grpc_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    Unary,
    ClientStream,
    ServerStream,
    BidiStream,
}

impl MethodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Unary => "unary",
            MethodKind::ClientStream => "client_stream",
            MethodKind::ServerStream => "server_stream",
            MethodKind::BidiStream => "bidi_stream",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    /// Fully qualified, e.g. `demo.v1.Greeter`.
    pub service: String,
    pub method: String,
    pub kind: MethodKind,
}

impl Method {
    /// The demo page's counters, left out of the summary it shows.
    pub fn is_stats(&self) -> bool {
        self.service == crate::services::stats::SERVICE
    }
}

/// Every method of the services a server knows, by request path.
#[derive(Clone, Default)]
pub struct Methods(Arc<HashMap<String, MethodKind>>);

impl Methods {
    /// The methods described by an encoded `FileDescriptorSet`.
    pub fn from_descriptor_set(bytes: &[u8]) -> Result<Self, prost::DecodeError> {
        let set = prost_types::FileDescriptorSet::decode(bytes)?;
        let mut map = HashMap::new();
        for file in &set.file {
            let package = file.package();
            for service in &file.service {
                for m in &service.method {
                    let kind = match (m.client_streaming(), m.server_streaming()) {
                        (false, false) => MethodKind::Unary,
                        (true, false) => MethodKind::ClientStream,
                        (false, true) => MethodKind::ServerStream,
                        (true, true) => MethodKind::BidiStream,
                    };
                    let path = format!("/{package}.{}/{}", service.name(), m.name());
                    map.insert(path.replace("/.", "/"), kind);
                }
            }
        }
        Ok(Methods(Arc::new(map)))
    }

    /// The demo's own methods.
    pub fn demo() -> Self {
        Self::from_descriptor_set(crate::proto::DESCRIPTOR_SET)
            .expect("the build script wrote a valid descriptor set")
    }

    /// The method `path` names; unknown methods count as unary.
    pub fn lookup(&self, path: &str) -> Method {
        let kind = self.0.get(path).copied().unwrap_or(MethodKind::Unary);
        let (service, method) = path
            .trim_start_matches('/')
            .split_once('/')
            .unwrap_or((path, ""));
        Method {
            service: service.to_string(),
            method: method.to_string(),
            kind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knows_the_demo_methods_and_their_shapes() {
        let methods = Methods::demo();
        let watch = methods.lookup("/demo.v1.Updates/Watch");
        assert_eq!(watch.service, "demo.v1.Updates");
        assert_eq!(watch.method, "Watch");
        assert_eq!(watch.kind, MethodKind::ServerStream);
        assert_eq!(
            methods.lookup("/demo.v1.Greeter/SayHello").kind,
            MethodKind::Unary
        );
        assert!(methods.lookup("/demo.v1.Stats/Watch").is_stats());
    }
}
