//! The generator on small protos written to a temporary directory.
use grpc_web_abort_build::{Builder, Error, Generated};
use prost::Message as _;
use prost_types::FileDescriptorProto;

/// Writes `files` (name, source) into a fresh directory and generates for `protos`.
fn generate(files: &[(&str, &str)], protos: &[&str]) -> Result<Generated, Error> {
    let dir = tempfile::tempdir().unwrap();
    for (name, source) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, source).unwrap();
    }
    let mut builder = Builder::new().include(dir.path());
    for proto in protos {
        builder = builder.proto(proto);
    }
    builder.generate()
}

fn one(source: &str) -> Generated {
    generate(&[("t.proto", source)], &["t.proto"]).unwrap_or_else(|e| panic!("{e}"))
}

fn error(files: &[(&str, &str)], protos: &[&str]) -> String {
    match generate(files, protos) {
        Ok(_) => panic!("no error for {protos:?}"),
        Err(e) => e.to_string(),
    }
}

/// The text of the generated file `name`.
#[track_caller]
fn file<'g>(g: &'g Generated, name: &str) -> &'g str {
    match g.files.iter().find(|f| f.name == name) {
        Some(f) => &f.content,
        None => panic!(
            "no {name} among {:?}",
            g.files.iter().map(|f| &f.name).collect::<Vec<_>>()
        ),
    }
}

/// Asserts that every line of `expected` (trimmed) is a line of `text`.
#[track_caller]
fn assert_lines(text: &str, expected: &str) {
    let lines: Vec<&str> = text.lines().map(str::trim).collect();
    for line in expected.lines().map(str::trim).filter(|l| !l.is_empty()) {
        assert!(lines.contains(&line), "missing line {line:?} in:\n{text}");
    }
}

const KINDS: &str = r#"
syntax = "proto3";
package acme.kinds.v1;
import "google/protobuf/any.proto";
import "google/protobuf/duration.proto";
import "google/protobuf/empty.proto";
import "google/protobuf/field_mask.proto";
import "google/protobuf/struct.proto";
import "google/protobuf/timestamp.proto";
import "google/protobuf/wrappers.proto";

// A color.
enum Color {
  // Not set.
  COLOR_UNSPECIFIED = 0;
  RED = 1;
}

// Every kind of field.
message All {
  double d = 1;
  float f = 2;
  int32 i32 = 3;
  sfixed32 sf32 = 4;
  int64 i64 = 5;
  fixed64 f64 = 6;
  int64 as_string = 7 [jstype = JS_STRING];
  uint64 as_number = 8 [jstype = JS_NUMBER];
  bool b = 9;
  // The name.
  string s = 10;
  bytes by = 11;
  Color color = 12;
  Inner inner = 13;
  repeated Inner inners = 14;
  repeated sint64 longs = 15;
  repeated Color colors = 16;
  map<string, int64> counts = 17;
  map<int32, Inner> by_id = 18;
  oneof choice {
    string text = 19;
    Inner nested = 20;
  }
  optional int32 maybe = 21;
  google.protobuf.Timestamp at = 22;
  google.protobuf.Duration took = 23;
  google.protobuf.DoubleValue w_double = 24;
  google.protobuf.Int64Value w_int64 = 25;
  google.protobuf.UInt32Value w_uint32 = 26;
  google.protobuf.BoolValue w_bool = 27;
  google.protobuf.StringValue w_string = 28;
  google.protobuf.BytesValue w_bytes = 29;
  google.protobuf.Struct meta = 30;
  google.protobuf.Value json = 31;
  google.protobuf.ListValue list = 32;
  google.protobuf.NullValue nothing_at_all = 33;
  google.protobuf.Empty empty = 34;
  google.protobuf.FieldMask mask = 35;
  google.protobuf.Any any = 36;
  repeated google.protobuf.Timestamp times = 37;
  string renamed = 38 [json_name = "other-name"];

  message Inner {
    uint32 n = 1;
  }
}

message Nothing {}

service Kinds {
  // Echoes.
  rpc Echo(All) returns (All);
  rpc Stream(google.protobuf.Empty) returns (stream All);
  rpc Ping(google.protobuf.Timestamp) returns (google.protobuf.Empty);
}
"#;

