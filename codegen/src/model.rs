//! The messages, enums and services of a set of proto files (a
//! `CodeGeneratorRequest`'s, or what protox compiled), each with its file
//! and comments: what one generated file declares and what it refers to.
use std::collections::HashMap;

use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    MethodDescriptorProto, ServiceDescriptorProto, field_descriptor_proto::Type,
};

use crate::{comments::Comments, types};

pub(crate) enum Def<'a> {
    Message {
        def: &'a DescriptorProto,
        /// Comments of the fields, by index.
        fields: Vec<Option<String>>,
    },
    Enum {
        def: &'a EnumDescriptorProto,
        /// Comments of the values, by index.
        values: Vec<Option<String>>,
    },
}

/// A message or an enum.
pub(crate) struct TypeDef<'a> {
    pub full_name: String,
    /// The nested names joined with `_`: `Outer_Inner`.
    pub local: String,
    pub file: &'a str,
    /// proto3 (where scalar fields have no presence unless `optional`).
    pub proto3: bool,
    pub comment: Option<String>,
    pub def: Def<'a>,
}

impl TypeDef<'_> {
    pub fn is_map_entry(&self) -> bool {
        matches!(&self.def, Def::Message { def, .. }
            if def.options.as_ref().is_some_and(|o| o.map_entry()))
    }

    pub fn deprecated(&self) -> bool {
        match &self.def {
            Def::Message { def, .. } => def.options.as_ref().is_some_and(|o| o.deprecated()),
            Def::Enum { def, .. } => def.options.as_ref().is_some_and(|o| o.deprecated()),
        }
    }
}

pub(crate) struct Service<'a> {
    pub full_name: String,
    pub name: &'a str,
    pub def: &'a ServiceDescriptorProto,
    pub comment: Option<String>,
    pub methods: Vec<Method<'a>>,
}

pub(crate) struct Method<'a> {
    /// `acme.shop.v1.Cart.AddItem`
    pub full_name: String,
    /// The HTTP path: `/acme.shop.v1.Cart/AddItem`.
    pub path: String,
    pub def: &'a MethodDescriptorProto,
    pub comment: Option<String>,
}

impl Method<'_> {
    /// Generated: unary and server-streaming methods.
    pub fn generated(&self) -> bool {
        !self.def.client_streaming()
    }
}

pub(crate) struct Model<'a> {
    types: HashMap<String, TypeDef<'a>>,
    /// Every file, as given (imports too).
    pub files: &'a [FileDescriptorProto],
    /// Full names in definition order, with the file defining them.
    order: Vec<(String, &'a str)>,
}

/// A type name as fields spell it (`.pkg.Msg`) without the leading dot.
pub(crate) fn full(type_name: &str) -> &str {
    type_name.strip_prefix('.').unwrap_or(type_name)
}

impl<'a> Model<'a> {
    /// Every message and enum of `files` (comments only for the files that
    /// carry source info, as the ones to generate do).
    pub fn new(files: &'a [FileDescriptorProto]) -> Self {
        let mut types = HashMap::new();
        let mut order = Vec::new();
        for file in files {
            let comments = Comments::of(file);
            let mut walk = Walk {
                file,
                comments: &comments,
                types: &mut types,
                order: &mut order,
            };
            for (i, message) in file.message_type.iter().enumerate() {
                walk.message(message, "", vec![4, i as i32]);
            }
            for (i, enumeration) in file.enum_type.iter().enumerate() {
                walk.enumeration(enumeration, "", vec![5, i as i32]);
            }
        }
        Model {
            types,
            files,
            order,
        }
    }

