//! The union of HLL images without a sketch per image.
//!
//! A union of many partitions' images spends most of its time reading images: the full
//! reader allocates a register array per image, unpacks it and checks it, only for the
//! union to fold the registers into its own HLL_8 array and drop the sketch.
//! [`HllUnion::update_image`] merges an HLL-mode image's packed registers (HLL_4 with its
//! exceptions, HLL_6, HLL_8) straight into the union's registers, after checking
//! everything [`super::image::deserialize`] checks. It takes that path only when it can
//! prove the full reader would accept the image; anything else (coupon images, a union
//! still in LIST/SET mode, a check that fails, a KxQ within rounding distance of its
//! tolerance, an HLL_4 current minimum above 48) goes to the full reader, which then
//! decides and names the fault. So results and errors are those of
//! `update(&HllSketch::deserialize(image)?)`, which the tests hold it to.

use super::array::AUX_TOKEN;
use super::coupons::KEY_MASK_26;
use super::image::{
    kxq_agrees, kxq_of_registers, kxq_tolerance, BIG_ENDIAN_FLAG, COMPACT_FLAG, EMPTY_FLAG,
    FAMILY_ID, HLL_BYTE_ARR_START, HLL_PREINTS, OUT_OF_ORDER_FLAG, SER_VER,
};
use super::{copy_or_downsample, HllArray, HllSketch, HllType, HllUnion, Mode};
use super::{MAX_LG_K, MIN_LG_K};
use crate::Result;

/// Unions of at least this many images may fold them on two cores (see
/// [`HllUnion::update_images`]).
pub const PARALLEL_IMAGES_MIN: usize = 1024;

/// The fields of an HLL-mode image that the union needs, with the bounds of its arrays
/// checked.
struct HllImage<'a> {
    lg_k: u8,
    tgt: HllType,
    cur_min: u8,
    kxq0: f64,
    kxq1: f64,
    num_at_cur_min: u32,
    aux_count: u32,
    packed: &'a [u8],
    /// HLL_4: the stored aux entries (all of an updatable image's table), as u32s.
    aux: &'a [u8],
}

fn f64_le(b: &[u8], at: usize) -> f64 {
    f64::from_le_bytes(b[at..at + 8].try_into().expect("8 bytes"))
}

