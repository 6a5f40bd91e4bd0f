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

/// `merge_images` of `count` random images against merging them by hand as it documents:
/// in order below SPLIT_IMAGES_MIN, else the second half into a helper seeded from the
/// union's coin flips, merged in at the end.
#[test]
fn merge_images_splits_at_its_documented_point() {
    let mut rng = 5u64;
    for count in [0, 1, SPLIT_IMAGES_MIN - 1, SPLIT_IMAGES_MIN, 151] {
        let images: Vec<Vec<u8>> = (0..count)
            .map(|_| random_image::<f64>(&mut rng, |x| x))
            .collect();
        let views: Vec<&[u8]> = images.iter().map(|b| &b[..]).collect();
        let mut got = KllSketch::<f64>::with_seed(200, 11).unwrap();
        got.merge_images(&views).unwrap();
        let mut want = KllSketch::<f64>::with_seed(200, 11).unwrap();
        if count < SPLIT_IMAGES_MIN {
            views.iter().for_each(|b| want.merge_image(b).unwrap());
        } else {
            let mut helper =
                KllSketch::<f64>::with_seed(200, splitmix(&mut want.rng.state)).unwrap();
            let (a, b) = views.split_at(count / 2);
            a.iter().for_each(|b| want.merge_image(b).unwrap());
            b.iter().for_each(|b| helper.merge_image(b).unwrap());
            want.merge(&helper).unwrap();
        }
        assert_eq!(got, want, "{count} images");
        let total: u64 = views
            .iter()
            .map(|b| KllSketch::<f64>::deserialize(b).unwrap().n())
            .sum();
        assert_eq!(got.n(), total);
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
