//! `merge_image` against the oracle it replaces: `merge(&deserialize(image)?)`, state for
//! state (the same seeds give the same compactions, so the same images), and error for
//! error on corrupt images.

use super::*;

fn splitmix(state: &mut u64) -> u64 {
    super::compaction::splitmix64(state)
}

/// A random image: empty, one item, exact or in estimation mode, of any k, sometimes a
/// merge result (min_k below k) or with level 0 sorted.
fn random_image<T: KllItem>(rng: &mut u64, from_f64: fn(f64) -> T) -> Vec<u8> {
    let k = [8u16, 20, 200, 333][(splitmix(rng) % 4) as usize];
    let n = match splitmix(rng) % 5 {
        0 => 0,
        1 => 1,
        2 => splitmix(rng) % (u64::from(k) + 1),
        _ => splitmix(rng) % 20_000,
    };
    let mut s = KllSketch::<T>::with_seed(k, splitmix(rng)).unwrap();
    for _ in 0..n {
        let u = (splitmix(rng) >> 11) as f64 / (1u64 << 53) as f64;
        s.update(from_f64((u - 0.3) * 1e3));
    }
    if splitmix(rng).is_multiple_of(4) {
        let mut other = KllSketch::<T>::with_seed(8, splitmix(rng)).unwrap();
        (0..splitmix(rng) % 500).for_each(|i| other.update(from_f64(i as f64)));
        s.merge(&other).unwrap();
    }
    let image = s.serialize();
    if splitmix(rng).is_multiple_of(4) {
        return with_level_zero_sorted::<T>(image);
    }
    image
}

/// A full image with its level 0 sorted and flagged so (as Java writes some).
fn with_level_zero_sorted<T: KllItem>(mut b: Vec<u8>) -> Vec<u8> {
    if b[0] != PREAMBLE_INTS_FULL {
        return b;
    }
    let num_levels = usize::from(b[18]);
    let offset = |h: usize| u32::from_le_bytes(b[20 + 4 * h..24 + 4 * h].try_into().unwrap());
    let start = DATA_START + 4 * num_levels + 2 * T::SIZE;
    let level0 = if num_levels > 1 {
        (offset(1) - offset(0)) as usize
    } else {
        (b.len() - start) / T::SIZE
    };
    let mut items: Vec<T> = b[start..start + level0 * T::SIZE]
        .chunks_exact(T::SIZE)
        .map(T::from_le_slice)
        .collect();
    items.sort_by(T::total_cmp);
    let mut bytes = Vec::new();
    items.iter().for_each(|x| x.write_le(&mut bytes));
    b[start..start + bytes.len()].copy_from_slice(&bytes);
    b[3] |= FLAG_LEVEL_ZERO_SORTED;
    b
}

fn oracle<T: KllItem>(k: u16, seed: u64, images: &[Vec<u8>]) -> Result<KllSketch<T>> {
    let mut u = KllSketch::<T>::with_seed(k, seed)?;
    for image in images {
        u.merge(&KllSketch::<T>::deserialize(image)?)?;
    }
    Ok(u)
}

fn direct<T: KllItem>(k: u16, seed: u64, images: &[Vec<u8>]) -> Result<KllSketch<T>> {
    let mut u = KllSketch::<T>::with_seed(k, seed)?;
    for image in images {
        u.merge_image(image)?;
    }
    Ok(u)
}

fn unions_equal<T: KllItem>(from_f64: fn(f64) -> T) {
    let mut rng = 77u64;
    let mut sorted_flags = 0;
    for round in 0..400 {
        let images: Vec<Vec<u8>> = (0..1 + splitmix(&mut rng) % 10)
            .map(|_| random_image::<T>(&mut rng, from_f64))
            .collect();
        let k = [8u16, 200, 1000][(splitmix(&mut rng) % 3) as usize];
        let seed = splitmix(&mut rng);
        let want = oracle::<T>(k, seed, &images).unwrap();
        let got = direct::<T>(k, seed, &images).unwrap();
        assert!(got.serialize() == want.serialize(), "round {round}");
        assert!(got == want, "round {round}");
        sorted_flags += images
            .iter()
            .filter(|b| b[3] & FLAG_LEVEL_ZERO_SORTED != 0)
            .count();
    }
    assert!(sorted_flags > 100);
}

