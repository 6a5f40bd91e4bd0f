// The shared library is installed as `libsketchbox.so` next to the cffi extension, which
// finds it through an `$ORIGIN` rpath and this SONAME.
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsketchbox.so");
    }
}
