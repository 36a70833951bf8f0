//! The code generator of `grpc-web-abort`: typed JS/TS gRPC-Web clients,
//! where every call takes an `AbortSignal` and a deadline, for a user's own
//! protos.
//!
//! One generator, three ways in:
//! - the protoc/buf plugin `protoc-gen-grpc-web-abort` (npm): this crate
//!   compiled to WebAssembly (feature `plugin`, [`plugin::respond`]) and run
//!   by Node, so buf or protoc parse the protos (editions, extension
//!   declarations, everything they accept) and no Rust is needed;
//! - [`generate`] over `FileDescriptorProto`s from anywhere;
//! - [`Builder`] (feature `protox`, on by default), which compiles protos
//!   with [`protox`] (no system `protoc`) for a build script or task runner
//!   and also writes a package index.
//!
//! ```no_run
//! let generated = grpc_web_abort_build::Builder::new()
//!     .include("proto")
//!     .proto("proto/shop/v1/shop.proto")
//!     .generate()?;
//! for warning in &generated.warnings {
//!     println!("cargo:warning={warning}");
//! }
//! generated.write_to("src/gen".as_ref())?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is generated
//! A module per proto file that defines a message, an enum or a service:
//! `shop/v1/shop.proto` → `shop/v1/shop_grpcweb.js` and `.d.ts` (or one
//! `.ts` with `target=ts`). It imports the runtime package (`grpc-web-abort`)
//! and the modules of the protos whose types it uses, registers its
//! descriptor with the runtime (exported as `file_shop_v1_shop`), declares
//! its messages (an exact output and a lenient input interface each) and
//! enums (string unions), and has a client class per service. A type is
//! declared once, in its proto's module; the well-known types with a JSON
//! form of their own are written inline and registered by the runtime
//! itself ([`PROVIDED`]).
//!
//! # Names
//! - Service `acme.shop.v1.Cart` → class `CartClient`; rpc `AddItem` → method
//!   `addItem` (the proto's camel case with a lower-case first letter; a
//!   method that would be named `constructor` is `constructor_`, and `then`
//!   is `then_`, lest every client be a thenable that `await` would call).
//! - Nested types join their names with `_`: `Outer.Inner` → `Outer_Inner`;
//!   a message's input type is `OuterInput`.
//! - A name already taken in its module (a message `IntentInput` beside the
//!   input type of `Intent`, `A_B` beside `A.B`, a message named like a
//!   client class) or in [`RESERVED`] (keywords, globals the declarations
//!   use) gets a `$` appended, which no proto name can contain: claimed in
//!   the order types (in definition order), input types, clients, so
//!   `IntentInput` stays the message and `Intent`'s input is `IntentInput$`.
//!   A valid proto is never refused over naming.
//! - Other modules' types are reached through a namespace import
//!   (`$d0.Money`), the runtime's through `$rt`: no import can collide with
//!   a name of the module.
//! - Fields take the proto's `json_name` (`delay_ms` → `delayMs`). Calls
//!   read a field from the input's own properties only; an input type's
//!   field named like a member of TypeScript's `Object` (`constructor`,
//!   `toString`, ...) also allows a `Function`, since TypeScript gives every
//!   object literal those members.
//! - Client- and bidi-streaming methods are not generated (gRPC-Web over
//!   `fetch` cannot stream a request body); each is named in the warnings.
use prost_types::FileDescriptorProto;

mod comments;
#[cfg(feature = "protox")]
mod compile;
mod descriptor;
mod dts;
mod error;
#[cfg(feature = "protox")]
mod index;
mod model;
mod module;
mod names;
mod paths;
pub mod plugin;
mod scope;
mod types;
#[cfg(all(target_arch = "wasm32", feature = "plugin"))]
mod wasm;

pub use error::Error;
pub use names::RESERVED;
pub use paths::SUFFIX;
pub use scope::PROVIDED;

#[cfg(feature = "protox")]
pub use index::{Builder, Generated, provided_registrations};

/// What the generated modules are written as (protoc-gen-es's `target`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Target {
    /// `.js` modules with `.d.ts` declarations beside them.
    #[default]
    JsDts,
    /// `.ts` modules.
    Ts,
}

/// Where the generated modules import the runtime from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Runtime {
    /// An npm package name (default `grpc-web-abort`).
    Package(String),
    /// A module path relative to the output root (a self-contained package
    /// that ships the runtime inside itself), e.g. `runtime/index.js`.
    Root(String),
}

/// Generation options (the plugin's parameter, `key=value` pairs).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub target: Target,
    /// Added to the paths the modules import each other by (protoc-gen-es's
    /// `import_extension`): `.js` by default, which browsers, Node and
    /// bundlers all resolve (TypeScript too, to the `.ts`); `""` for none.
    pub import_extension: String,
    pub runtime: Runtime,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            target: Target::JsDts,
            import_extension: ".js".to_owned(),
            runtime: Runtime::Package("grpc-web-abort".to_owned()),
        }
    }
}

impl Options {
    /// Reads a plugin parameter: `target=js+dts|ts`,
    /// `import_extension=js|ts|none`, `runtime=<package name>`, separated by
    /// commas. An unknown key or value is an error naming it.
    pub fn parse(parameter: &str) -> Result<Self, Error> {
        let mut options = Self::default();
        for pair in parameter
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match (key, value) {
                ("target", "js+dts" | "dts+js") => options.target = Target::JsDts,
                ("target", "ts") => options.target = Target::Ts,
                ("import_extension", "none" | "") => options.import_extension.clear(),
                ("import_extension", ext)
                    if ext
                        .trim_start_matches('.')
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric()) =>
                {
                    options.import_extension = format!(".{}", ext.trim_start_matches('.'));
                }
                ("runtime", name) if !name.is_empty() => {
                    options.runtime = Runtime::Package(name.to_owned());
                }
                ("target", other) => {
                    return Err(Error::new(format!(
                        "option target={other}: expected js+dts or ts"
                    )));
                }
                _ => {
                    return Err(Error::new(format!(
                        "unknown option {pair:?} (known: target=js+dts|ts, import_extension=js|ts|none, runtime=<package>)"
                    )));
                }
            }
        }
        Ok(options)
    }

    /// How the module of `proto` imports the runtime.
    pub(crate) fn runtime_import(&self, proto: &str) -> String {
        match &self.runtime {
            Runtime::Package(name) => name.clone(),
            Runtime::Root(path) => paths::relative(proto, path),
        }
    }
}

/// One generated file: its path relative to the output root, and its text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputFile {
    pub name: String,
    pub content: String,
}

/// What [`generate`] made.
#[derive(Clone, Debug, Default)]
pub struct Output {
    pub files: Vec<OutputFile>,
    /// What was left out (client- and bidi-streaming methods), one line each.
    pub warnings: Vec<String>,
}

/// Generates the modules of the files named in `to_generate` (as imports
/// spell them), given every file they import in `files` (a
/// `CodeGeneratorRequest`'s `proto_file`). The files the runtime provides
/// ([`PROVIDED`]) and files that define nothing are skipped.
pub fn generate(
    files: &[FileDescriptorProto],
    to_generate: &[String],
    options: &Options,
) -> Result<Output, Error> {
    let model = model::Model::new(files);
    let mut output = Output::default();
    for name in to_generate {
        let file = model
            .file(name)
            .ok_or_else(|| Error::new(format!("{name}: not among the files given")))?;
        if PROVIDED.contains(&name.as_str()) {
            continue;
        }
        for (name, content) in module::generate(&model, file, options, &mut output.warnings) {
            output.files.push(OutputFile { name, content });
        }
    }
    Ok(output)
}