#[test]
fn merging_images_equals_merging_read_sketches_f64() {
    unions_equal::<f64>(|x| x);
}

#[test]
fn merging_images_equals_merging_read_sketches_f32() {
    unions_equal::<f32>(|x| x as f32);
}

#[test]
fn corrupt_images_fail_as_the_reader_fails_them() {
    let mut rng = 4u64;
    let images: Vec<Vec<u8>> = (0..40)
        .map(|_| random_image::<f64>(&mut rng, |x| x))
        .collect();
    let (mut rejected, mut accepted) = (0, 0);
    for round in 0..10_000 {
        let mut img = images[(splitmix(&mut rng) % images.len() as u64) as usize].clone();
        for _ in 0..1 + splitmix(&mut rng) % 3 {
            let i = match splitmix(&mut rng) % 2 {
                0 => splitmix(&mut rng) % img.len().min(40) as u64,
                _ => splitmix(&mut rng) % img.len() as u64,
            } as usize;
            match splitmix(&mut rng) % 10 {
                0..=4 => img[i] = splitmix(&mut rng) as u8,
                5..=7 => img[i] ^= 1 << (splitmix(&mut rng) % 8),
                8 => img[i] = img[i].wrapping_add(1),
                _ => img.truncate(i.max(1)),
            }
        }
        let first = images[(splitmix(&mut rng) % images.len() as u64) as usize].clone();
        let seed = splitmix(&mut rng);
        let before = direct::<f64>(200, seed, std::slice::from_ref(&first)).unwrap();
        // (a clone would flip other coins)
        let mut after = direct::<f64>(200, seed, std::slice::from_ref(&first)).unwrap();
        match (
            oracle::<f64>(200, seed, &[first, img.clone()]),
            after.merge_image(&img),
        ) {
            (Ok(want), Ok(())) => {
                accepted += 1;
                assert!(after.serialize() == want.serialize(), "round {round}");
            }
            (Err(Error::CorruptData(a)), Err(Error::CorruptData(b))) => {
                rejected += 1;
                assert_eq!(a, b, "round {round}");
                assert!(
                    after == before,
                    "round {round}: a rejected image changed the union"
                );
            }
            (want, got) => panic!("round {round}: reader {want:?}, direct {got:?}"),
        }
    }
    assert!(rejected > 3_000 && accepted > 500, "{rejected} {accepted}");
}

/// Below BATCH_IMAGES_MIN images, `merge_images` is `merge_image` in order, state for state.
#[test]
fn few_images_merge_in_order() {
    let mut rng = 5u64;
    for count in [0, 1, 2, BATCH_IMAGES_MIN - 1] {
        let images: Vec<Vec<u8>> = (0..count)
            .map(|_| random_image::<f64>(&mut rng, |x| x))
            .collect();
        let views: Vec<&[u8]> = images.iter().map(|b| &b[..]).collect();
        let mut got = KllSketch::<f64>::with_seed(200, 11).unwrap();
        got.merge_images(&views).unwrap();
        let mut want = KllSketch::<f64>::with_seed(200, 11).unwrap();
        views.iter().for_each(|b| want.merge_image(b).unwrap());
        assert_eq!(got, want, "{count} images");
    }
}

/// The sketches of `parts` slices of one stream (values `0..n` in a shuffled order),
/// with their images.
fn stream_images<T: KllItem>(
    parts: usize,
    per_part: usize,
    k: u16,
    from_f64: fn(f64) -> T,
) -> (Vec<Vec<u8>>, usize) {
    let n = parts * per_part;
    let mut order: Vec<usize> = (0..n).collect();
    let mut rng = 17u64;
    for i in (1..n).rev() {
        order.swap(i, (splitmix(&mut rng) % (i as u64 + 1)) as usize);
    }
    let images = order
        .chunks(per_part)
        .enumerate()
        .map(|(i, chunk)| {
            let mut s = KllSketch::<T>::with_seed(k, 1000 + i as u64).unwrap();
            chunk.iter().for_each(|&v| s.update(from_f64(v as f64)));
            s.serialize()
        })
        .collect();
    (images, n)
}