fn u32_le(b: &[u8], at: usize) -> u32 {
    u32::from_le_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

impl<'a> HllImage<'a> {
    /// The image's fields if its preamble and estimator fields pass the reader's checks
    /// and it is in HLL mode; `None` otherwise (the full reader then decides).
    fn parse(b: &'a [u8]) -> Option<Self> {
        if b.len() < HLL_BYTE_ARR_START
            || b[0] != HLL_PREINTS
            || b[1] != SER_VER
            || b[2] != FAMILY_ID
            || !(MIN_LG_K..=MAX_LG_K).contains(&b[3])
            || b[5] & BIG_ENDIAN_FLAG != 0
            || b[7] & 3 != 2
        {
            return None;
        }
        let lg_k = b[3];
        let tgt = match (b[7] >> 2) & 3 {
            0 => HllType::Hll4,
            1 => HllType::Hll6,
            2 => HllType::Hll8,
            _ => return None,
        };
        let ooo = b[5] & OUT_OF_ORDER_FLAG != 0;
        let hip = if ooo { 0.0 } else { f64_le(b, 8) };
        let (kxq0, kxq1) = (f64_le(b, 16), f64_le(b, 24));
        if !(hip.is_finite() && kxq0.is_finite() && kxq1.is_finite()) || hip < 0.0 {
            return None;
        }
        let (cur_min, aux_count) = (b[6], u32_le(b, 36));
        if cur_min > 63 || (tgt != HllType::Hll4 && aux_count != 0) {
            return None;
        }
        let arr_end = HLL_BYTE_ARR_START + HllArray::packed_len(tgt, lg_k);
        let packed = b.get(HLL_BYTE_ARR_START..arr_end)?;
        let aux = if aux_count == 0 {
            &b[..0]
        } else {
            let lg_arr = b[4];
            if !(1..=26).contains(&lg_arr)
                || aux_count > (1 << lg_k)
                || 4 * aux_count as u64 > 3u64 << lg_arr
            {
                return None;
            }
            let stored = if b[5] & COMPACT_FLAG != 0 {
                aux_count as usize
            } else {
                1usize << lg_arr
            };
            b.get(arr_end..arr_end + 4 * stored)?
        };
        Some(HllImage {
            lg_k,
            tgt,
            cur_min,
            kxq0,
            kxq1,
            num_at_cur_min: u32_le(b, 32),
            aux_count,
            packed,
            aux,
        })
    }
}

/// Per packed HLL_4 byte (two nibbles): bits 0..32 hold the sum of 2^(14 - nibble) over
/// its nibbles that are not exceptions (15), bits 32..48 how many nibbles are 0, bits
/// 48..64 how many are 15. Summed over at most 4096 bytes, no field carries into the next.
const NIBBLE_STATS: [u64; 256] = {
    let mut t = [0u64; 256];
    let mut b = 0;
    while b < 256 {
        let mut v = 0u64;
        let nibbles = [b & 15, b >> 4];
        let mut i = 0;
        while i < 2 {
            let n = nibbles[i];
            if n == 15 {
                v += 1 << 48;
            } else {
                v += 1 << (14 - n);
            }
            if n == 0 {
                v += 1 << 32;
            }
            i += 1;
        }
        t[b] = v;
        b += 1;
    }
    t
};

/// Of the nibbles of a packed HLL_4 array: the sum of 2^(14 - n) over those that are not
/// exceptions (exact), how many are 0 and how many are exceptions.
#[inline(always)]
fn nibble_stats(packed: &[u8]) -> (u64, u32, u32) {
    let (mut sum, mut zeros, mut tokens) = (0u64, 0u32, 0u32);
    for chunk in packed.chunks(4096) {
        // Four accumulators: the loop runs at load speed, not add latency.
        let mut acc = [0u64; 4];
        let mut quads = chunk.chunks_exact(4);
        for q in &mut quads {
            for (a, &x) in acc.iter_mut().zip(q) {
                *a += NIBBLE_STATS[x as usize];
            }
        }
        for &x in quads.remainder() {
            acc[0] += NIBBLE_STATS[x as usize];
        }
        let all: u64 = acc.iter().sum();
        sum += all & 0xffff_ffff;
        zeros += ((all >> 32) & 0xffff) as u32;
        tokens += (all >> 48) as u32;
    }
    (sum, zeros, tokens)
}

/// The nibble of slot `slot` in a packed HLL_4 array (even slots in the low half).
fn nibble(packed: &[u8], slot: u32) -> u8 {
    let b = packed[(slot >> 1) as usize];
    if slot & 1 == 0 {
        b & 15
    } else {
        b >> 4
    }
}

/// Smallest and largest byte and how many are 0 (branch-free folds, so they vectorise).
#[inline(always)]
fn byte_stats(regs: &[u8]) -> (u8, u8, u32) {
    let min = regs.iter().fold(u8::MAX, |m, &v| m.min(v));
    let max = regs.iter().fold(0, |m, &v| m.max(v));
    let zeros = regs
        .chunks(255)
        .map(|c| c.iter().fold(0u8, |n, &v| n + (v == 0) as u8) as u32)
        .sum();
    (min, max, zeros)
}

/// HLL_6's 6-bit registers into `out` (one byte each), as the reader unpacks them.
#[inline(always)]
fn unpack6(packed: &[u8], out: &mut [u8]) {
    for (four, three) in out.chunks_exact_mut(4).zip(packed.chunks_exact(3)) {
        let w = u32::from(three[0]) | u32::from(three[1]) << 8 | u32::from(three[2]) << 16;
        for (j, r) in four.iter_mut().enumerate() {
            *r = ((w >> (6 * j)) & 63) as u8;
        }
    }
}

/// `dst[i] = max(dst[i], src[i])`, with `src` folded onto `dst` when longer (slot `i`
/// landing on `i mod dst.len()`, as DataSketches' union downsamples).
#[inline(always)]
fn fold_max(dst: &mut [u8], src: &[u8]) {
    for part in src.chunks_exact(dst.len()) {
        for (d, &s) in dst.iter_mut().zip(part) {
            *d = (*d).max(s);
        }
    }
}

/// [`fold_max`] of the registers `cur_min + nibble` of a packed HLL_4 array (an
/// exception nibble gives `cur_min + 15`, at most its real value, which is merged after).
#[inline(always)]
fn fold_max_nibbles(dst: &mut [u8], packed: &[u8], cur_min: u8) {
    for part in packed.chunks_exact(dst.len() / 2) {
        // 16 bytes into 32 registers at a time, in fixed-size arrays: the compiler
        // then interleaves the nibbles with vector shuffles.
        let mut d32 = dst.chunks_exact_mut(32);
        let mut p16 = part.chunks_exact(16);
        for (d, p) in (&mut d32).zip(&mut p16) {
            let d: &mut [u8; 32] = d.try_into().expect("32 bytes");
            let p: &[u8; 16] = p.try_into().expect("16 bytes");
            let mut v = [0u8; 32];
            for i in 0..16 {
                v[2 * i] = (p[i] & 15) + cur_min;
                v[2 * i + 1] = (p[i] >> 4) + cur_min;
            }
            for (r, x) in d.iter_mut().zip(v) {
                *r = (*r).max(x);
            }
        }
        for (d, &b) in d32
            .into_remainder()
            .chunks_exact_mut(2)
            .zip(p16.remainder())
        {
            d[0] = d[0].max((b & 15) + cur_min);
            d[1] = d[1].max((b >> 4) + cur_min);
        }
    }
}

/// The HLL_4 loops on 32-byte AVX2 vectors, where a nibble's term 2^(14 - n) comes from
/// two byte tables (`vpshufb`, its high and low byte) summed by `vpsadbw`, and the
/// nibbles interleave by in-lane unpacks. Measured on an Intel Xeon (Sapphire Rapids
/// class): 3.3x the portable loops, 2.2x the compiler's AVX-512 build of them (which
/// widens each nibble to 32 bits), and as fast as the same loops on 64-byte AVX-512BW
/// vectors, which were therefore not kept. Byte shuffles and sums of absolute
/// differences are cheap on every AVX2 processor, Intel or AMD.
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    /// [`super::nibble_stats`].
    #[target_feature(enable = "avx2")]
    pub(super) fn nibble_stats(packed: &[u8]) -> (u64, u32, u32) {
        // (2^(14 - n)) >> 8 and (2^(14 - n)) & 255 for n = 0..=15 (0 for 15, an exception).
        let hi_t = _mm256_setr_epi8(
            64, 32, 16, 8, 4, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 64, 32, 16, 8, 4, 2, 1, 0, 0, 0, 0,
            0, 0, 0, 0, 0,
        );
        let lo_t = _mm256_setr_epi8(
            0, 0, 0, 0, 0, 0, 0, -128, 64, 32, 16, 8, 4, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, -128, 64,
            32, 16, 8, 4, 2, 1, 0,
        );
        let low4 = _mm256_set1_epi8(15);
        let zero = _mm256_setzero_si256();
        let (mut hi_sum, mut lo_sum) = (zero, zero);
        let (mut zeros, mut tokens) = (0u32, 0u32);
        let mut vectors = packed.chunks_exact(32);
        // Per block of 64 vectors a byte counter grows by at most 128: no overflow.
        let mut blocks = 0;
        let (mut z_acc, mut t_acc) = (zero, zero);
        for v in &mut vectors {
            // SAFETY: `v` is 32 readable bytes; loadu takes any alignment.
            let b = unsafe { _mm256_loadu_si256(v.as_ptr().cast()) };
            let lo = _mm256_and_si256(b, low4);
            let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(b), low4);
            hi_sum = _mm256_add_epi64(hi_sum, _mm256_sad_epu8(_mm256_shuffle_epi8(hi_t, lo), zero));
            hi_sum = _mm256_add_epi64(hi_sum, _mm256_sad_epu8(_mm256_shuffle_epi8(hi_t, hi), zero));
            lo_sum = _mm256_add_epi64(lo_sum, _mm256_sad_epu8(_mm256_shuffle_epi8(lo_t, lo), zero));
            lo_sum = _mm256_add_epi64(lo_sum, _mm256_sad_epu8(_mm256_shuffle_epi8(lo_t, hi), zero));
            // Compares give -1 per match: subtracting them counts.
            z_acc = _mm256_sub_epi8(z_acc, _mm256_cmpeq_epi8(lo, zero));
            z_acc = _mm256_sub_epi8(z_acc, _mm256_cmpeq_epi8(hi, zero));
            t_acc = _mm256_sub_epi8(t_acc, _mm256_cmpeq_epi8(lo, low4));
            t_acc = _mm256_sub_epi8(t_acc, _mm256_cmpeq_epi8(hi, low4));
            blocks += 1;
            if blocks == 64 {
                zeros += horizontal_sum(_mm256_sad_epu8(z_acc, zero)) as u32;
                tokens += horizontal_sum(_mm256_sad_epu8(t_acc, zero)) as u32;
                (z_acc, t_acc, blocks) = (zero, zero, 0);
            }
        }
        zeros += horizontal_sum(_mm256_sad_epu8(z_acc, zero)) as u32;
        tokens += horizontal_sum(_mm256_sad_epu8(t_acc, zero)) as u32;
        let mut sum = (horizontal_sum(hi_sum) << 8) + horizontal_sum(lo_sum);
        let (s, z, t) = super::nibble_stats(vectors.remainder());
        sum += s;
        (sum, zeros + z, tokens + t)
    }

    #[target_feature(enable = "avx2")]
    fn horizontal_sum(v: __m256i) -> u64 {
        let mut lanes = [0u64; 4];
        // SAFETY: `lanes` is 32 writable bytes.
        unsafe { _mm256_storeu_si256(lanes.as_mut_ptr().cast(), v) };
        lanes.iter().sum()
    }

    /// [`super::fold_max_nibbles`].
    #[target_feature(enable = "avx2")]
    pub(super) fn fold_max_nibbles(dst: &mut [u8], packed: &[u8], cur_min: u8) {
        let low4 = _mm256_set1_epi8(15);
        let min = _mm256_set1_epi8(cur_min as i8);
        for part in packed.chunks_exact(dst.len() / 2) {
            let mut d64 = dst.chunks_exact_mut(64);
            let mut p32 = part.chunks_exact(32);
            for (d, p) in (&mut d64).zip(&mut p32) {
                // SAFETY: `p` is 32 readable bytes, `d` 64 writable ones; loadu and
                // storeu take any alignment.
                unsafe {
                    let b = _mm256_loadu_si256(p.as_ptr().cast());
                    let lo = _mm256_add_epi8(_mm256_and_si256(b, low4), min);
                    let hi =
                        _mm256_add_epi8(_mm256_and_si256(_mm256_srli_epi16::<4>(b), low4), min);
                    // In-lane unpacks give registers 0..16 | 32..48 and 16..32 | 48..64.
                    let a = _mm256_unpacklo_epi8(lo, hi);
                    let c = _mm256_unpackhi_epi8(lo, hi);
                    let r0 = _mm256_permute2x128_si256::<0x20>(a, c);
                    let r1 = _mm256_permute2x128_si256::<0x31>(a, c);
                    let d0 = d.as_mut_ptr().cast::<__m256i>();
                    let d1 = d.as_mut_ptr().add(32).cast::<__m256i>();
                    _mm256_storeu_si256(d0, _mm256_max_epu8(_mm256_loadu_si256(d0), r0));
                    _mm256_storeu_si256(d1, _mm256_max_epu8(_mm256_loadu_si256(d1), r1));
                }
            }
            // Arrays under 64 registers (lg_k 4, 5): the portable loop.
            let rest = d64.into_remainder();
            if !rest.is_empty() {
                super::fold_max_nibbles(rest, p32.remainder(), cur_min);
            }
        }
    }
}

