//! Generates a typed JS/TS gRPC-Web client package from `.proto` files, for
//! the `grpc-web-abort` runtime: every call takes an `AbortSignal` and a
//! deadline.
//!
//! Host-only: use it from a `build.rs` (as `tonic-prost-build` is used) or
//! from a task runner. The protos are compiled with [`protox`], so no system
//! `protoc` is needed.
//!
//! ```no_run
//! let generated = grpc_web_abort_build::Builder::new()
//!     .include("proto")
//!     .proto("proto/shop/v1/shop.proto")
//!     .generate()?;
//! for warning in &generated.warnings {
//!     println!("cargo:warning={warning}");
//! }
//! generated.write_to("pkg".as_ref())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Generated::write_to`] writes `index.js` (one client class per service,
//! the descriptor set the runtime's codec reads), `index.d.ts` (every message
//! as an exact output and a lenient input interface, enums as string unions,
//! the clients), and the shared `runtime.js`/`runtime.d.ts`. Next to them
//! belongs what `wasm-pack build --target web` makes of the `grpc-web-abort`
//! crate (`grpc_web_abort.js`, `grpc_web_abort_bg.wasm`, `grpc_web_abort.d.ts`).
//!
//! # Names
//! - Service `acme.shop.v1.Cart` → class `CartClient`; rpc `AddItem` → method
//!   `addItem` (the proto's camel case with a lower-case first letter; a
//!   method that would be named `constructor` is `constructor_`, and `then`
//!   is `then_`, lest every client be a thenable that `await` would call). Two
//!   services with the same name in different packages are an error.
//! - Nested types join their names with `_`: `Outer.Inner` → `Outer_Inner`.
//! - When two types from different packages would get the same name, every
//!   one of them is prefixed with its package, dots becoming `_`
//!   (`acme.common.v1.Money` → `acme_common_v1_Money`). So is a type whose
//!   name the declarations need for themselves (`CallOptions`, `Date`,
//!   `Promise`, ...; see [`RESERVED`]).
//! - Fields take the proto's `json_name` (`delay_ms` → `delayMs`). Calls
//!   read a field from the input's own properties only; an input type's
//!   field named like a member of TypeScript's `Object` (`constructor`,
//!   `toString`, ...) also allows a `Function`, since TypeScript gives every
//!   object literal those members.
//! - Client- and bidi-streaming methods are not generated (gRPC-Web over
//!   `fetch` cannot stream a request body); each is named in
//!   [`Generated::warnings`].
use std::{
    io,
    path::{Path, PathBuf},
};

mod comments;
mod compile;
mod dts;
mod error;
mod js;
mod model;
mod names;
mod types;

pub use error::Error;
pub use names::RESERVED;

/// The runtime every generated package shares (written by [`Generated::write_to`]).
const RUNTIME_JS: &str = include_str!("../js/runtime.js");
const RUNTIME_D_TS: &str = include_str!("../js/runtime.d.ts");

/// What to generate from: the protos and where their imports are found.
#[derive(Clone, Debug, Default)]
pub struct Builder {
    includes: Vec<PathBuf>,
    protos: Vec<PathBuf>,
}

impl Builder {
    pub fn new() -> Self {
        Self::default()
    }

    /// A directory imports are looked up in. Without any, each proto's own
    /// directory is one. The `google/protobuf/*.proto` files are always found.
    pub fn include(mut self, dir: impl AsRef<Path>) -> Self {
        self.includes.push(dir.as_ref().to_path_buf());
        self
    }

    /// A proto to generate clients and types for: a path, or a name relative
    /// to an include directory.
    pub fn proto(mut self, file: impl AsRef<Path>) -> Self {
        self.protos.push(file.as_ref().to_path_buf());
        self
    }

    /// Compiles the protos and generates the package's files; bad input is
    /// an [`Error`] naming the file and line.
    pub fn generate(&self) -> Result<Generated, Error> {
        let includes = if self.includes.is_empty() {
            self.protos
                .iter()
                .map(|p| match p.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
                    _ => PathBuf::from("."),
                })
                .collect()
        } else {
            self.includes.clone()
        };
        let compiled = compile::compile(&self.protos, &includes)?;
        let model = model::Model::new(&compiled)?;
        let names = names::Names::assign(&model)?;
        let mut warnings = Vec::new();
        let index_js = js::index(&model, &names, &compiled.descriptor_set, &mut warnings);
        let index_d_ts = dts::index(&model, &names);
        Ok(Generated {
            descriptor_set: compiled.descriptor_set.clone(),
            index_js,
            index_d_ts,
            warnings,
        })
    }
}

/// A generated package's own files.
#[derive(Clone, Debug)]
pub struct Generated {
    /// The encoded `FileDescriptorSet` `index.js` embeds: the requested
    /// protos and all their imports, without source info.
    pub descriptor_set: Vec<u8>,
    pub index_js: String,
    pub index_d_ts: String,
    /// What was left out (client- and bidi-streaming methods), one line each.
    pub warnings: Vec<String>,
}

impl Generated {
    /// Writes `index.js`, `index.d.ts`, `runtime.js` and `runtime.d.ts` into
    /// `dir` (created if missing).
    pub fn write_to(&self, dir: &Path) -> io::Result<()> {
        std::fs::create_dir_all(dir)?;
        std::fs::write(dir.join("index.js"), &self.index_js)?;
        std::fs::write(dir.join("index.d.ts"), &self.index_d_ts)?;
        std::fs::write(dir.join("runtime.js"), RUNTIME_JS)?;
        std::fs::write(dir.join("runtime.d.ts"), RUNTIME_D_TS)
    }
}
