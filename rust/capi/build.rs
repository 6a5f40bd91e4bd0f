// The shared library's SONAME is versioned by the ABI (SK_ABI_VERSION in the header):
// libsketchbox.so.0. It is installed under that name next to the cffi extension, which
// finds it through an `$ORIGIN` rpath; a linker script named libsketchbox.so beside it
// lets C programs link with -lsketchbox (see setup.py).
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if target_os == "linux" {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libsketchbox.so.0");
    } else if target_os == "macos" {
        // Found through the extension's @loader_path rpath (see build_ffi.py).
        println!("cargo:rustc-cdylib-link-arg=-Wl,-install_name,@rpath/libsketchbox.dylib");
    }
}
