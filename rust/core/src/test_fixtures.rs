//! Where the tests find the DataSketches cross-language corpus: inside the repository
//! (`tests/fixtures/datasketches`, with its provenance in that folder's README), so a
//! fresh clone of the project alone passes `cargo test`.

use std::path::PathBuf;

pub(crate) fn fixtures_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/datasketches");
    assert!(
        dir.is_dir(),
        "DataSketches fixtures not found at {}",
        dir.display()
    );
    dir
}

/// The bytes of `tests/fixtures/datasketches/<lang>/<name>`.
pub(crate) fn read_fixture(lang: &str, name: &str) -> Vec<u8> {
    let path = fixtures_dir().join(lang).join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

/// SplitMix64: the tests' deterministic stream of values.
pub(crate) fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
