//! Where a proto's generated module goes, and how one module imports another.

/// What a generated module's name adds to its proto's stem.
pub const SUFFIX: &str = "_grpcweb";

/// `shop/v1/shop.proto` → `shop/v1/shop_grpcweb` + `extension` (`.js`, `.d.ts`, `.ts`, or an import's extension).
pub fn module(proto: &str, extension: &str) -> String {
    let stem = proto.strip_suffix(".proto").unwrap_or(proto);
    format!("{stem}{SUFFIX}{extension}")
}

/// The import specifier of `target` (a path from the output root) from the
/// module generated for `from` (a proto path): `./money_grpcweb.js`,
/// `../../common/v1/money_grpcweb.js`.
pub fn relative(from: &str, target: &str) -> String {
    let from_dirs: Vec<&str> = from.split('/').collect();
    let from_dirs = &from_dirs[..from_dirs.len() - 1];
    let target_parts: Vec<&str> = target.split('/').collect();
    let (target_dirs, target_file) = target_parts.split_at(target_parts.len() - 1);
    let common = from_dirs
        .iter()
        .zip(target_dirs)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = String::new();
    if from_dirs.len() == common {
        out.push_str("./");
    } else {
        for _ in common..from_dirs.len() {
            out.push_str("../");
        }
    }
    for dir in &target_dirs[common..] {
        out.push_str(dir);
        out.push('/');
    }
    out.push_str(target_file[0]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_imports() {
        assert_eq!(relative("a.proto", "b_grpcweb.js"), "./b_grpcweb.js");
        assert_eq!(
            relative("acme/shop/v1/shop.proto", "acme/common/v1/money_grpcweb.js"),
            "../../common/v1/money_grpcweb.js"
        );
        assert_eq!(
            relative("x/a.proto", "x/y/b_grpcweb.js"),
            "./y/b_grpcweb.js"
        );
        assert_eq!(relative("x/a.proto", "b_grpcweb.js"), "../b_grpcweb.js");
        assert_eq!(module("x/a.proto", ".d.ts"), "x/a_grpcweb.d.ts");
    }
}
