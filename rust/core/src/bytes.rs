//! Image bytes: the little-endian readers and writers every family's images use. Every
//! reader checks its bounds and reports a short image as `Error::CorruptData`, so no
//! image is ever read out of bounds.

use crate::error::corrupt;
use crate::Result;

/// The `N` bytes at `at`, or an error naming the image's length.
#[inline]
fn array<const N: usize>(b: &[u8], at: usize) -> Result<[u8; N]> {
    match at.checked_add(N).and_then(|end| b.get(at..end)) {
        Some(s) => Ok(s.try_into().expect("a slice of N bytes")),
        None => corrupt(format!(
            "the image of {} bytes ends before the {N} bytes at offset {at}",
            b.len()
        )),
    }
}

#[inline]
pub(crate) fn u16_at(b: &[u8], at: usize) -> Result<u16> {
    array(b, at).map(u16::from_le_bytes)
}

#[inline]
pub(crate) fn u32_at(b: &[u8], at: usize) -> Result<u32> {
    array(b, at).map(u32::from_le_bytes)
}

#[inline]
pub(crate) fn u64_at(b: &[u8], at: usize) -> Result<u64> {
    array(b, at).map(u64::from_le_bytes)
}

#[inline]
pub(crate) fn f64_at(b: &[u8], at: usize) -> Result<f64> {
    array(b, at).map(f64::from_le_bytes)
}

/// Checks that `bytes` holds at least `needed` bytes for `what`.
pub(crate) fn need(bytes: &[u8], needed: u64, what: &str) -> Result<()> {
    if (bytes.len() as u64) < needed {
        return corrupt(format!(
            "{what} needs at least {needed} bytes, the image has {}",
            bytes.len()
        ));
    }
    Ok(())
}

/// `count` little-endian u32s from byte `start`.
pub(crate) fn read_u32s(bytes: &[u8], start: usize, count: usize) -> Result<Vec<u32>> {
    let end = count.checked_mul(4).and_then(|n| n.checked_add(start));
    need(bytes, end.map_or(u64::MAX, |e| e as u64), "an array of u32")?;
    Ok(bytes[start..start + 4 * count]
        .chunks_exact(4)
        .map(|c| u32::from_le_bytes(c.try_into().expect("4 bytes")))
        .collect())
}

/// `count` little-endian u64s from byte `start`.
pub(crate) fn read_u64s(bytes: &[u8], start: usize, count: usize) -> Result<Vec<u64>> {
    let end = count.checked_mul(8).and_then(|n| n.checked_add(start));
    need(bytes, end.map_or(u64::MAX, |e| e as u64), "an array of u64")?;
    Ok(bytes[start..start + 8 * count]
        .chunks_exact(8)
        .map(|c| u64::from_le_bytes(c.try_into().expect("8 bytes")))
        .collect())
}

/// Appends `values` as little-endian u64s (one resize, then a loop that vectorises).
pub(crate) fn write_u64s(out: &mut Vec<u8>, values: &[u64]) {
    let start = out.len();
    out.resize(start + 8 * values.len(), 0);
    for (dst, v) in out[start..].chunks_exact_mut(8).zip(values) {
        dst.copy_from_slice(&v.to_le_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    #[test]
    fn readers_are_little_endian_and_bounds_checked() {
        let b = [1u8, 2, 3, 4, 5, 6, 7, 8, 9];
        assert_eq!(u16_at(&b, 1).unwrap(), 0x0302);
        assert_eq!(u32_at(&b, 0).unwrap(), 0x0403_0201);
        assert_eq!(u64_at(&b, 1).unwrap(), 0x0908_0706_0504_0302);
        assert_eq!(f64_at(&1.5f64.to_le_bytes(), 0).unwrap(), 1.5);
        for r in [u32_at(&b, 6).map(|_| ()), u64_at(&b, 2).map(|_| ())] {
            assert!(matches!(r, Err(Error::CorruptData(m)) if m.contains("ends before")));
        }
        assert!(u16_at(&b, usize::MAX).is_err());
        assert!(read_u64s(&b, 0, 2).is_err());
        assert!(read_u32s(&b, 1, usize::MAX).is_err());
        assert_eq!(read_u32s(&b, 1, 2).unwrap(), [0x0504_0302, 0x0908_0706]);
        let mut out = vec![7];
        write_u64s(&mut out, &[0x0102, u64::MAX]);
        assert_eq!(read_u64s(&out, 1, 2).unwrap(), [0x0102, u64::MAX]);
        assert!(need(&b, 10, "ten bytes").is_err() && need(&b, 9, "nine").is_ok());
    }
}