/// The largest error of the normalized ranks of a union of the values `0..n` at 1,000
/// evenly spaced values.
fn max_rank_error<T: KllItem>(s: &KllSketch<T>, n: usize, from_f64: fn(f64) -> T) -> f64 {
    (0..1000)
        .map(|i| {
            let v = (i * n / 1000) as f64;
            let exact = (v + 1.0) / n as f64;
            (s.rank(from_f64(v), true).unwrap() - exact).abs()
        })
        .fold(0.0, f64::max)
}

/// A batch union of many images keeps the KLL guarantee: every rank within the
/// documented single-sided bound for its k (a 99 % bound: with 12 fixed seeds each
/// union must meet it), for every item type; its counts, min and max are exact; it
/// is a valid sketch (fits its capacity, reads back from its image); and it is the
/// same for the same seed whether the two halves run on two threads or on one.
fn batch_union_keeps_the_bound<T: KllItem>(from_f64: fn(f64) -> T) {
    let (images, n) = stream_images::<T>(300, 2000, 200, from_f64);
    let views: Vec<&[u8]> = images.iter().map(|b| &b[..]).collect();
    let bound = normalized_rank_error(200, false);
    let mut errors = Vec::new();
    for seed in 0..12 {
        let mut u = KllSketch::<T>::with_seed(200, seed).unwrap();
        u.merge_images(&views).unwrap();
        assert_eq!(u.n(), n as u64);
        assert_eq!(u.min_item().unwrap().to_f64(), 0.0);
        assert_eq!(u.max_item().unwrap().to_f64(), (n - 1) as f64);
        assert!(u.num_retained() <= total_capacity(200, u.num_levels()));
        assert_eq!(u.total_weight(), n as u128);
        let err = max_rank_error(&u, n, from_f64);
        assert!(
            err <= bound,
            "seed {seed}: rank error {err} over the bound {bound}"
        );
        errors.push(err);
        let back = KllSketch::<T>::deserialize(&u.serialize()).unwrap();
        assert_eq!(back, u);
        if seed == 0 {
            let one_thread = rayon::ThreadPoolBuilder::new()
                .num_threads(1)
                .build()
                .unwrap();
            let mut v = KllSketch::<T>::with_seed(200, seed).unwrap();
            one_thread.install(|| v.merge_images(&views).unwrap());
            assert_eq!(v, u);
            // updates go on from the union's state
            (0..10_000).for_each(|i| v.update(from_f64(f64::from(i % 7))));
            assert_eq!(v.n(), n as u64 + 10_000);
        }
    }
    // the typical error is well inside the 99 % bound, and below that of merging the
    // same images in order (the top levels are compacted once each, see group_sizes)
    let mean = errors.iter().sum::<f64>() / errors.len() as f64;
    assert!(mean < 0.75 * bound, "mean rank error {mean}, bound {bound}");
    let in_order = (0..12)
        .map(|seed| {
            let mut u = KllSketch::<T>::with_seed(200, seed).unwrap();
            views.iter().for_each(|b| u.merge_image(b).unwrap());
            max_rank_error(&u, n, from_f64)
        })
        .sum::<f64>()
        / 12.0;
    assert!(mean < in_order, "batch {mean} against in order {in_order}");
}

#[test]
fn batch_union_keeps_the_bound_f64() {
    batch_union_keeps_the_bound::<f64>(|x| x);
}

#[test]
fn batch_union_keeps_the_bound_f32() {
    batch_union_keeps_the_bound::<f32>(|x| x as f32);
}

#[test]
fn batch_union_keeps_the_bound_i64() {
    batch_union_keeps_the_bound::<i64>(|x| x as i64);
}

