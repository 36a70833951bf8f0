//! The messages, enums and methods of a user's protos, read at run time from
//! the `FileDescriptorSet` the code generator embeds in the package. This is
//! the table the generic codec walks, so no per-message code is compiled in.
//!
//! Only what the proto3 JSON mapping needs is kept. The descriptor is read
//! with [`crate::wire`] rather than prost-types, which would add its whole
//! descriptor model to the wasm for a handful of fields.
use crate::{
    ascii::{digits, join},
    wire::{LEN, Reader, VARINT, WireError},
};

/// A scalar or reference type of a field, numbered as in `FieldDescriptorProto.Type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Double,
    Float,
    Int64,
    UInt64,
    Int32,
    Fixed64,
    Fixed32,
    Bool,
    String,
    Bytes,
    UInt32,
    SFixed32,
    SFixed64,
    SInt32,
    SInt64,
    /// An index into [`Schema::enums`].
    Enum(usize),
    /// An index into [`Schema::messages`].
    Message(usize),
}

impl Kind {
    /// 64-bit integers: BigInt in, BigInt (or the `jstype`'s type) out.
    pub fn is_64_bit(self) -> bool {
        matches!(
            self,
            Kind::Int64 | Kind::UInt64 | Kind::Fixed64 | Kind::SFixed64 | Kind::SInt64
        )
    }

    /// Scalars that a repeated field packs into one record.
    pub fn is_packable(self) -> bool {
        !matches!(self, Kind::String | Kind::Bytes | Kind::Message(_))
    }
}

/// The `jstype` field option: how a 64-bit integer comes out in JS.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum JsType {
    #[default]
    BigInt,
    String,
    Number,
}

#[derive(Clone, Debug)]
pub struct Field {
    pub number: u32,
    pub name: String,
    pub json_name: String,
    pub kind: Kind,
    pub repeated: bool,
    /// A real (not synthetic) oneof this field belongs to: an index into [`Message::oneofs`].
    pub oneof: Option<usize>,
    /// Set and unset are told apart (proto3 `optional`, oneof members, messages).
    pub presence: bool,
    pub packed: bool,
    pub jstype: JsType,
}

/// The well-known types whose JSON form is not an object of their fields.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wkt {
    Timestamp,
    Duration,
    FieldMask,
    Struct,
    Value,
    ListValue,
    /// `google.protobuf.*Value`: the JSON form of field 1.
    Wrapper,
}

#[derive(Clone, Debug)]
pub struct Message {
    pub full_name: String,
    /// The name in errors: the full name without the package (`Outer.Inner`).
    pub name: String,
    /// In declaration order (any order is valid on the wire; not sorting
    /// keeps a sort routine out of the package).
    pub fields: Vec<Field>,
    pub oneofs: Vec<String>,
    pub map_entry: bool,
    pub wkt: Option<Wkt>,
}

impl Message {
    pub fn field(&self, number: u32) -> Option<&Field> {
        self.fields.iter().find(|f| f.number == number)
    }
}

#[derive(Clone, Debug)]
pub struct Enum {
    pub full_name: String,
    pub values: Vec<(String, i32)>,
}

impl Enum {
    pub fn name_of(&self, number: i32) -> Option<&str> {
        self.values
            .iter()
            .find(|(_, n)| *n == number)
            .map(|(name, _)| name.as_str())
    }

    pub fn number_of(&self, name: &str) -> Option<i32> {
        self.values.iter().find(|(n, _)| n == name).map(|(_, v)| *v)
    }

    /// `google.protobuf.NullValue`, which is `null` in JSON.
    pub fn is_null_value(&self) -> bool {
        self.full_name == "google.protobuf.NullValue"
    }
}

#[derive(Clone, Debug)]
pub struct Method {
    pub input: usize,
    pub output: usize,
    pub client_streaming: bool,
    pub server_streaming: bool,
}

#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub messages: Vec<Message>,
    pub enums: Vec<Enum>,
    /// By HTTP path: `/package.Service/Method` (a list: a package has few,
    /// and a hash map's code would outweigh them).
    pub methods: Vec<(String, Method)>,
}

/// What went wrong reading a descriptor set.
#[derive(Debug, PartialEq, Eq)]
pub struct SchemaError(pub String);

impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}{}", Self::PREFIX, self.0)
    }
}

impl SchemaError {
    /// What its message starts with.
    pub(crate) const PREFIX: &str = "invalid descriptor set: ";
}

