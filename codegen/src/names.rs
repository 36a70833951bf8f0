//! The names a generated file gives types, client classes and methods (the
//! rules are in the crate's documentation).
use std::collections::{HashMap, HashSet};

use prost_types::FileDescriptorProto;

use crate::model::{Def, Model};

/// Names a generated name cannot take as it is, because the declarations
/// use them themselves (globals) or they are keywords: such a name gets a
/// `$` appended, like one already taken.
pub const RESERVED: &[&str] = &[
    // Globals the declarations refer to.
    "Array",
    "Date",
    "Function",
    "Promise",
    "Record",
    "Uint8Array",
    // Keywords and TypeScript's own type names.
    "any",
    "bigint",
    "boolean",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "declare",
    "default",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "implements",
    "import",
    "in",
    "instanceof",
    "interface",
    "let",
    "never",
    "new",
    "null",
    "number",
    "object",
    "package",
    "private",
    "protected",
    "public",
    "return",
    "static",
    "string",
    "super",
    "switch",
    "symbol",
    "this",
    "throw",
    "true",
    "try",
    "type",
    "typeof",
    "undefined",
    "unknown",
    "var",
    "void",
    "while",
    "with",
    "yield",
];

/// The names one generated file gives its types, clients, methods and
/// descriptor: decided by that file alone, so that a file importing it
/// knows them too. A name already taken in the file (a message `FooInput`
/// beside the input type of `Foo`, `A_B` beside `A.B`, a message named like
/// a client class) or in [`RESERVED`] gets a `$` appended (`FooInput$`),
/// which no proto name can contain: a valid proto is never refused.
pub(crate) struct FileNames {
    /// Full proto name → (output type, input type); an enum's are one name.
    types: HashMap<String, (String, String)>,
    /// Service full name → class name.
    clients: HashMap<String, String>,
    /// Method full name → JS method name.
    methods: HashMap<String, String>,
    /// The exported registration of the file's descriptor: `file_shop_v1_shop`.
    pub file_export: String,
}

impl FileNames {
    pub fn assign(model: &Model, file: &FileDescriptorProto) -> Self {
        let mut taken: HashSet<String> = HashSet::new();
        let mut claim = |base: String| {
            let mut name = base;
            while taken.contains(&name) || RESERVED.contains(&name.as_str()) {
                name.push('$');
            }
            taken.insert(name.clone());
            name
        };
        let declared = model.declared(file.name());
        let outputs: Vec<String> = declared.iter().map(|t| claim(t.local.clone())).collect();
        let mut types = HashMap::new();
        for (t, output) in declared.iter().zip(outputs) {
            let input = match t.def {
                Def::Message { .. } => claim(format!("{output}Input")),
                Def::Enum { .. } => output.clone(),
            };
            types.insert(t.full_name.clone(), (output, input));
        }
        let services = model.services(file);
        let mut clients = HashMap::new();
        let mut methods = HashMap::new();
        for service in &services {
            clients.insert(
                service.full_name.clone(),
                claim(format!("{}Client", service.name)),
            );
            let mut own: HashSet<String> = HashSet::new();
            for method in service.methods.iter().filter(|m| m.generated()) {
                let mut name = method_name(method.def.name());
                while !own.insert(name.clone()) {
                    name.push('$');
                }
                methods.insert(method.full_name.clone(), name);
            }
        }
        let file_export = claim(file_export(file.name()));
        Self {
            types,
            clients,
            methods,
            file_export,
        }
    }

    /// The output (exact) type name of a type the file declares.
    pub fn output(&self, full_name: &str) -> &str {
        &self.types[full_name].0
    }

    /// The input (lenient) type name: `FooInput`; an enum's own name.
    pub fn input(&self, full_name: &str) -> &str {
        &self.types[full_name].1
    }

    pub fn declares(&self, full_name: &str) -> bool {
        self.types.contains_key(full_name)
    }

    pub fn client(&self, service: &str) -> &str {
        &self.clients[service]
    }

    pub fn method(&self, method: &str) -> &str {
        &self.methods[method]
    }

    /// The client classes' names.
    pub fn clients(&self) -> impl Iterator<Item = &str> {
        self.clients.values().map(String::as_str)
    }

    /// Every type name the file exports (outputs, inputs, clients).
    pub fn type_names(&self) -> impl Iterator<Item = &str> {
        let mut all: Vec<&str> = Vec::new();
        for (output, input) in self.types.values() {
            all.push(output);
            if input != output {
                all.push(input);
            }
        }
        all.extend(self.clients.values().map(String::as_str));
        all.into_iter()
    }
}

/// `shop/v1/shop.proto` → `file_shop_v1_shop` (as protobuf-es names it).
pub(crate) fn file_export(proto: &str) -> String {
    let stem = proto.strip_suffix(".proto").unwrap_or(proto);
    let mut out = String::from("file_");
    out.extend(
        stem.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
    );
    out
}

/// protoc's camel case (`get_item` → `getItem`) with a lower-case first
/// letter (`AddItem` → `addItem`); `constructor` would be the class's
/// constructor, so it is `constructor_`; `then` would make every client a
/// thenable (`await client` and a promise resolved with one would call it),
/// so it is `then_`.
pub(crate) fn method_name(rpc: &str) -> String {
    let camel = camel_case(rpc);
    let mut chars = camel.chars();
    let mut out: String = chars
        .next()
        .into_iter()
        .flat_map(char::to_lowercase)
        .collect();
    out.extend(chars);
    if out == "constructor" || out == "then" {
        out.push('_');
    }
    out
}

/// protoc's default JSON name: `foo_bar_baz` → `fooBarBaz`.
pub(crate) fn camel_case(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut upper = false;
    for c in name.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_are_lower_camel_case() {
        assert_eq!(method_name("AddItem"), "addItem");
        assert_eq!(method_name("get_item"), "getItem");
        assert_eq!(method_name("GetHTTPStatus"), "getHTTPStatus");
        assert_eq!(method_name("Constructor"), "constructor_");
        assert_eq!(method_name("Then"), "then_");
        assert_eq!(method_name("ThenWhat"), "thenWhat");
    }

    #[test]
    fn file_exports_and_camel_case() {
        assert_eq!(
            file_export("acme/shop/v1/shop.proto"),
            "file_acme_shop_v1_shop"
        );
        assert_eq!(file_export("a-b.c.proto"), "file_a_b_c");
        assert_eq!(camel_case("sent_at_ms"), "sentAtMs");
    }
}
