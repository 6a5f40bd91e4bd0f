//! include/sketchbox.h must be what cbindgen generates from this crate today.
//! `SKETCHBOX_BLESS=1 cargo test -p sketchbox-capi --test header` rewrites it.

use std::path::PathBuf;

#[test]
fn header_is_fresh() {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
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
