//! The protoc plugin protocol: a `CodeGeneratorRequest` in, a
//! `CodeGeneratorResponse` out (what `protoc-gen-grpc-web-abort` does with
//! its standard input and output).
use prost::Message as _;
use prost_types::compiler::{
    CodeGeneratorRequest, CodeGeneratorResponse, code_generator_response::File,
};

use crate::{Options, generate};

/// `CodeGeneratorResponse.Feature`: proto3 `optional` and editions.
const FEATURES: u64 = 0b11;
/// `google.protobuf.Edition`: the editions this plugin reads (proto2 and
/// proto3 files, and edition 2023).
const MINIMUM_EDITION: u64 = 998;
const MAXIMUM_EDITION: u64 = 1000;

/// The response to an encoded request, and the warnings for standard error.
pub fn respond(request: &[u8]) -> (Vec<u8>, Vec<String>) {
    let mut response = CodeGeneratorResponse {
        supported_features: Some(FEATURES),
        ..Default::default()
    };
    let mut warnings = Vec::new();
    match run(request) {
        Ok(output) => {
            warnings = output.warnings;
            response.file = output
                .files
                .into_iter()
                .map(|f| File {
                    name: Some(f.name),
                    content: Some(f.content),
                    ..Default::default()
                })
                .collect();
        }
        Err(error) => response.error = Some(error),
    }
    let mut bytes = response.encode_to_vec();
    // prost-types 0.14's CodeGeneratorResponse predates its edition fields
    // (3 and 4, varints): appended by hand, as protobuf allows fields in
    // any order.
    for (number, value) in [(3u64, MINIMUM_EDITION), (4, MAXIMUM_EDITION)] {
        varint(&mut bytes, number << 3);
        varint(&mut bytes, value);
    }
    (bytes, warnings)
}

fn run(request: &[u8]) -> Result<crate::Output, String> {
    let request = CodeGeneratorRequest::decode(request)
        .map_err(|e| format!("could not read the CodeGeneratorRequest: {e}"))?;
    let options = Options::parse(request.parameter()).map_err(|e| e.to_string())?;
    generate(&request.proto_file, &request.file_to_generate, &options).map_err(|e| e.to_string())
}

fn varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}