impl From<WireError> for SchemaError {
    fn from(e: WireError) -> Self {
        Self(e.into())
    }
}

impl Schema {
    /// Reads an encoded `google.protobuf.FileDescriptorSet`.
    pub fn from_descriptor_set(bytes: &[u8]) -> Result<Self, SchemaError> {
        let mut raw = Raw::default();
        each_record(bytes, |number, r| {
            if number == 1 {
                raw.file(r.len_delimited()?)?;
            }
            Ok(())
        })?;
        raw.resolve()
    }

    pub fn method(&self, path: &str) -> Option<&Method> {
        self.methods.iter().find(|(p, _)| p == path).map(|(_, m)| m)
    }

    #[cfg(all(test, not(target_arch = "wasm32")))]
    pub fn message(&self, full_name: &str) -> Option<usize> {
        self.messages.iter().position(|m| m.full_name == full_name)
    }
}

/// Calls `read` for each field of a message; `read` consumes the value of
/// the fields it wants, the rest are skipped.
fn each_record(
    bytes: &[u8],
    mut read: impl FnMut(u32, &mut Reader) -> Result<(), SchemaError>,
) -> Result<(), SchemaError> {
    each_record_dyn(bytes, &mut read)
}

/// What [`each_record`] calls. `dyn`, so the package holds one copy of the
/// loop, not one per caller; a trait of its own, not `dyn FnMut`, whose
/// vtables each held a `call_once` shim that nothing calls (issue 17).
trait ReadRecord {
    fn read(&mut self, number: u32, r: &mut Reader) -> Result<(), SchemaError>;
}

impl<F: FnMut(u32, &mut Reader) -> Result<(), SchemaError>> ReadRecord for F {
    fn read(&mut self, number: u32, r: &mut Reader) -> Result<(), SchemaError> {
        self(number, r)
    }
}

fn each_record_dyn(bytes: &[u8], read: &mut dyn ReadRecord) -> Result<(), SchemaError> {
    let mut r = Reader::new(bytes);
    while let Some((number, wire_type)) = r.tag()? {
        let before = r.remaining();
        if wire_type == LEN || wire_type == VARINT {
            read.read(number, &mut r)?;
        }
        if r.remaining() == before {
            r.skip(wire_type)?;
        }
    }
    Ok(())
}

fn text(bytes: &[u8]) -> Result<String, SchemaError> {
    String::from_utf8(bytes.to_vec()).map_err(|_| SchemaError("a name is not UTF-8".into()))
}

/// Fields as read, with type names not yet resolved to indices.
struct RawField {
    field: Field,
    type_number: u64,
    type_name: String,
    label: u64,
    oneof_index: Option<usize>,
    proto3_optional: bool,
    packed: Option<bool>,
}

#[derive(Default)]
struct Raw {
    messages: Vec<Message>,
    /// Each message's fields as read, and whether its file is proto3 (in
    /// step with `messages`, so `resolve` looks names up in `messages`
    /// itself rather than in copies of them).
    raw_fields: Vec<(Vec<RawField>, bool)>,
    enums: Vec<Enum>,
    /// (path, input type, output type, client streaming, server streaming)
    methods: Vec<(String, String, String, bool, bool)>,
}

impl Raw {
    fn file(&mut self, bytes: &[u8]) -> Result<(), SchemaError> {
        let mut package = String::new();
        let mut proto3 = false;
        each_record(bytes, |n, r| {
            match n {
                2 => package = text(r.len_delimited()?)?,
                12 => proto3 = r.len_delimited()? == b"proto3",
                _ => {}
            }
            Ok(())
        })?;
        let prefix = if package.is_empty() {
            String::new()
        } else {
            join(&[&package, "."])
        };
        each_record(bytes, |n, r| {
            match n {
                4 => self.message(&prefix, "", r.len_delimited()?, proto3)?,
                5 => self.enumeration(&prefix, r.len_delimited()?)?,
                6 => self.service(&prefix, r.len_delimited()?)?,
                _ => {}
            }
            Ok(())
        })
    }