#[test]
fn output_types_are_exact() {
    let g = one(KINDS);
    assert_lines(
        file(&g, "t_grpcweb.d.ts"),
        r#"
        export interface All {
          d: $rt.FloatOutput;
          f: $rt.FloatOutput;
          i32: number;
          sf32: number;
          i64: bigint;
          f64: bigint;
        "#,
    );
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
}

#[test]
fn a_module_embeds_its_own_file_and_registers_what_it_uses() {
    let g = one(KINDS);
    let js = file(&g, "t_grpcweb.js");
    let start = js.find("$rt.registerFile(\"").unwrap() + "$rt.registerFile(\"".len();
    let end = start + js[start..].find('"').unwrap();
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&js[start..end])
        .unwrap();
    let embedded = FileDescriptorProto::decode(bytes.as_slice()).unwrap();
    assert_eq!(embedded.name(), "t.proto");
    assert!(embedded.source_code_info.is_none());
    assert!(embedded.options.is_none());
    // The well-known types come from the runtime, not from generated modules.
    for wkt in ["timestamp", "any", "struct", "wrappers", "empty"] {
        assert!(
            js.contains(&format!("$rt.file_google_protobuf_{wkt}")),
            "{wkt} in {js}"
        );
    }
    assert!(!g.files.iter().any(|f| f.name.starts_with("google/")));
    assert!(js.contains("export const file_t = $rt.registerFile("));
    assert!(js.contains("this.#h = $rt.client(file_t, baseUrl, defaults);"));
}

