//! The generator on small protos written to a temporary directory.
use grpc_web_abort_build::{Builder, Error, Generated};
use prost::Message as _;
use prost_types::FileDescriptorSet;

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
        &g.index_d_ts,
        r#"
        export interface All {
          d: FloatOutput;
          f: FloatOutput;
          i32: number;
          sf32: number;
          i64: bigint;
          f64: bigint;
          asString: string;
          asNumber: number;
          b: boolean;
          /** The name. */
          s: string;
          by: Uint8Array;
          color: Color | number;
          inner?: All_Inner;
          inners: All_Inner[];
          longs: bigint[];
          colors: (Color | number)[];
          counts: Record<string, bigint>;
          byId: Record<string, All_Inner>;
          text?: string;
          nested?: All_Inner;
          maybe?: number;
          at?: string;
          took?: string;
          wDouble?: FloatOutput;
          wInt64?: bigint;
          wUint32?: number;
          wBool?: boolean;
          wString?: string;
          wBytes?: Uint8Array;
          meta?: { [key: string]: JsonValue };
          json?: JsonValue;
          list?: JsonValue[];
          nothingAtAll: null;
          empty?: Record<string, never>;
          mask?: string;
          any?: { typeUrl: string; value: Uint8Array };
          times: string[];
          "other-name": string;
        export interface All_Inner {
          n: number;
        export type Nothing = Record<string, never>;
        "#,
    );
}

#[test]
fn input_types_are_lenient() {
    let g = one(KINDS);
    assert_lines(
        &g.index_d_ts,
        r#"
        export interface AllInput {
          d?: number | string | null;
          i32?: number | string | null;
          i64?: bigint | number | string | null;
          asString?: bigint | number | string | null;
          b?: boolean | null;
          by?: Uint8Array | string | null;
          color?: Color | number | null;
          inner?: All_InnerInput | null;
          inners?: All_InnerInput[] | null;
          longs?: (bigint | number | string)[] | null;
          counts?: Record<string, bigint | number | string> | null;
          byId?: Record<string, All_InnerInput> | null;
          at?: string | Date | null;
          wDouble?: number | string | null;
          wBytes?: Uint8Array | string | null;
          nothingAtAll?: null;
          any?: { typeUrl?: string | null; value?: Uint8Array | string | null } | null;
          times?: (string | Date)[] | null;
        export type NothingInput = Record<string, never>;
        "#,
    );
}

#[test]
fn enums_clients_and_comments() {
    let g = one(KINDS);
    assert_lines(
        &g.index_d_ts,
        r#"
        import type { CallOptions, MessageStream, JsonValue, FloatOutput } from "./runtime.js";
        export { GrpcError, Code, MessageStream, navigationSignal } from "./runtime.js";
        export type { CallOptions, JsonValue, FloatOutput } from "./runtime.js";
        export default function init(input?: unknown): Promise<void>;
        * A color.
        * - `COLOR_UNSPECIFIED` (0): Not set.
        export type Color = "COLOR_UNSPECIFIED" | "RED";
        /** Every kind of field. */
        export declare class KindsClient {
          constructor(baseUrl: string, defaults?: CallOptions);
          /** Echoes. */
          echo(request: AllInput, options?: CallOptions): Promise<All>;
          stream(request: Record<string, never>, options?: CallOptions): MessageStream<All>;
          ping(request: string | Date, options?: CallOptions): Promise<Record<string, never>>;
        "#,
    );
    assert_lines(
        &g.index_js,
        r#"
        import { createRuntime } from "./runtime.js";
        export { GrpcError, Code, MessageStream, navigationSignal } from "./runtime.js";
        export default rt.init;
        export class KindsClient {
          #h;
          this.#h = rt.client(baseUrl, defaults);
          /** Echoes. */
          echo(request, options) {
            return rt.unary(this.#h, "/acme.kinds.v1.Kinds/Echo", request, options);
            return rt.serverStream(this.#h, "/acme.kinds.v1.Kinds/Stream", request, options);
        "#,
    );
    assert!(g.warnings.is_empty(), "{:?}", g.warnings);
}

#[test]
fn the_descriptor_set_holds_the_imports_without_source_info() {
    let g = one(KINDS);
    let set = FileDescriptorSet::decode(g.descriptor_set.as_slice()).unwrap();
    let names: Vec<&str> = set.file.iter().map(|f| f.name()).collect();
    assert!(names.contains(&"t.proto"), "{names:?}");
    assert!(
        names.contains(&"google/protobuf/timestamp.proto"),
        "{names:?}"
    );
    assert!(set.file.iter().all(|f| f.source_code_info.is_none()));
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(&g.descriptor_set);
    assert!(
        g.index_js
            .contains(&format!("createRuntime(\"{encoded}\")"))
    );
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
    for text in [&g.index_js, &g.index_d_ts] {
        assert!(
            !text.contains("upload(") && !text.contains("chat("),
            "{text}"
        );
        assert!(text.contains("get(request"), "{text}");
    }
}

#[test]
fn only_the_requested_files_services_get_clients() {
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
    assert!(g.index_js.contains("class MainClient"));
    assert!(!g.index_js.contains("DepClient"));
    // Reached through a method, so declared; `Unused` is reached by nothing.
    assert!(g.index_d_ts.contains("export interface D {"));
    assert!(!g.index_d_ts.contains("Unused"));
}

#[test]
fn types_of_two_packages_with_one_name_are_prefixed() {
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
        &g.index_d_ts,
        "export interface a_v1_Money {
         export interface b_v1_MoneyInput {
         export interface shop_Date {
         a?: a_v1_Money;
         b?: b_v1_MoneyInput | null;
         date?: shop_Date;",
    );
}

#[test]
fn two_services_of_one_name_are_an_error_naming_both() {
    let e = error(
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
    );
    assert!(
        e.contains("a.v1.Cart (a.proto)") && e.contains("b.v1.Cart (b.proto)"),
        "{e}"
    );
    assert!(e.contains("CartClient"), "{e}");
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
fn write_to_writes_the_four_files() {
    let g =
        one("syntax = \"proto3\"; package p; message M {} service S { rpc Get(M) returns (M); }");
    let dir = tempfile::tempdir().unwrap();
    g.write_to(dir.path()).unwrap();
    for file in ["index.js", "index.d.ts", "runtime.js", "runtime.d.ts"] {
        assert!(dir.path().join(file).is_file(), "{file}");
    }
}
