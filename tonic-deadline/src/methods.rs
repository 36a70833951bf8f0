//! Which gRPC method a request path names, and whether it streams: read from
//! the protos' descriptor set, so new methods need no code here. Without one,
//! every method's shape is [`MethodKind::Unknown`].
use std::{collections::HashMap, sync::Arc};

use prost::Message as _;

/// The RPC shapes, written as go-grpc-prometheus writes `grpc_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MethodKind {
    Unary,
    ClientStream,
    ServerStream,
    BidiStream,
    /// Not in the descriptor set (or none was given).
    Unknown,
}

impl MethodKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MethodKind::Unary => "unary",
            MethodKind::ClientStream => "client_stream",
            MethodKind::ServerStream => "server_stream",
            MethodKind::BidiStream => "bidi_stream",
            MethodKind::Unknown => "unknown",
        }
    }

    /// Whether responses may keep coming for as long as the client listens:
    /// such calls end at once when the server shuts down.
    pub fn is_stream(self) -> bool {
        matches!(self, MethodKind::ServerStream | MethodKind::BidiStream)
    }
}

/// One method, as named in a request's path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Method {
    /// Fully qualified, e.g. `demo.v1.Greeter`.
    pub service: String,
    /// E.g. `SayHello`.
    pub method: String,
    pub kind: MethodKind,
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

    /// These methods and `other`'s (e.g. [`Health::methods`](crate::Health::methods)).
    pub fn and(self, other: Methods) -> Methods {
        let mut map = (*self.0).clone();
        map.extend(other.0.iter().map(|(k, v)| (k.clone(), *v)));
        Methods(Arc::new(map))
    }

    /// The method `path` names.
    pub fn lookup(&self, path: &str) -> Method {
        let kind = self.0.get(path).copied().unwrap_or(MethodKind::Unknown);
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
    use prost_types::{
        FileDescriptorProto, FileDescriptorSet, MethodDescriptorProto, ServiceDescriptorProto,
    };

    fn set() -> Vec<u8> {
        let method = |name: &str, server_streaming| MethodDescriptorProto {
            name: Some(name.into()),
            server_streaming: Some(server_streaming),
            ..Default::default()
        };
        FileDescriptorSet {
            file: vec![FileDescriptorProto {
                package: Some("pkg.v1".into()),
                service: vec![ServiceDescriptorProto {
                    name: Some("Feed".into()),
                    method: vec![method("Get", false), method("Watch", true)],
                    ..Default::default()
                }],
                ..Default::default()
            }],
        }
        .encode_to_vec()
    }

    #[test]
    fn knows_the_described_methods_and_their_shapes() {
        let methods = Methods::from_descriptor_set(&set()).unwrap();
        let watch = methods.lookup("/pkg.v1.Feed/Watch");
        assert_eq!(watch.service, "pkg.v1.Feed");
        assert_eq!(watch.method, "Watch");
        assert_eq!(watch.kind, MethodKind::ServerStream);
        assert_eq!(methods.lookup("/pkg.v1.Feed/Get").kind, MethodKind::Unary);
        assert_eq!(
            methods.lookup("/pkg.v1.Feed/Gone").kind,
            MethodKind::Unknown
        );
        assert_eq!(
            Methods::default().lookup("/pkg.v1.Feed/Get").kind,
            MethodKind::Unknown
        );
    }
}
