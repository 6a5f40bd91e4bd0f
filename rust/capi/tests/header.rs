//! include/sketchbox.h must be what cbindgen generates from this crate today.
//! `SKETCHBOX_BLESS=1 cargo test -p sketchbox-capi --test header` rewrites it.
//!
//! The update surface of the hashing families is emitted by a macro, which cbindgen
//! sees only in the crate's macro-expanded source (`parse.expand` in cbindgen.toml):
//! rustc expands it (`-Zunpretty=expanded`, allowed on a stable toolchain through
//! RUSTC_BOOTSTRAP for that one child process) in a target directory of its own, without
//! the `debug-entry-points` feature, so test-only entry points stay out of the header.

use std::path::PathBuf;

#[test]
fn header_is_fresh() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    // The expansion runs `cargo rustc` while this test's cargo holds the workspace's
    // target directory: it gets its own, kept between runs for speed.
    std::env::set_var("RUSTC_BOOTSTRAP", "1");
    std::env::set_var(
        "CARGO_EXPAND_TARGET_DIR",
        crate_dir.join("../target/header-expand"),
    );
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen generates the header")
        .write(&mut generated);
    let path = crate_dir.join("../../include/sketchbox.h");
    if std::env::var_os("SKETCHBOX_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
        return;
    }
    let current = std::fs::read(&path).unwrap_or_default();
    assert!(
        current == generated,
        "include/sketchbox.h is stale: run SKETCHBOX_BLESS=1 cargo test -p sketchbox-capi --test header"
    );
}

/// Every exported function and constant of the library is declared, with its doc comment.
#[test]
fn header_declares_every_function_with_its_documentation() {
    let header = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../include/sketchbox.h"),
    )
    .unwrap();
    let lines: Vec<&str> = header.lines().collect();
    let mut functions = 0;
    for (i, line) in lines.iter().enumerate() {
        let Some(name) = declared_function(line) else {
            continue;
        };
        functions += 1;
        // The line before a declaration (or its first line) closes its doc comment.
        let mut j = i;
        while j > 0 && !lines[j - 1].trim().is_empty() && !lines[j - 1].contains("*/") {
            j -= 1;
        }
        assert!(
            j > 0 && lines[j - 1].trim_end().ends_with("*/"),
            "{name} has no doc comment"
        );
    }
    // HLL and Theta: 11 generated update functions each.
    for fam in ["hll", "theta"] {
        for suffix in [
            "numeric",
            "i64",
            "u64",
            "f64",
            "one_i64",
            "one_u64",
            "one_f64",
            "one_bytes",
            "strings",
            "delimited",
            "fixed",
        ] {
            let decl = format!(" sk_{fam}_update_{suffix}(");
            assert!(header.contains(&decl), "missing{decl}");
        }
    }
    assert!(functions >= 80, "only {functions} functions declared");
    assert!(header.contains("uint32_t sk_abi_version(void);"));
    assert!(header.contains("#define SK_ABI_VERSION 0"));
    assert!(
        !header.contains("sk_debug_panic"),
        "a test-only entry point is declared"
    );
}

/// The name of the function a header line declares, if it starts a declaration.
fn declared_function(line: &str) -> Option<&str> {
    if line.starts_with(' ') || line.starts_with('#') || line.starts_with("typedef") {
        return None;
    }
    let open = line.find("sk_")?;
    let rest = &line[open..];
    let end = rest.find('(')?;
    Some(&rest[..end])
}