/// [`nibble_stats`], on AVX2 vectors in the AVX2 build.
#[inline(always)]
fn hll4_stats<const AVX2: bool>(packed: &[u8]) -> (u64, u32, u32) {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: AVX2 is true only in `merge_hll_image_avx2`, which runs only on AVX2
        // processors.
        return unsafe { avx2::nibble_stats(packed) };
    }
    nibble_stats(packed)
}

/// [`fold_max_nibbles`], on AVX2 vectors in the AVX2 build.
#[inline(always)]
fn hll4_fold_max<const AVX2: bool>(dst: &mut [u8], packed: &[u8], cur_min: u8) {
    #[cfg(target_arch = "x86_64")]
    if AVX2 {
        // SAFETY: as in `hll4_stats`.
        return unsafe { avx2::fold_max_nibbles(dst, packed, cur_min) };
    }
    fold_max_nibbles(dst, packed, cur_min)
}

/// Scratch space a union reuses from image to image.
#[derive(Debug, Clone, Default)]
pub(super) struct ImageScratch {
    /// HLL_6 registers, unpacked.
    regs: Vec<u8>,
    /// HLL_4 exceptions of the current image.
    aux: Vec<u32>,
}

impl HllUnion {
    /// Adds the sketch of an HLL image (compact or updatable, any mode and type): the
    /// same union and the same errors as `update(&HllSketch::deserialize(image)?)`,
    /// without building the sketch when the image is in HLL mode (see the module docs).
    ///
    /// Errors: [`crate::Error::CorruptData`] for an invalid image (the union is then
    /// unchanged).
    pub fn update_image(&mut self, image: &[u8]) -> Result<()> {
        if !self.merge_hll_image(image) {
            self.update(&HllSketch::deserialize(image)?);
        }
        Ok(())
    }

