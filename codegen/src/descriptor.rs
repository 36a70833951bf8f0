//! What a generated module embeds of its proto: the `FileDescriptorProto`
//! with only what the runtime's codec reads (names, numbers, types,
//! `json_name` where it is not the default, `packed`, `jstype`, map
//! entries, idempotency levels for retries), as base64. Source info and every other option go: an API's
//! HTTP annotations and documentation would cost the app bytes for nothing.
use base64::{Engine as _, engine::general_purpose::STANDARD};
use prost::Message as _;
use prost_types::{
    DescriptorProto, FieldOptions, FileDescriptorProto, MessageOptions, MethodOptions,
    field_descriptor_proto::Label,
};

pub(crate) fn embedded(file: &FileDescriptorProto) -> String {
    STANDARD.encode(stripped(file).encode_to_vec())
}

pub(crate) fn stripped(file: &FileDescriptorProto) -> FileDescriptorProto {
    let mut file = file.clone();
    file.source_code_info = None;
    file.options = None;
    file.extension.clear();
    file.message_type.iter_mut().for_each(message);
    file.enum_type.iter_mut().for_each(enumeration);
    for service in &mut file.service {
        service.options = None;
        for method in &mut service.method {
            method.options = method
                .options
                .as_ref()
                .and_then(|o| o.idempotency_level)
                .map(|level| MethodOptions {
                    idempotency_level: Some(level),
                    ..Default::default()
                });
        }
    }
    file
}

fn message(m: &mut DescriptorProto) {
    m.options = m
        .options
        .as_ref()
        .filter(|o| o.map_entry())
        .map(|_| MessageOptions {
            map_entry: Some(true),
            ..Default::default()
        });
    m.extension.clear();
    m.extension_range.clear();
    m.reserved_range.clear();
    m.reserved_name.clear();
    for field in &mut m.field {
        // What the runtime derives by itself is left out: the default JSON
        // name (protoc's camel case) and the default label (optional).
        if field.json_name.as_deref() == Some(crate::names::camel_case(field.name()).as_str()) {
            field.json_name = None;
        }
        if field.label == Some(Label::Optional as i32) {
            field.label = None;
        }
        field.options = field.options.as_ref().and_then(|o| {
            (o.packed.is_some() || o.jstype.is_some()).then(|| FieldOptions {
                packed: o.packed,
                jstype: o.jstype,
                ..Default::default()
            })
        });
    }
    m.oneof_decl.iter_mut().for_each(|o| o.options = None);
    m.enum_type.iter_mut().for_each(enumeration);
    m.nested_type.iter_mut().for_each(message);
}

fn enumeration(e: &mut prost_types::EnumDescriptorProto) {
    e.options = None;
    e.reserved_range.clear();
    e.reserved_name.clear();
    e.value.iter_mut().for_each(|v| v.options = None);
}
