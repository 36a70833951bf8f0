//! How one generated file spells the types it refers to: its own by their
//! names, another file's through that file's module (`$d0.Money`), the
//! runtime's through `$rt`; and which files it must import for that.
use prost_types::FileDescriptorProto;

use crate::{
    model::{Model, full},
    names::FileNames,
    paths, types,
};

/// The well-known-type files the runtime package registers itself (their
/// types all have a JSON form of their own): a file that uses them imports
/// their registration from the runtime instead of a generated file.
pub const PROVIDED: [&str; 7] = [
    "google/protobuf/any.proto",
    "google/protobuf/duration.proto",
    "google/protobuf/empty.proto",
    "google/protobuf/field_mask.proto",
    "google/protobuf/struct.proto",
    "google/protobuf/timestamp.proto",
    "google/protobuf/wrappers.proto",
];

/// A file the generated file imports: its module alias, the import path
/// and the names that file exports.
pub(crate) struct Dep {
    pub alias: String,
    pub proto: String,
    pub names: FileNames,
}

pub(crate) struct Scope {
    pub own: FileNames,
    pub deps: Vec<Dep>,
    /// The provided files it needs registered (`file_google_protobuf_…`).
    pub provided: Vec<String>,
}

impl Scope {
    pub fn new(model: &Model, file: &FileDescriptorProto) -> Self {
        let own = FileNames::assign(model, file);
        let mut deps: Vec<Dep> = Vec::new();
        let mut provided: Vec<String> = Vec::new();
        for name in model.referenced(file) {
            let Some(t) = model.get(&name) else { continue };
            if t.file == file.name() {
                continue;
            }
            if PROVIDED.contains(&t.file) {
                let export = crate::names::file_export(t.file);
                if !provided.contains(&export) {
                    provided.push(export);
                }
                continue;
            }
            if deps.iter().any(|d| d.proto == t.file) {
                continue;
            }
            let Some(dep_file) = model.file(t.file) else {
                continue;
            };
            deps.push(Dep {
                alias: format!("$d{}", deps.len()),
                proto: t.file.to_owned(),
                names: FileNames::assign(model, dep_file),
            });
        }
        Self {
            own,
            deps,
            provided,
        }
    }

    /// The type of a message (an rpc's request or reply, a field's
    /// message): its name (`Foo` / `FooInput`, `$d0.Foo`), or a well-known
    /// type's inline form.
    pub fn message(&self, full_name: &str, dir: types::Dir) -> String {
        let full_name = full(full_name);
        if let Some(inline) = types::inlined(full_name, dir) {
            return inline.to_owned();
        }
        self.named(full_name, dir)
    }

    /// A declared type's name as this file spells it.
    pub fn named(&self, full_name: &str, dir: types::Dir) -> String {
        let pick = |names: &FileNames| match dir {
            types::Dir::Out => names.output(full_name).to_owned(),
            types::Dir::In => names.input(full_name).to_owned(),
        };
        if self.own.declares(full_name) {
            return pick(&self.own);
        }
        match self.deps.iter().find(|d| d.names.declares(full_name)) {
            Some(dep) => format!("{}.{}", dep.alias, pick(&dep.names)),
            // Unreachable for a well-formed request (every referenced type
            // is defined in some file); `unknown` keeps the output valid.
            None => "unknown".to_owned(),
        }
    }

    /// The import path of `dep` from `file`'s generated module.
    pub fn import_path(&self, file: &str, dep: &Dep, extension: &str) -> String {
        paths::relative(file, &paths::module(&dep.proto, extension))
    }
}