    /// [`Self::update_image`] of every image in order; the error names the index of the
    /// first bad image (the union then holds an unspecified part of the others).
    ///
    /// A fresh union of [`PARALLEL_IMAGES_MIN`] images or more, all in HLL mode, folds
    /// its two halves on two cores and merges them: HLL-mode unions take the maximum of
    /// the registers (and mark the result out of order), so the result is the one the
    /// images in order give, byte for byte. Images in LIST or SET mode keep the order
    /// (their coupons' order decides a SET's layout and the HIP estimate).
    pub fn update_images(
        &mut self,
        images: &[&[u8]],
    ) -> std::result::Result<(), (usize, crate::Error)> {
        let hll_mode = |b: &&[u8]| b.len() > 7 && b[7] & 3 == 2 && b[5] & EMPTY_FLAG == 0;
        if images.len() < PARALLEL_IMAGES_MIN
            || !self.gadget.is_empty()
            || rayon::current_num_threads() < 2
            || !images.iter().all(hll_mode)
        {
            return crate::bulk::for_each_image(images, |b| self.update_image(b));
        }
        let (first, second) = images.split_at(images.len() / 2);
        let fold = |half: &[&[u8]]| {
            let mut union = HllUnion::new(self.lg_max_k).expect("the union's own lg_max_k");
            crate::bulk::for_each_image(half, |b| union.update_image(b)).map(|()| union)
        };
        let (a, b) = rayon::join(|| fold(first), || fold(second));
        let (a, b) = (a?, b.map_err(|(i, e)| (first.len() + i, e))?);
        self.update(&a.gadget);
        self.update(&b.gadget);
        Ok(())
    }