    fn message(
        &mut self,
        package: &str,
        outer: &str,
        bytes: &[u8],
        proto3: bool,
    ) -> Result<(), SchemaError> {
        let mut name = String::new();
        each_record(bytes, |n, r| {
            if n == 1 {
                name = text(r.len_delimited()?)?;
            }
            Ok(())
        })?;
        let local = join(&[outer, &name]);
        let full_name = join(&[package, &local]);
        let index = self.messages.len();
        self.messages.push(Message {
            wkt: wkt(&full_name),
            full_name,
            name: local.clone(),
            fields: Vec::new(),
            oneofs: Vec::new(),
            map_entry: false,
        });
        self.raw_fields.push((Vec::new(), proto3));
        let nested_prefix = join(&[&local, "."]);
        let (mut fields, mut oneofs, mut map_entry) = (Vec::new(), Vec::new(), false);
        each_record(bytes, |n, r| {
            match n {
                2 => fields.push(raw_field(r.len_delimited()?)?),
                3 => self.message(package, &nested_prefix, r.len_delimited()?, proto3)?,
                4 => self.enumeration(&join(&[package, &nested_prefix]), r.len_delimited()?)?,
                7 => each_record(r.len_delimited()?, |n, r| {
                    if n == 7 {
                        map_entry = r.varint()? != 0;
                    }
                    Ok(())
                })?,
                8 => each_record(r.len_delimited()?, |n, r| {
                    if n == 1 {
                        oneofs.push(text(r.len_delimited()?)?);
                    }
                    Ok(())
                })?,
                _ => {}
            }
            Ok(())
        })?;
        let entry = &mut self.messages[index];
        entry.oneofs = oneofs;
        entry.map_entry = map_entry;
        self.raw_fields[index].0 = fields;
        Ok(())
    }

    fn enumeration(&mut self, prefix: &str, bytes: &[u8]) -> Result<(), SchemaError> {
        let (mut name, mut values) = (String::new(), Vec::new());
        each_record(bytes, |n, r| {
            match n {
                1 => name = text(r.len_delimited()?)?,
                2 => {
                    let (mut value_name, mut number) = (String::new(), 0);
                    each_record(r.len_delimited()?, |n, r| {
                        match n {
                            1 => value_name = text(r.len_delimited()?)?,
                            2 => number = r.varint()? as i32,
                            _ => {}
                        }
                        Ok(())
                    })?;
                    values.push((value_name, number));
                }
                _ => {}
            }
            Ok(())
        })?;
        self.enums.push(Enum {
            full_name: join(&[prefix, &name]),
            values,
        });
        Ok(())
    }

    fn service(&mut self, package: &str, bytes: &[u8]) -> Result<(), SchemaError> {
        // The name first (it may follow the methods), so each method's path
        // is made as it is read.
        let mut name = String::new();
        each_record(bytes, |n, r| {
            if n == 1 {
                name = text(r.len_delimited()?)?;
            }
            Ok(())
        })?;
        each_record(bytes, |n, r| {
            if n == 2 {
                let (mut m, mut input, mut output) = (String::new(), String::new(), String::new());
                let (mut client, mut server) = (false, false);
                each_record(r.len_delimited()?, |n, r| {
                    match n {
                        1 => m = text(r.len_delimited()?)?,
                        2 => input = text(r.len_delimited()?)?,
                        3 => output = text(r.len_delimited()?)?,
                        5 => client = r.varint()? != 0,
                        6 => server = r.varint()? != 0,
                        _ => {}
                    }
                    Ok(())
                })?;
                self.methods.push((
                    join(&["/", package, &name, "/", &m]),
                    input,
                    output,
                    client,
                    server,
                ));
            }
            Ok(())
        })
    }