#[test]
fn streaming_requests_are_warned_about_not_generated() {
    let g = one(r#"syntax = "proto3";
        package acme.shop.v1;
        message M {}
        service Cart {
          rpc Upload(stream M) returns (M);
          rpc Chat(stream M) returns (stream M);
          rpc Get(M) returns (M);
        }"#);
    assert_eq!(
        g.warnings,
        [
            "acme.shop.v1.Cart.Upload is client streaming: not generated (gRPC-Web over fetch cannot stream a request body)",
            "acme.shop.v1.Cart.Chat is bidi streaming: not generated (gRPC-Web over fetch cannot stream a request body)",
        ]
    );
    for text in [file(&g, "t_grpcweb.js"), file(&g, "t_grpcweb.d.ts")] {
        assert!(
            !text.contains("upload(") && !text.contains("chat("),
            "{text}"
        );
        assert!(text.contains("get(request"), "{text}");
    }
}

#[test]
fn imports_get_modules_and_the_index_exports_the_requested_files() {
    let g = generate(
        &[
            (
                "dep.proto",
                "syntax = \"proto3\"; package dep; message D { int32 n = 1; } message Unused {} service Dep { rpc Get(D) returns (D); }",
            ),
            (
                "main.proto",
                "syntax = \"proto3\"; package main; import \"dep.proto\"; service Main { rpc Get(dep.D) returns (dep.D); }",
            ),
        ],
        &["main.proto"],
    )
    .unwrap();
    let main = file(&g, "main_grpcweb.js");
    assert!(main.contains("class MainClient"));
    assert!(main.contains("import * as $d0 from \"./dep_grpcweb.js\";"));
    assert!(main.contains("[$d0.file_dep]"));
    assert_lines(
        file(&g, "main_grpcweb.d.ts"),
        "get(request: $d0.DInput, options?: $rt.CallOptions): Promise<$d0.D>;",
    );
    // A type is declared once, in its own proto's module.
    assert!(file(&g, "dep_grpcweb.d.ts").contains("export type Unused = Record<string, never>;"));
    assert!(!file(&g, "main_grpcweb.d.ts").contains("interface D "));
    assert!(
        g.index_js
            .contains("export { MainClient } from \"./main_grpcweb.js\";")
    );
    assert!(!g.index_js.contains("DepClient"));
}

#[test]
fn other_packages_types_are_reached_through_their_module() {
    let g = generate(
        &[
            (
                "a/money.proto",
                "syntax = \"proto3\"; package a.v1; message Money { int64 cents = 1; }",
            ),
            (
                "b/money.proto",
                "syntax = \"proto3\"; package b.v1; message Money { string amount = 1; }",
            ),
            (
                "shop.proto",
                r#"syntax = "proto3"; package shop;
                import "a/money.proto"; import "b/money.proto";
                message Date { int32 day = 1; }
                message Price { a.v1.Money a = 1; b.v1.Money b = 2; Date date = 3; }"#,
            ),
        ],
        &["shop.proto"],
    )
    .unwrap();
    assert_lines(
        file(&g, "shop_grpcweb.d.ts"),
        "import type * as $d0 from \"./a/money_grpcweb.js\";
         import type * as $d1 from \"./b/money_grpcweb.js\";
         export interface Date$ {
         export interface Date$Input {
         a?: $d0.Money;
         b?: $d1.MoneyInput | null;
         date?: Date$;",
    );
}

#[test]
fn names_a_proto_already_takes_get_a_dollar_never_an_error() {
    let g = one(r#"syntax = "proto3"; package p;
        message Intent { string name = 1; }
        message IntentInput { Intent intent = 1; }
        message ShopClient { string id = 1; }
        message A { message B { int32 n = 1; } }
        message A_B { int32 m = 1; }
        service Shop { rpc Get(Intent) returns (IntentInput); }"#);
    assert_lines(
        file(&g, "t_grpcweb.d.ts"),
        "export interface Intent {
         export interface IntentInput {
         export interface IntentInput$ {
         export interface IntentInputInput {
         export interface ShopClient {
         export declare class ShopClient$ {
         export interface A_B {
         export interface A_B$ {
         get(request: IntentInput$, options?: $rt.CallOptions): Promise<IntentInput>;",
    );
}

#[test]
fn two_requested_services_of_one_name_are_both_exported_prefixed() {
    let g = generate(
        &[
            (
                "a.proto",
                "syntax = \"proto3\"; package a.v1; message M {} service Cart { rpc Get(M) returns (M); }",
            ),
            (
                "b.proto",
                "syntax = \"proto3\"; package b.v1; message M {} service Cart { rpc Get(M) returns (M); }",
            ),
        ],
        &["a.proto", "b.proto"],
    )
    .unwrap();
    assert!(
        g.index_js.contains("CartClient as a_v1_CartClient"),
        "{}",
        g.index_js
    );
    assert!(
        g.index_js.contains("CartClient as b_v1_CartClient"),
        "{}",
        g.index_js
    );
}

#[test]
fn a_missing_file_is_named() {
    let e = error(&[], &["nowhere.proto"]);
    assert!(e.starts_with("nowhere.proto: file not found"), "{e}");
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let e = error(
        &[(
            "bad.proto",
            "syntax = \"proto3\";\npackage bad;\nmessage A {\n  string a = 1\n}\n",
        )],
        &["bad.proto"],
    );
    // Where the `;` is missing (after `= 1`), not at the `}` below.
    assert_eq!(e, "bad.proto:4:15: expected ';' or '[', but found '}'");
}

#[test]
fn a_syntax_error_after_a_comment_is_placed_after_the_last_token() {
    let e = error(
        &[(
            "bad.proto",
            "syntax = \"proto3\";\nmessage A {\n  string a = 1 // the \"a\" // field\n\n  int32 b = 2;\n}\n",
        )],
        &["bad.proto"],
    );
    assert!(e.starts_with("bad.proto:3:15: expected ';'"), "{e}");
    // A token out of place within a line stays where the parser saw it.
    let e = error(
        &[(
            "bad.proto",
            "syntax = \"proto3\";\nmessage A {\n  string = 1;\n}\n",
        )],
        &["bad.proto"],
    );
    assert!(e.starts_with("bad.proto:3:10: "), "{e}");
}

#[test]
fn a_missing_import_names_the_importing_line() {
    let e = error(
        &[(
            "imp.proto",
            "syntax = \"proto3\";\npackage bad;\nimport \"nowhere/missing.proto\";\n",
        )],
        &["imp.proto"],
    );
    assert_eq!(e, "imp.proto:3:1: import 'nowhere/missing.proto' not found");
}

#[test]
fn an_unknown_type_names_its_line() {
    let e = error(
        &[(
            "t.proto",
            "syntax = \"proto3\";\npackage bad;\nmessage A {\n  Foo a = 1;\n}\n",
        )],
        &["t.proto"],
    );
    assert_eq!(e, "t.proto:4:3: name 'Foo' is not defined");
}

#[test]
fn write_to_writes_the_modules_and_the_index() {
    let g =
        one("syntax = \"proto3\"; package p; message M {} service S { rpc Get(M) returns (M); }");
    let dir = tempfile::tempdir().unwrap();
    g.write_to(dir.path()).unwrap();
    for file in ["index.js", "index.d.ts", "t_grpcweb.js", "t_grpcweb.d.ts"] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
}

#[test]
fn idempotent_unary_methods_tell_the_runtime_so_it_retries_them() {
    let g = one(r#"syntax = "proto3";
        package acme.shop.v1;
        message M {}
        service Cart {
          rpc Get(M) returns (M) { option idempotency_level = NO_SIDE_EFFECTS; }
          rpc Put(M) returns (M) { option idempotency_level = IDEMPOTENT; }
          rpc Add(M) returns (M);
          rpc Watch(M) returns (stream M) { option idempotency_level = NO_SIDE_EFFECTS; }
        }"#);
    let js = file(&g, "t_grpcweb.js");
    assert_lines(
        js,
        r#"return $rt.unary(this.#h, "/acme.shop.v1.Cart/Get", request, options, { idempotent: true });
        return $rt.unary(this.#h, "/acme.shop.v1.Cart/Put", request, options, { idempotent: true });
        return $rt.unary(this.#h, "/acme.shop.v1.Cart/Add", request, options);
        return $rt.serverStream(this.#h, "/acme.shop.v1.Cart/Watch", request, options);"#,
    );
}
