//! Proto types → TypeScript types, as the runtime's codec maps them (the
//! proto3 JSON mapping): an exact type for what calls return, a lenient one
//! for what they accept.
use prost_types::{
    FieldDescriptorProto,
    field_descriptor_proto::{Label, Type},
    field_options::JsType,
};

use crate::{model::Model, scope::Scope};

/// Which side of a call a type is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Dir {
    /// What a call returns: exact.
    Out,
    /// What a call accepts: lenient.
    In,
}

/// The well-known types whose JSON form is not an object of their fields:
/// (full name, output type, input type).
const INLINED: &[(&str, &str, &str)] = &[
    ("google.protobuf.Timestamp", "string", "string | Date"),
    ("google.protobuf.Duration", "string", "string"),
    ("google.protobuf.DoubleValue", FLOAT_OUT, NUMBER_IN),
    ("google.protobuf.FloatValue", FLOAT_OUT, NUMBER_IN),
    ("google.protobuf.Int64Value", "bigint", INT64_IN),
    ("google.protobuf.UInt64Value", "bigint", INT64_IN),
    ("google.protobuf.Int32Value", "number", NUMBER_IN),
    ("google.protobuf.UInt32Value", "number", NUMBER_IN),
    ("google.protobuf.BoolValue", "boolean", "boolean"),
    ("google.protobuf.StringValue", "string", "string"),
    ("google.protobuf.BytesValue", "Uint8Array", BYTES_IN),
    (
        "google.protobuf.Struct",
        "{ [key: string]: $rt.JsonValue }",
        "{ [key: string]: $rt.JsonValue }",
    ),
    ("google.protobuf.Value", "$rt.JsonValue", "$rt.JsonValue"),
    (
        "google.protobuf.ListValue",
        "$rt.JsonValue[]",
        "$rt.JsonValue[]",
    ),
    ("google.protobuf.NullValue", "null", "null"),
    (
        "google.protobuf.Empty",
        "Record<string, never>",
        "Record<string, never>",
    ),
    ("google.protobuf.FieldMask", "string", "string"),
    (
        "google.protobuf.Any",
        "{ typeUrl: string; value: Uint8Array }",
        "{ typeUrl?: string | null; value?: Uint8Array | string | null }",
    ),
];

const FLOAT_OUT: &str = "$rt.FloatOutput";
const NUMBER_IN: &str = "number | string";
const INT64_IN: &str = "bigint | number | string";
const BYTES_IN: &str = "Uint8Array | string";

/// Whether `full_name` is a well-known type written inline rather than declared.
pub(crate) fn is_inlined(full_name: &str) -> bool {
    inlined(full_name, Dir::Out).is_some()
}

pub(crate) fn inlined(full_name: &str, dir: Dir) -> Option<&'static str> {
    INLINED
        .iter()
        .find(|(name, ..)| *name == full_name)
        .map(|(_, out, input)| if dir == Dir::Out { *out } else { *input })
}

/// The type of a field, repeated and map fields included (without the
/// `| null` every input field also takes).
pub(crate) fn field(
    model: &Model,
    scope: &Scope,
    field: &FieldDescriptorProto,
    dir: Dir,
) -> String {
    if let Some((_, value)) = model.map_entry(field) {
        return format!("Record<string, {}>", single(scope, value, dir));
    }
    let one = single(scope, field, dir);
    if field.label() != Label::Repeated {
        one
    } else if one.contains(' ') {
        format!("({one})[]")
    } else {
        format!("{one}[]")
    }
}

/// Whether an output object may lack the field: it has presence (a message,
/// a oneof member, proto3 `optional`, any singular proto2 field).
pub(crate) fn optional_in_output(field: &FieldDescriptorProto, proto3: bool) -> bool {
    field.label() != Label::Repeated
        && (field.proto3_optional()
            || field.oneof_index.is_some()
            || matches!(field.r#type(), Type::Message | Type::Group)
            || !proto3)
}

/// One value of the field's type.
fn single(scope: &Scope, field: &FieldDescriptorProto, dir: Dir) -> String {
    let out = dir == Dir::Out;
    let scalar = match field.r#type() {
        Type::Double | Type::Float => {
            if out {
                FLOAT_OUT
            } else {
                NUMBER_IN
            }
        }
        Type::Int32 | Type::Uint32 | Type::Sint32 | Type::Fixed32 | Type::Sfixed32 => {
            if out {
                "number"
            } else {
                NUMBER_IN
            }
        }
        Type::Int64 | Type::Uint64 | Type::Sint64 | Type::Fixed64 | Type::Sfixed64 => {
            let jstype = field.options.as_ref().map(|o| o.jstype());
            match (out, jstype) {
                (false, _) => INT64_IN,
                (true, Some(JsType::JsString)) => "string",
                (true, Some(JsType::JsNumber)) => "number",
                (true, _) => "bigint",
            }
        }
        Type::Bool => "boolean",
        Type::String => "string",
        Type::Bytes => {
            if out {
                "Uint8Array"
            } else {
                BYTES_IN
            }
        }
        Type::Enum => {
            let name = crate::model::full(field.type_name());
            return match inlined(name, dir) {
                Some(inline) => inline.to_owned(),
                None => format!("{} | number", scope.named(name, Dir::Out)),
            };
        }
        Type::Message | Type::Group => return scope.message(field.type_name(), dir),
    };
    scalar.to_owned()
}
