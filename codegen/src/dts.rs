//! The TypeScript of a generated module's types: every message as an exact
//! output interface and a lenient input interface, enums as string unions;
//! the proto comments as JSDoc. Needs only the ES2022 and DOM libs.
use prost_types::{FieldDescriptorProto, MethodDescriptorProto};

use crate::{
    comments::jsdoc,
    model::{Def, Model, TypeDef},
    scope::Scope,
    types::{self, Dir},
};

/// The declarations of the types `file` defines: each message as an exact
/// output and a lenient input interface, each enum as a union of its names,
/// with the proto comments as JSDoc. (The same text serves `.d.ts` and `.ts`.)
pub(crate) fn types(model: &Model, scope: &Scope, file: &str) -> String {
    let mut out = String::new();
    for t in model.declared(file) {
        out.push('\n');
        match &t.def {
            Def::Message { def, fields } => {
                message(&mut out, model, scope, t, &def.field, fields);
            }
            Def::Enum { def, values } => {
                let mut lines = Vec::new();
                let mut members: Vec<String> = Vec::new();
                for (value, comment) in def.value.iter().zip(values) {
                    let quoted = format!("\"{}\"", value.name());
                    if !members.contains(&quoted) {
                        members.push(quoted);
                    }
                    if let Some(comment) = comment {
                        let comment = comment.replace('\n', " ");
                        lines.push(format!(
                            "- `{}` ({}): {comment}",
                            value.name(),
                            value.number()
                        ));
                    }
                }
                out.push_str(&jsdoc("", t.comment.as_deref(), &lines, t.deprecated()));
                out.push_str(&format!(
                    "export type {} = {};\n",
                    scope.own.output(&t.full_name),
                    members.join(" | ")
                ));
            }
        }
    }
    out
}

/// A method's request and reply types and what it returns: (request,
/// returns), e.g. `("HelloRequestInput", "Promise<HelloReply>")`.
pub(crate) fn signature(scope: &Scope, def: &MethodDescriptorProto) -> (String, String) {
    let request = scope.message(def.input_type(), Dir::In);
    let reply = scope.message(def.output_type(), Dir::Out);
    let returns = if def.server_streaming() {
        format!("$rt.MessageStream<{reply}>")
    } else {
        format!("Promise<{reply}>")
    };
    (request, returns)
}

/// `interface Foo` (what calls return) and `interface FooInput` (what they
/// accept); a message without fields is `Record<string, never>` both ways.
fn message(
    out: &mut String,
    model: &Model,
    scope: &Scope,
    t: &TypeDef,
    fields: &[FieldDescriptorProto],
    comments: &[Option<String>],
) {
    let name = scope.own.output(&t.full_name);
    let input = scope.own.input(&t.full_name);
    let doc = jsdoc("", t.comment.as_deref(), &[], t.deprecated());
    let input_note = format!(
        "As calls accept {}: every field may be left out or `null` (the default).",
        t.full_name
    );
    let input_doc = jsdoc("", t.comment.as_deref(), &[input_note], t.deprecated());
    if fields.is_empty() {
        out.push_str(&format!(
            "{doc}export type {name} = Record<string, never>;\n"
        ));
        out.push_str(&format!(
            "{input_doc}export type {input} = Record<string, never>;\n"
        ));
        return;
    }
    for (dir, doc, declared) in [(Dir::Out, doc, name), (Dir::In, input_doc, input)] {
        out.push_str(&format!("{doc}export interface {declared} {{\n"));
        // A group field is left out, as the runtime's codec leaves it out.
        let fields = fields
            .iter()
            .zip(comments)
            .filter(|(f, _)| f.r#type() != prost_types::field_descriptor_proto::Type::Group);
        for (field, comment) in fields {
            let deprecated = field.options.as_ref().is_some_and(|o| o.deprecated());
            out.push_str(&jsdoc("  ", comment.as_deref(), &[], deprecated));
            let key = property(&json_name(field));
            let ty = types::field(model, scope, field, dir);
            let line = match dir {
                Dir::Out if types::optional_in_output(field, t.proto3) => {
                    format!("  {key}?: {ty};\n")
                }
                Dir::Out => format!("  {key}: {ty};\n"),
                // TypeScript gives every object literal what it inherits
                // from `Object` (`constructor`, `toString`, ...: functions),
                // so a field named so must allow a function or no literal
                // would fit; calls read own properties only.
                Dir::In if INHERITED.contains(&key.as_str()) => {
                    format!("  {key}?: {ty} | null | Function;\n")
                }
                Dir::In if ty == "null" => format!("  {key}?: null;\n"),
                Dir::In => format!("  {key}?: {ty} | null;\n"),
            };
            out.push_str(&line);
        }
        out.push_str("}\n");
    }
}

/// What TypeScript's `Object` declares, which every object literal has.
const INHERITED: [&str; 7] = [
    "constructor",
    "toString",
    "toLocaleString",
    "valueOf",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
];

/// A property name: as it is where it is an identifier, else quoted.
fn property(name: &str) -> String {
    let mut chars = name.chars();
    let identifier = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$');
    if identifier {
        name.to_owned()
    } else {
        format!("\"{}\"", name.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// The field's `json_name`; protoc's default where the descriptor has none.
fn json_name(field: &FieldDescriptorProto) -> String {
    field
        .json_name
        .clone()
        .unwrap_or_else(|| crate::names::camel_case(field.name()))
}
