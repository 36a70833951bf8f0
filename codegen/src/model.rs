//! What the package declares: the services of the requested files, and the
//! messages and enums their methods reach plus those the requested files
//! define, each with its comments.
use std::collections::{HashMap, HashSet};

use prost_types::{
    DescriptorProto, EnumDescriptorProto, FieldDescriptorProto, FileDescriptorProto,
    MethodDescriptorProto, ServiceDescriptorProto, field_descriptor_proto::Type,
};

use crate::{Error, comments::Comments, compile::Compiled, types};

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
    pub package: &'a str,
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
    pub file: &'a str,
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
    /// What the declarations declare, in the order the protos define it.
    pub declared: Vec<String>,
    pub services: Vec<Service<'a>>,
}

/// A type name as fields spell it (`.pkg.Msg`) without the leading dot.
pub(crate) fn full(type_name: &str) -> &str {
    type_name.strip_prefix('.').unwrap_or(type_name)
}

impl<'a> Model<'a> {
    pub fn new(compiled: &'a Compiled) -> Result<Self, Error> {
        let mut types = HashMap::new();
        let mut order = Vec::new();
        let mut services = Vec::new();
        for file in &compiled.files.file {
            let comments = Comments::of(file);
            let requested = compiled.requested.iter().any(|r| r == file.name());
            let mut walk = Walk {
                file,
                comments: &comments,
                types: &mut types,
                order: &mut order,
                requested,
            };
            for (i, message) in file.message_type.iter().enumerate() {
                walk.message(message, "", vec![4, i as i32]);
            }
            for (i, enumeration) in file.enum_type.iter().enumerate() {
                walk.enumeration(enumeration, "", vec![5, i as i32]);
            }
            if requested {
                services.extend(
                    file.service
                        .iter()
                        .enumerate()
                        .map(|(i, s)| service(file, &comments, s, i)),
                );
            }
        }
        let mut model = Model {
            types,
            declared: Vec::new(),
            services,
        };
        model.declared = model.reachable(&order)?;
        Ok(model)
    }

    pub fn get(&self, full_name: &str) -> Option<&TypeDef<'a>> {
        self.types.get(full(full_name))
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

    /// The requested files' own types, and every type their generated
    /// methods reach, in definition order; map entries and the well-known
    /// types with a JSON form of their own are left out (they are inlined).
    fn reachable(&self, order: &[(String, bool)]) -> Result<Vec<String>, Error> {
        let mut stack: Vec<String> = order
            .iter()
            .filter(|(_, requested)| *requested)
            .map(|(name, _)| name.clone())
            .collect();
        for method in self.services.iter().flat_map(|s| &s.methods) {
            if method.generated() {
                stack.push(full(method.def.input_type()).to_owned());
                stack.push(full(method.def.output_type()).to_owned());
            }
        }
        let mut seen = HashSet::new();
        while let Some(name) = stack.pop() {
            if types::is_inlined(&name) || !seen.insert(name.clone()) {
                continue;
            }
            let Some(TypeDef {
                def: Def::Message { def, .. },
                file,
                ..
            }) = self.types.get(&name)
            else {
                continue;
            };
            for field in &def.field {
                if field.r#type() == Type::Group {
                    return Err(Error::new(format!(
                        "{file}: {name}.{}: groups are not supported",
                        field.name()
                    )));
                }
                if field.type_name.is_some() {
                    stack.push(full(field.type_name()).to_owned());
                }
            }
        }
        Ok(order
            .iter()
            .map(|(name, _)| name)
            .filter(|name| seen.contains(*name) && !self.types[*name].is_map_entry())
            .cloned()
            .collect())
    }
}

/// Collects one file's messages and enums.
struct Walk<'a, 'm> {
    file: &'a FileDescriptorProto,
    comments: &'m Comments,
    types: &'m mut HashMap<String, TypeDef<'a>>,
    /// Full names in definition order, and whether a requested file defines them.
    order: &'m mut Vec<(String, bool)>,
    requested: bool,
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
        self.order.push((full_name.clone(), self.requested));
        self.types.insert(
            full_name.clone(),
            TypeDef {
                full_name,
                package,
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
        file: file.name(),
        comment: comments.get(&[6, index as i32]),
        full_name,
        def,
        methods,
    }
}