    /// Type names to indices, oneofs and presence settled, fields sorted.
    fn resolve(self) -> Result<Schema, SchemaError> {
        // Linear look-ups: done once per package, and a hash map's code
        // would outweigh them.
        fn full(name: &str) -> &str {
            name.strip_prefix(".").unwrap_or(name)
        }
        fn message(messages: &[Message], name: &str) -> Result<usize, SchemaError> {
            messages
                .iter()
                .position(|m| m.full_name == full(name))
                .ok_or_else(|| SchemaError(join(&["unknown message type ", name])))
        }
        let Raw {
            mut messages,
            raw_fields,
            enums,
            methods: raw_methods,
        } = self;
        for (index, (fields, proto3)) in raw_fields.into_iter().enumerate() {
            for raw in fields {
                let mut field = raw.field;
                field.kind = match raw.type_number {
                    1 => Kind::Double,
                    2 => Kind::Float,
                    3 => Kind::Int64,
                    4 => Kind::UInt64,
                    5 => Kind::Int32,
                    6 => Kind::Fixed64,
                    7 => Kind::Fixed32,
                    8 => Kind::Bool,
                    9 => Kind::String,
                    11 => Kind::Message(message(&messages, &raw.type_name)?),
                    12 => Kind::Bytes,
                    13 => Kind::UInt32,
                    14 => Kind::Enum(
                        enums
                            .iter()
                            .position(|e| e.full_name == full(&raw.type_name))
                            .ok_or_else(|| {
                                SchemaError(join(&["unknown enum type ", &raw.type_name]))
                            })?,
                    ),
                    15 => Kind::SFixed32,
                    16 => Kind::SFixed64,
                    17 => Kind::SInt32,
                    18 => Kind::SInt64,
                    // A group field (proto2, or an edition's delimited
                    // encoding) is left out, as the generated types leave
                    // it out: on the wire it is skipped like any unknown
                    // field, and a request cannot set it. One such field
                    // must not make every other message unusable.
                    10 => continue,
                    other => {
                        let text = join(&["unknown field type ", &digits(other)]);
                        return Err(SchemaError(text));
                    }
                };
                field.repeated = raw.label == 3;
                field.oneof = raw.oneof_index.filter(|_| !raw.proto3_optional);
                field.presence = !field.repeated
                    && (raw.proto3_optional
                        || field.oneof.is_some()
                        || matches!(field.kind, Kind::Message(_))
                        || !proto3);
                field.packed =
                    field.repeated && field.kind.is_packable() && raw.packed.unwrap_or(proto3);
                messages[index].fields.push(field);
            }
        }
        let mut methods = Vec::new();
        for (path, input, output, client_streaming, server_streaming) in raw_methods {
            methods.push((
                path,
                Method {
                    input: message(&messages, &input)?,
                    output: message(&messages, &output)?,
                    client_streaming,
                    server_streaming,
                },
            ));
        }
        Ok(Schema {
            messages,
            enums,
            methods,
        })
    }
}

fn raw_field(bytes: &[u8]) -> Result<RawField, SchemaError> {
    let mut raw = RawField {
        field: Field {
            number: 0,
            name: String::new(),
            json_name: String::new(),
            kind: Kind::Bool,
            repeated: false,
            oneof: None,
            presence: false,
            packed: false,
            jstype: JsType::BigInt,
        },
        type_number: 0,
        type_name: String::new(),
        label: 1,
        oneof_index: None,
        proto3_optional: false,
        packed: None,
    };
    each_record(bytes, |n, r| {
        match n {
            1 => raw.field.name = text(r.len_delimited()?)?,
            3 => raw.field.number = r.varint()? as u32,
            4 => raw.label = r.varint()?,
            5 => raw.type_number = r.varint()?,
            6 => raw.type_name = text(r.len_delimited()?)?,
            9 => raw.oneof_index = Some(r.varint()? as usize),
            10 => raw.field.json_name = text(r.len_delimited()?)?,
            17 => raw.proto3_optional = r.varint()? != 0,
            8 => each_record(r.len_delimited()?, |n, r| {
                match n {
                    2 => raw.packed = Some(r.varint()? != 0),
                    6 => {
                        raw.field.jstype = match r.varint()? {
                            1 => JsType::String,
                            2 => JsType::Number,
                            _ => JsType::BigInt,
                        }
                    }
                    _ => {}
                }
                Ok(())
            })?,
            _ => {}
        }
        Ok(())
    })?;
    if raw.field.json_name.is_empty() {
        raw.field.json_name = json_name(&raw.field.name);
    }
    Ok(raw)
}

/// protoc's default JSON name: `foo_bar_baz` → `fooBarBaz`. ASCII case
/// only, as protoc's `ToJsonName` (proto identifiers are ASCII; Unicode
/// case tables would add 3 KB to the package).
pub fn json_name(name: &str) -> String {
    // Byte by byte (no char decoding and encoding in the package): only
    // ASCII bytes change, so the result is as valid UTF-8 as `name`.
    let mut out = Vec::with_capacity(name.len());
    let mut upper = false;
    for b in name.bytes() {
        if b == b'_' {
            upper = true;
        } else {
            out.push(if upper { b.to_ascii_uppercase() } else { b });
            upper = false;
        }
    }
    String::from_utf8(out).unwrap_or_default()
}