    /// Merges a valid HLL-mode image into a union in HLL mode as `update` would; false,
    /// with the union unchanged, if the image is not one this path takes.
    fn merge_hll_image(&mut self, b: &[u8]) -> bool {
        #[cfg(target_arch = "x86_64")]
        if std::is_x86_feature_detected!("avx2") {
            // SAFETY: the processor has AVX2, all that `merge_hll_image_avx2` is
            // compiled for.
            return unsafe { self.merge_hll_image_avx2(b) };
        }
        self.merge_hll_image_with::<false>(b)
    }

    /// [`Self::merge_hll_image`] compiled for AVX2 processors, with the HLL_4 loops of
    /// [`avx2`] and the byte loops on 32-byte vectors.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2")]
    fn merge_hll_image_avx2(&mut self, b: &[u8]) -> bool {
        self.merge_hll_image_with::<true>(b)
    }

    #[inline(always)]
    fn merge_hll_image_with<const AVX2: bool>(&mut self, b: &[u8]) -> bool {
        if !matches!(self.gadget.mode, Mode::Hll(_)) {
            return false;
        }
        let Some(img) = HllImage::parse(b) else {
            return false;
        };
        let k = 1usize << img.lg_k;
        let scratch = &mut self.scratch;
        let empty = match img.tgt {
            HllType::Hll8 | HllType::Hll6 => {
                let regs = if img.tgt == HllType::Hll8 {
                    img.packed
                } else {
                    scratch.regs.resize(k, 0);
                    unpack6(img.packed, &mut scratch.regs);
                    &scratch.regs[..]
                };
                let (min, max, zeros) = byte_stats(regs);
                if max > 63
                    || img.cur_min > min
                    || !kxq_agrees(kxq_of_registers(regs), img.kxq0, img.kxq1, img.lg_k)
                {
                    return false;
                }
                zeros as usize == k
            }
            HllType::Hll4 => {
                // Above 48 a nibble could stand for a register above 63, which the
                // reader checks register by register.
                if img.cur_min > 63 - (AUX_TOKEN - 1) {
                    return false;
                }
                let (sum, zeros, tokens) = hll4_stats::<AVX2>(img.packed);
                // Every register is cur_min + its nibble but the exceptions, which are
                // at least cur_min + 15: the minimum is cur_min iff a nibble is 0.
                if zeros == 0 || zeros != img.num_at_cur_min {
                    return false;
                }
                let Some(aux_kxq) = check_aux(&img, tokens, &mut scratch.aux) else {
                    return false;
                };
                let kxq =
                    sum as f64 * f64::from_bits((1023 - 14 - img.cur_min as u64) << 52) + aux_kxq;
                if !surely_agrees(kxq, &img) {
                    return false;
                }
                img.cur_min == 0 && zeros as usize == k
            }
        };
        if empty {
            // An empty sketch leaves a union unchanged.
            return true;
        }
        let g = &mut self.gadget;
        let Mode::Hll(dst) = &mut g.mode else {
            unreachable!("checked above")
        };
        if img.lg_k < dst.lg_k {
            *dst = copy_or_downsample(dst, img.lg_k);
        }
        let regs = &mut dst.regs[..];
        match img.tgt {
            HllType::Hll8 => fold_max(regs, img.packed),
            HllType::Hll6 => fold_max(regs, &scratch.regs),
            HllType::Hll4 => {
                hll4_fold_max::<AVX2>(regs, img.packed, img.cur_min);
                let mask = regs.len() - 1;
                for &e in &scratch.aux {
                    let r = &mut regs[e as usize & KEY_MASK_26 as usize & mask];
                    *r = (*r).max((e >> 26) as u8);
                }
            }
        }
        dst.stale_kxq = true;
        dst.out_of_order = true;
        dst.hip_accum = 0.0;
        g.lg_k = dst.lg_k;
        true
    }
}

