//! The plugin's WebAssembly export, which `protoc-gen-grpc-web-abort`'s
//! Node script calls with the bytes protoc or buf sent it.
use wasm_bindgen::prelude::*;

/// A `CodeGeneratorResponse` and the warnings to print.
#[wasm_bindgen]
pub struct PluginOutput {
    response: Vec<u8>,
    warnings: String,
}

#[wasm_bindgen]
impl PluginOutput {
    /// The encoded `CodeGeneratorResponse`.
    #[wasm_bindgen(getter)]
    pub fn response(&self) -> Vec<u8> {
        self.response.clone()
    }

    /// One warning per line (empty when none).
    #[wasm_bindgen(getter)]
    pub fn warnings(&self) -> String {
        self.warnings.clone()
    }
}

/// Answers an encoded `CodeGeneratorRequest`.
#[wasm_bindgen]
pub fn respond(request: &[u8]) -> PluginOutput {
    let (response, warnings) = crate::plugin::respond(request);
    PluginOutput {
        response,
        warnings: warnings.join("\n"),
    }
}