fn wkt(full_name: &str) -> Option<Wkt> {
    Some(match full_name.strip_prefix("google.protobuf.")? {
        "Timestamp" => Wkt::Timestamp,
        "Duration" => Wkt::Duration,
        "FieldMask" => Wkt::FieldMask,
        "Struct" => Wkt::Struct,
        "Value" => Wkt::Value,
        "ListValue" => Wkt::ListValue,
        "DoubleValue" | "FloatValue" | "Int64Value" | "UInt64Value" | "Int32Value"
        | "UInt32Value" | "BoolValue" | "StringValue" | "BytesValue" => Wkt::Wrapper,
        _ => return None,
    })
}

/// `source`, saved as `file`, compiled by protox and read as the browser
/// gets it: for the host tests of this reader and of the codec.
#[cfg(all(test, not(target_arch = "wasm32")))]
pub(crate) fn compile_for_tests(file: &str, source: &str) -> Schema {
    // A directory per call: the tests run in parallel, and it goes when dropped.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(file), source).unwrap();
    let fds = protox::compile([file], [dir.path()]).unwrap();
    Schema::from_descriptor_set(&prost::Message::encode_to_vec(&fds)).unwrap()
}

// Host only: they compile protos from files.
#[cfg(all(test, not(target_arch = "wasm32")))]
mod tests {
    use super::*;

    #[test]
    fn reads_messages_fields_enums_and_methods() {
        let schema = compile_for_tests(
            "t.proto",
            r#"syntax = "proto3";
            package acme.v1;
            import "google/protobuf/timestamp.proto";
            message Item {
              message Part { string name = 1; }
              enum Size { SIZE_UNSPECIFIED = 0; LARGE = 2; }
              string sku_code = 2;
              int64 count = 1 [jstype = JS_STRING];
              repeated int32 marks = 3;
              repeated int32 loose = 4 [packed = false];
              optional bool gift = 5;
              oneof kind { string a = 6; Part b = 7; }
              map<string, Part> parts = 8;
              Size size = 9;
              google.protobuf.Timestamp at = 10;
            }
            service Shop { rpc Get(Item) returns (stream Item.Part); }"#,
        );
        let item = &schema.messages[schema.message("acme.v1.Item").unwrap()];
        assert_eq!(item.name, "Item");
        let mut numbers: Vec<u32> = item.fields.iter().map(|f| f.number).collect();
        numbers.sort();
        assert_eq!(numbers, (1..=10).collect::<Vec<_>>());
        let f = |n| item.field(n).unwrap();
        assert_eq!(f(1).jstype, JsType::String);
        assert_eq!(f(2).json_name, "skuCode");
        assert!(f(3).packed && !f(4).packed && f(3).repeated);
        assert!(f(5).presence && f(5).oneof.is_none());
        assert_eq!((f(6).oneof, f(7).oneof), (Some(0), Some(0)));
        // Synthetic oneofs of `optional` fields are listed but never referenced.
        assert_eq!(item.oneofs[0], "kind");
        assert!(!f(2).presence);
        let Kind::Message(entry) = f(8).kind else {
            panic!("a map is a message")
        };
        assert!(schema.messages[entry].map_entry && f(8).repeated);
        let Kind::Enum(size) = f(9).kind else {
            panic!("an enum")
        };
        assert_eq!(schema.enums[size].full_name, "acme.v1.Item.Size");
        assert_eq!(schema.enums[size].name_of(2), Some("LARGE"));
        let Kind::Message(at) = f(10).kind else {
            panic!("a message")
        };
        assert_eq!(schema.messages[at].wkt, Some(Wkt::Timestamp));
        let method = schema.method("/acme.v1.Shop/Get").unwrap();
        assert!(method.server_streaming && !method.client_streaming);
        assert_eq!(schema.messages[method.output].name, "Item.Part");
    }

    #[test]
    fn json_names_follow_protoc() {
        assert_eq!(json_name("foo_bar_baz"), "fooBarBaz");
        assert_eq!(json_name("n"), "n");
        assert_eq!(json_name("_a__b_"), "AB");
        // Byte by byte, non-ASCII letters pass through unchanged.
        assert_eq!(json_name("straße_über"), "straßeüber");
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        assert!(Schema::from_descriptor_set(&[0x0a, 0x05, 1]).is_err());
        assert!(Schema::from_descriptor_set(&[0xff]).is_err());
    }
}