    pub fn get(&self, full_name: &str) -> Option<&TypeDef<'a>> {
        self.types.get(full(full_name))
    }

    pub fn file(&self, name: &str) -> Option<&'a FileDescriptorProto> {
        self.files.iter().find(|f| f.name() == name)
    }

    /// The types `file` declares, in definition order: map entries and the
    /// well-known types with a JSON form of their own are left out (they
    /// are written inline).
    pub fn declared(&self, file: &str) -> Vec<&TypeDef<'a>> {
        self.order
            .iter()
            .filter(|(name, f)| *f == file && !types::is_inlined(name))
            .map(|(name, _)| &self.types[name])
            .filter(|t| !t.is_map_entry())
            .collect()
    }

    /// The services of `file`, with their comments.
    pub fn services(&self, file: &'a FileDescriptorProto) -> Vec<Service<'a>> {
        let comments = Comments::of(file);
        file.service
            .iter()
            .enumerate()
            .map(|(i, s)| service(file, &comments, s, i))
            .collect()
    }

    /// Key and value of a map field, `None` for any other field.
    pub fn map_entry(
        &self,
        field: &FieldDescriptorProto,
    ) -> Option<(&'a FieldDescriptorProto, &'a FieldDescriptorProto)> {
        if field.r#type() != Type::Message {
            return None;
        }
        let entry = self.get(field.type_name()).filter(|t| t.is_map_entry())?;
        let Def::Message { def, .. } = &entry.def else {
            return None;
        };
        let key = def.field.iter().find(|f| f.number() == 1)?;
        let value = def.field.iter().find(|f| f.number() == 2)?;
        Some((key, value))
    }

    /// The message and enum types that `file`'s declarations and generated
    /// methods refer to, map entries seen through, in first-use order.
    pub fn referenced(&self, file: &'a FileDescriptorProto) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |name: &str| {
            let name = full(name).to_owned();
            if !out.contains(&name) {
                out.push(name);
            }
        };
        let mut messages: Vec<&DescriptorProto> = Vec::new();
        fn walk<'d>(m: &'d DescriptorProto, into: &mut Vec<&'d DescriptorProto>) {
            into.push(m);
            for nested in &m.nested_type {
                walk(nested, into);
            }
        }
        for m in &file.message_type {
            walk(m, &mut messages);
        }
        for m in messages {
            for field in &m.field {
                if field.type_name.is_some() {
                    add(field.type_name());
                }
            }
        }
        for service in &file.service {
            for method in service.method.iter().filter(|m| !m.client_streaming()) {
                add(method.input_type());
                add(method.output_type());
            }
        }
        out
    }
}

/// Collects one file's messages and enums.
struct Walk<'a, 'm> {
    file: &'a FileDescriptorProto,
    comments: &'m Comments,
    types: &'m mut HashMap<String, TypeDef<'a>>,
    /// Full names in definition order, with their file.
    order: &'m mut Vec<(String, &'a str)>,
}

impl<'a> Walk<'a, '_> {
    fn add(&mut self, outer: &str, name: &str, path: Vec<i32>, def: Def<'a>) {
        let package = self.file.package();
        let scoped = format!("{outer}{name}");
        let full_name = if package.is_empty() {
            scoped.clone()
        } else {
            format!("{package}.{scoped}")
        };
        self.order.push((full_name.clone(), self.file.name()));
        self.types.insert(
            full_name.clone(),
            TypeDef {
                full_name,
                local: scoped.replace('.', "_"),
                file: self.file.name(),
                proto3: self.file.syntax() == "proto3",
                comment: self.comments.get(&path),
                def,
            },
        );
    }

    fn message(&mut self, message: &'a DescriptorProto, outer: &str, path: Vec<i32>) {
        let fields = self.children(&path, 2, message.field.len());
        self.add(
            outer,
            message.name(),
            path.clone(),
            Def::Message {
                def: message,
                fields,
            },
        );
        let outer = format!("{outer}{}.", message.name());
        for (i, nested) in message.nested_type.iter().enumerate() {
            self.message(nested, &outer, [&path[..], &[3, i as i32]].concat());
        }
        for (i, enumeration) in message.enum_type.iter().enumerate() {
            self.enumeration(enumeration, &outer, [&path[..], &[4, i as i32]].concat());
        }
    }

    fn enumeration(&mut self, enumeration: &'a EnumDescriptorProto, outer: &str, path: Vec<i32>) {
        let values = self.children(&path, 2, enumeration.value.len());
        self.add(
            outer,
            enumeration.name(),
            path,
            Def::Enum {
                def: enumeration,
                values,
            },
        );
    }

    fn children(&self, path: &[i32], tag: i32, count: usize) -> Vec<Option<String>> {
        (0..count)
            .map(|i| self.comments.get(&[path, &[tag, i as i32]].concat()))
            .collect()
    }
}

fn service<'a>(
    file: &'a FileDescriptorProto,
    comments: &Comments,
    def: &'a ServiceDescriptorProto,
    index: usize,
) -> Service<'a> {
    let full_name = if file.package().is_empty() {
        def.name().to_owned()
    } else {
        format!("{}.{}", file.package(), def.name())
    };
    let methods = def
        .method
        .iter()
        .enumerate()
        .map(|(i, m)| Method {
            full_name: format!("{full_name}.{}", m.name()),
            path: format!("/{full_name}/{}", m.name()),
            def: m,
            comment: comments.get(&[6, index as i32, 2, i as i32]),
        })
        .collect();
    Service {
        name: def.name(),
        comment: comments.get(&[6, index as i32]),
        full_name,
        def,
        methods,
    }
}
