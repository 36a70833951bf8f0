//! The names the package gives types, client classes and methods (the rules
//! are in the crate's documentation).
use std::collections::{BTreeMap, HashMap};

use crate::{
    Error,
    model::{Def, Model},
};

/// Names a generated type cannot take as it is, because the declarations
/// use them themselves (or they are keywords): such a type is prefixed with
/// its package like a colliding one.
pub const RESERVED: &[&str] = &[
    // What index.d.ts imports and exports besides the generated names.
    "CallOptions",
    "MessageStream",
    "JsonValue",
    "FloatOutput",
    "GrpcError",
    "Code",
    "navigationSignal",
    "init",
    // Globals the declarations refer to.
    "Array",
    "Date",
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

pub(crate) struct Names {
    /// Full proto name → TypeScript name.
    types: HashMap<String, String>,
    /// Service full name → class name.
    clients: HashMap<String, String>,
    /// Method full name → JS method name.
    methods: HashMap<String, String>,
}

impl Names {
    pub fn assign(model: &Model) -> Result<Self, Error> {
        let types = type_names(model);
        let clients = client_names(model)?;
        let methods = method_names(model)?;
        let names = Self {
            types,
            clients,
            methods,
        };
        names.check_unique(model)?;
        Ok(names)
    }

    /// The TypeScript name of a declared type.
    pub fn of(&self, full_name: &str) -> &str {
        &self.types[full_name]
    }

    pub fn client(&self, service: &str) -> &str {
        &self.clients[service]
    }

    pub fn method(&self, method: &str) -> &str {
        &self.methods[method]
    }

    /// What prefixing cannot settle (`A_B` next to `A.B` in one package, a
    /// message `FooInput` next to a message `Foo`, a message named like a
    /// client class) is an error naming both.
    fn check_unique(&self, model: &Model) -> Result<(), Error> {
        let mut owners: HashMap<String, String> = HashMap::new();
        let mut claim = |name: String, owner: String| match owners.get(&name) {
            Some(first) => Err(Error::new(format!(
                "{first} and {owner} would both be named {name} in the generated TypeScript: rename one"
            ))),
            None => {
                owners.insert(name, owner);
                Ok(())
            }
        };
        for full_name in &model.declared {
            let t = model.get(full_name).expect("declared types are known");
            let name = self.of(full_name);
            let owner = format!("{full_name} ({})", t.file);
            if matches!(t.def, Def::Message { .. }) {
                claim(format!("{name}Input"), owner.clone())?;
            }
            claim(name.to_owned(), owner)?;
        }
        for service in &model.services {
            claim(
                self.client(&service.full_name).to_owned(),
                format!("service {} ({})", service.full_name, service.file),
            )?;
        }
        Ok(())
    }
}

/// `Outer_Inner`, prefixed with the package (dots → `_`) where two packages
/// would give the same name or the name is [`RESERVED`].
fn type_names(model: &Model) -> HashMap<String, String> {
    let mut by_local: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for full_name in &model.declared {
        let t = model.get(full_name).expect("declared types are known");
        by_local.entry(&t.local).or_default().push(full_name);
    }
    let mut names = HashMap::new();
    for (local, full_names) in by_local {
        let packages = |n: &&str| model.get(n).map(|t| t.package);
        let first = full_names.first().and_then(packages);
        let collide = full_names.iter().any(|n| packages(n) != first);
        for full_name in full_names {
            let package = model.get(full_name).map_or("", |t| t.package);
            let mut name = if collide || RESERVED.contains(&local) {
                prefixed(package, local)
            } else {
                local.to_owned()
            };
            if RESERVED.contains(&name.as_str()) {
                name.push('_');
            }
            names.insert(full_name.to_owned(), name);
        }
    }
    names
}

fn prefixed(package: &str, local: &str) -> String {
    if package.is_empty() {
        local.to_owned()
    } else {
        format!("{}_{local}", package.replace('.', "_"))
    }
}

/// `Cart` → `CartClient`; two services of one name are an error.
fn client_names(model: &Model) -> Result<HashMap<String, String>, Error> {
    let mut names: HashMap<String, String> = HashMap::new();
    let mut by_class: HashMap<String, String> = HashMap::new();
    for service in &model.services {
        let class = format!("{}Client", service.name);
        let this = format!("{} ({})", service.full_name, service.file);
        if let Some(first) = by_class.get(&class) {
            return Err(Error::new(format!(
                "two services are named {}: {first} and {this}; each would be the class {class}: \
                 rename one, or package them separately",
                service.name
            )));
        }
        by_class.insert(class.clone(), this);
        names.insert(service.full_name.clone(), class);
    }
    Ok(names)
}

/// `AddItem` → `addItem`; two methods of one service with one name are an error.
fn method_names(model: &Model) -> Result<HashMap<String, String>, Error> {
    let mut names = HashMap::new();
    for service in &model.services {
        let mut taken: HashMap<String, &str> = HashMap::new();
        for method in service.methods.iter().filter(|m| m.generated()) {
            let name = method_name(method.def.name());
            if let Some(first) = taken.insert(name.clone(), method.def.name()) {
                return Err(Error::new(format!(
                    "{}: the methods {first} and {} would both be {name}(): rename one",
                    service.full_name,
                    method.def.name()
                )));
            }
            names.insert(method.full_name.clone(), name);
        }
    }
    Ok(names)
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
    fn prefixes_turn_dots_into_underscores() {
        assert_eq!(prefixed("acme.common.v1", "Money"), "acme_common_v1_Money");
        assert_eq!(prefixed("", "Money"), "Money");
        assert_eq!(camel_case("sent_at_ms"), "sentAtMs");
    }
}