/// A union into a sketch that already holds items counts them, and images of every
/// shape (empty, one item, exact, estimation mode, other k, merged, level 0 sorted)
/// add up to a valid sketch.
#[test]
fn batch_union_of_every_shape_into_a_non_empty_sketch() {
    let mut rng = 23u64;
    let images: Vec<Vec<u8>> = (0..150)
        .map(|_| random_image::<f64>(&mut rng, |x| x))
        .collect();
    let views: Vec<&[u8]> = images.iter().map(|b| &b[..]).collect();
    let parts: Vec<KllSketch<f64>> = views
        .iter()
        .map(|b| KllSketch::deserialize(b).unwrap())
        .collect();
    let mut u = KllSketch::<f64>::with_seed(200, 3).unwrap();
    (0..5000).for_each(|i| u.update(-1.0 - f64::from(i)));
    u.merge_images(&views).unwrap();
    let n: u64 = 5000 + parts.iter().map(|p| p.n()).sum::<u64>();
    assert_eq!(u.n(), n);
    assert_eq!(u.total_weight(), u128::from(n));
    assert_eq!(u.min_item(), Some(-5000.0));
    let max = parts
        .iter()
        .filter_map(|p| p.max_item())
        .fold(f64::MIN, f64::max);
    assert_eq!(u.max_item(), Some(max));
    let min_k = parts
        .iter()
        .filter(|p| p.is_estimation_mode())
        .map(|p| p.min_k())
        .fold(200, u16::min);
    assert_eq!(u.min_k(), min_k);
    assert!(u.num_retained() <= total_capacity(200, u.num_levels()));
    // the 5,000 negative items are 5000 / n of the weight, within the bound
    let r = u.rank(-0.5, true).unwrap();
    assert!((r - 5000.0 / n as f64).abs() <= normalized_rank_error(u.min_k(), false));
    assert_eq!(KllSketch::<f64>::deserialize(&u.serialize()).unwrap(), u);
}

/// The batch compacts each level in groups no smaller than the level's capacity in the
/// sketch the union becomes (which the bound argument in batch_union.rs rests on).
#[test]
fn batch_groups_are_at_least_the_final_capacities() {
    for (parts, per_part, k) in [
        (100, 2000, 200),
        (64, 50_000, 200),
        (500, 300, 64),
        (80, 1000, 1000),
    ] {
        let (images, n) = stream_images::<f64>(parts, per_part, k, |x| x);
        let views: Vec<&[u8]> = images.iter().map(|b| &b[..]).collect();
        let mut u = KllSketch::<f64>::with_seed(k, 1).unwrap();
        u.merge_images(&views).unwrap();
        let groups = batch_union::group_sizes(k, n as u64);
        for (h, &g) in groups.iter().enumerate() {
            let cap = level_capacity(k, u.num_levels(), h) as usize;
            assert!(
                g >= cap,
                "k {k} n {n}: level {h} group {g} < capacity {cap}"
            );
        }
        assert!(
            groups.len() < u.num_levels(),
            "the top levels are piled, not streamed"
        );
    }
}

/// A bad image in either half is reported by its index in the whole list; with one in
/// each half, the first.
#[test]
fn merge_images_names_the_first_bad_image() {
    let mut rng = 9u64;
    let mut images: Vec<Vec<u8>> = (0..100)
        .map(|_| random_image::<f64>(&mut rng, |x| x))
        .collect();
    let bad = vec![0xffu8; 12];
    for (at, also) in [(3, None), (77, None), (20, Some(60)), (99, None)] {
        let saved = images.clone();
        images[at] = bad.clone();
        if let Some(j) = also {
            images[j] = bad.clone();
        }
        let views: Vec<&[u8]> = images.iter().map(|b| &b[..]).collect();
        let mut u = KllSketch::<f64>::with_seed(200, 1).unwrap();
        let (i, e) = u.merge_images(&views).unwrap_err();
        assert_eq!(i, at);
        assert!(matches!(e, Error::CorruptData(_)), "{e:?}");
        images = saved;
    }
}