/// Checks an HLL_4 image's exceptions as the reader does (each non-empty entry names a
/// distinct slot of this lg_k whose nibble is 15, with a value in cur_min + 15..=63; as
/// many entries as the header says and as there are 15 nibbles), collecting them into
/// `aux`. Returns the sum of 2^-value over them, or `None` if a check fails.
fn check_aux(img: &HllImage, tokens: u32, aux: &mut Vec<u32>) -> Option<f64> {
    aux.clear();
    if img.aux_count != tokens {
        return None;
    }
    let k_mask = (1u32 << img.lg_k) - 1;
    let mut kxq = 0.0;
    for c in img.aux.chunks_exact(4) {
        let e = u32::from_le_bytes(c.try_into().expect("4 bytes"));
        if e == 0 {
            continue;
        }
        let value = (e >> 26) as u8;
        if e & (KEY_MASK_26 & !k_mask) != 0
            || nibble(img.packed, e & k_mask) != AUX_TOKEN
            || value < img.cur_min + AUX_TOKEN
            || value > 63
        {
            return None;
        }
        kxq += f64::from_bits((1023 - value as u64) << 52);
        aux.push(e);
    }
    if aux.len() != img.aux_count as usize {
        return None;
    }
    // Distinct slots (the reader's table refuses a second entry for a slot).
    aux.sort_unstable_by_key(|&e| e & k_mask);
    if aux.windows(2).any(|w| w[0] & k_mask == w[1] & k_mask) {
        return None;
    }
    Some(kxq)
}

/// Whether the reader's KxQ check surely passes, given `kxq` computed here from the
/// nibbles (exact but for the rounding of the exceptions' terms). The reader sums the
/// registers in eight lanes, so its sum may differ from this one by a few ulps per
/// register; when the two could fall on different sides of the tolerance (or a stored
/// value is absurd), the answer is no and the reader decides.
fn surely_agrees(kxq: f64, img: &HllImage) -> bool {
    let stored = img.kxq0 + img.kxq1;
    let tolerance = kxq_tolerance(img.lg_k);
    let gap = (kxq - stored).abs() - tolerance;
    let k = (1u64 << img.lg_k) as f64;
    let margin = (k + 64.0) * f64::EPSILON * 8.0 * (kxq + stored.abs() + tolerance);
    gap < 0.0 && gap.abs() > margin
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;

    use crate::test_fixtures::splitmix;

    const TYPES: [HllType; 3] = [HllType::Hll4, HllType::Hll6, HllType::Hll8];

    /// A random image: any lg_k, type and mode (sizes from empty to far past the HLL
    /// threshold; small lg_k reach a raised HLL_4 minimum and exceptions), compact or
    /// not, sometimes the out-of-order result of a union.
    fn random_image(rng: &mut u64, lg_ks: &[u8]) -> Vec<u8> {
        let lg_k = lg_ks[(splitmix(rng) % lg_ks.len() as u64) as usize];
        let tgt = TYPES[(splitmix(rng) % 3) as usize];
        let k = 1u64 << lg_k;
        let n = match splitmix(rng) % 6 {
            0 => 0,
            1 => splitmix(rng) % 8,
            2 => splitmix(rng) % (k / 2 + 8),
            3 => k + splitmix(rng) % (4 * k),
            4 => 20 * k + splitmix(rng) % (60 * k),
            _ => 200 * k,
        };
        let base = splitmix(rng) as i64 >> 8;
        let mut s = HllSketch::new(lg_k, tgt).unwrap();
        for i in 0..n as i64 {
            s.update_i64(base.wrapping_add(i));
        }
        if splitmix(rng).is_multiple_of(5) {
            let mut other = HllSketch::new(lg_k, tgt).unwrap();
            for i in 0..(splitmix(rng) % (8 * k)) as i64 {
                other.update_i64(i ^ base);
            }
            s.merge(&other);
        }
        s.serialize(splitmix(rng).is_multiple_of(2))
    }

    /// The AVX2 loops against the portable ones on random packed arrays of every lg_k
    /// (exceptions, zeros and every nibble value occur), folding included.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn vector_nibble_loops_equal_the_portable_ones() {
        if !std::is_x86_feature_detected!("avx2") {
            return;
        }
        let mut rng = 7u64;
        for lg_k in MIN_LG_K..=16 {
            let packed: Vec<u8> = (0..1usize << (lg_k - 1))
                .map(|_| match splitmix(&mut rng) % 4 {
                    0 => 0xff,
                    1 => 0,
                    _ => splitmix(&mut rng) as u8,
                })
                .collect();
            let want = nibble_stats(&packed);
            // SAFETY: the processor has AVX2 (checked above).
            assert_eq!(unsafe { avx2::nibble_stats(&packed) }, want);
            for lg_dst in MIN_LG_K..=lg_k {
                let start: Vec<u8> = (0..1usize << lg_dst)
                    .map(|_| (splitmix(&mut rng) % 64) as u8)
                    .collect();
                let cur_min = (splitmix(&mut rng) % 49) as u8;
                let mut want = start.clone();
                fold_max_nibbles(&mut want, &packed, cur_min);
                let mut got = start.clone();
                // SAFETY: as above.
                unsafe { avx2::fold_max_nibbles(&mut got, &packed, cur_min) };
                assert_eq!(got, want, "lg_k {lg_k} into {lg_dst}");
            }
        }
    }

    /// The union of `images` read in full, one sketch each: the oracle.
    fn oracle(lg_max_k: u8, images: &[Vec<u8>]) -> Result<HllUnion> {
        let mut u = HllUnion::new(lg_max_k)?;
        for image in images {
            u.update(&HllSketch::deserialize(image)?);
        }
        Ok(u)
    }

    /// The union by `update_image`, on this processor's build of the direct path.
    fn fast(lg_max_k: u8, images: &[Vec<u8>]) -> Result<HllUnion> {
        let mut u = HllUnion::new(lg_max_k)?;
        for image in images {
            u.update_image(image)?;
        }
        Ok(u)
    }

    /// The same on the build for every processor (the table of nibble sums).
    fn fast_plain(lg_max_k: u8, images: &[Vec<u8>]) -> Result<HllUnion> {
        let mut u = HllUnion::new(lg_max_k)?;
        for image in images {
            if !u.merge_hll_image_with::<false>(image) {
                u.update(&HllSketch::deserialize(image)?);
            }
        }
        Ok(u)
    }

    fn results(u: &HllUnion) -> Vec<Vec<u8>> {
        TYPES
            .iter()
            .flat_map(|&t| [u.result(t).serialize(true), u.result(t).serialize(false)])
            .collect()
    }

    #[test]
    fn unions_of_images_equal_unions_of_read_sketches() {
        let mut rng = 11u64;
        for round in 0..300 {
            let lg_ks: &[u8] = match round % 3 {
                0 => &[4, 5, 6],
                1 => &[7, 8, 10, 12],
                _ => &[4, 9, 12, 14],
            };
            let images: Vec<Vec<u8>> = (0..1 + splitmix(&mut rng) % 12)
                .map(|_| random_image(&mut rng, lg_ks))
                .collect();
            let lg_max_k = lg_ks[(splitmix(&mut rng) % lg_ks.len() as u64) as usize];
            let want = oracle(lg_max_k, &images).unwrap();
            for got in [fast(lg_max_k, &images), fast_plain(lg_max_k, &images)] {
                let got = got.unwrap();
                assert_eq!(results(&got), results(&want), "round {round}");
                assert_eq!(got.estimate().to_bits(), want.estimate().to_bits());
            }
        }
        // lg_k 21, the largest
        let images: Vec<Vec<u8>> = (0..3).map(|_| random_image(&mut rng, &[21])).collect();
        assert_eq!(
            results(&fast(21, &images).unwrap()),
            results(&oracle(21, &images).unwrap())
        );
    }

    #[test]
    fn many_hll_mode_images_fold_on_two_cores_to_the_union_in_order() {
        let mut rng = 5u64;
        let images: Vec<Vec<u8>> = (0..PARALLEL_IMAGES_MIN + 37)
            .map(|i| {
                let lg_k = [8u8, 9, 10][i % 3];
                let mut s = HllSketch::new(lg_k, TYPES[i / 3 % 3]).unwrap();
                let base = splitmix(&mut rng) as i64 >> 8;
                for j in 0..4i64 << lg_k {
                    s.update_i64(base.wrapping_add(j));
                }
                s.serialize(i % 2 == 0)
            })
            .collect();
        let views: Vec<&[u8]> = images.iter().map(|b| &b[..]).collect();
        let on_threads = |threads: usize, lg_max_k: u8, views: &[&[u8]]| {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                let mut u = HllUnion::new(lg_max_k).unwrap();
                u.update_images(views).map(|()| u)
            })
        };
        for lg_max_k in [8, 10] {
            let want = oracle(lg_max_k, &images).unwrap();
            for threads in [1, 2] {
                let got = on_threads(threads, lg_max_k, &views).unwrap();
                assert_eq!(results(&got), results(&want), "lg {lg_max_k}, {threads}");
                let result = want.result(HllType::Hll8).estimate();
                assert_eq!(got.estimate(), result, "lg {lg_max_k}, {threads}");
                assert_eq!(want.estimate(), result);
            }
        }
        // A bad image of the second half is named by its index among all of them.
        let truncated = images[3][..48].to_vec();
        let mut bad = views.clone();
        bad[900] = &truncated;
        for threads in [1, 2] {
            let (at, e) = on_threads(threads, 10, &bad).expect_err("a bad image");
            assert_eq!(at, 900);
            assert!(matches!(e, Error::CorruptData(_)), "{e:?}");
        }
    }

    #[test]
    fn hll_mode_images_take_the_direct_path() {
        for tgt in TYPES {
            for (lg_k, n, seed) in [(12u8, 20_000i64, 0i64), (4, 3000, 7), (8, 100_000, 1)] {
                let mut s = HllSketch::new(lg_k, tgt).unwrap();
                for i in 0..n {
                    s.update_i64(i + seed * n);
                }
                for compact in [true, false] {
                    let mut u = HllUnion::new(lg_k).unwrap();
                    u.update(&s);
                    let image = s.serialize(compact);
                    assert!(u.clone().merge_hll_image(&image), "{tgt:?} {lg_k}");
                    assert!(u.merge_hll_image_with::<false>(&image), "{tgt:?} {lg_k}");
                }
            }
        }
        // Those HLL_4 sketches cover a raised minimum and exceptions.
        let hll4 = |lg_k: u8, n: i64| {
            let mut s = HllSketch::new(lg_k, HllType::Hll4).unwrap();
            (0..n).for_each(|i| s.update_i64(i));
            let Mode::Hll(a) = s.mode else { panic!() };
            a
        };
        assert!(hll4(4, 3000).cur_min > 0);
        assert!(hll4(12, 20_000).aux.is_some());
    }

    #[test]
    fn corrupt_images_fail_as_the_reader_fails_them() {
        let mut rng = 2026u64;
        let mut images = Vec::new();
        for _ in 0..60 {
            images.push(random_image(&mut rng, &[4, 5, 8, 12]));
        }
        let (mut rejected, mut accepted) = (0, 0);
        for round in 0..20_000 {
            let mut img = images[(splitmix(&mut rng) % images.len() as u64) as usize].clone();
            for _ in 0..1 + splitmix(&mut rng) % 3 {
                // Mostly the preamble and the first registers, where the checks are.
                let i = match splitmix(&mut rng) % 3 {
                    0 => splitmix(&mut rng) % img.len().min(40) as u64,
                    1 => splitmix(&mut rng) % img.len() as u64,
                    _ => img.len() as u64 - 1 - splitmix(&mut rng) % img.len().min(16) as u64,
                } as usize;
                match splitmix(&mut rng) % 10 {
                    0..=4 => img[i] = splitmix(&mut rng) as u8,
                    5..=7 => img[i] ^= 1 << (splitmix(&mut rng) % 8),
                    8 => img[i] = img[i].wrapping_add(1),
                    _ => img.truncate(i.max(1)),
                }
            }
            // A valid first image puts the union in HLL mode, where the direct path runs.
            let first = images[(splitmix(&mut rng) % images.len() as u64) as usize].clone();
            let batch = [first, img];
            let lg_max_k = [4u8, 8, 12][(splitmix(&mut rng) % 3) as usize];
            let want = oracle(lg_max_k, &batch);
            for got in [fast(lg_max_k, &batch), fast_plain(lg_max_k, &batch)] {
                match (&want, got) {
                    (Ok(want), Ok(got)) => {
                        accepted += 1;
                        assert_eq!(results(&got), results(want), "round {round}");
                    }
                    (Err(Error::CorruptData(_)), Err(Error::CorruptData(_))) => rejected += 1,
                    (want, got) => panic!("round {round}: reader {want:?}, direct {got:?}"),
                }
            }
        }
        assert!(
            rejected > 5_000 && accepted > 2_000,
            "{rejected} {accepted}"
        );
    }

    #[test]
    fn kxq_near_its_tolerance_is_left_to_the_reader() {
        let mut s = HllSketch::new(10, HllType::Hll4).unwrap();
        (0..50_000).for_each(|i| s.update_i64(i));
        let image = s.serialize(true);
        let kxq0 = f64::from_le_bytes(image[16..24].try_into().unwrap());
        let tolerance = kxq_tolerance(10);
        for delta in [
            0.0,
            0.5,
            0.999_999,
            1.0,
            1.000_001,
            1.5,
            -0.999_999_9,
            -1.000_000_1,
        ] {
            let mut img = image.clone();
            img[16..24].copy_from_slice(&(kxq0 + delta * tolerance).to_le_bytes());
            let batch = [image.clone(), img];
            let want = oracle(10, &batch);
            for got in [fast(10, &batch), fast_plain(10, &batch)] {
                match (&want, got) {
                    (Ok(want), Ok(got)) => assert_eq!(results(&got), results(want)),
                    (Err(_), Err(_)) => {}
                    (want, got) => panic!("delta {delta}: reader {want:?}, direct {got:?}"),
                }
            }
        }
    }
}
