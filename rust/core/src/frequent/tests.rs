//! Frequent items: the Java and C++ corpus (read, answered, and Java's bytes
//! reproduced), the error guarantee on skewed, flat and merged streams, bulk updates,
//! and no panic on any bytes. The Apache `datasketches` crate is a second reader.

use super::*;
use crate::bulk::BLOCK;
use crate::test_fixtures::read_fixture;
use map::capacity_of;
use std::collections::HashMap;

pub(crate) use crate::test_fixtures::splitmix;

/// `base` with 1 to 4 random edits: a byte replaced, a bit flipped, or a truncation.
pub(crate) fn mutate_image(rng: &mut u64, base: &[u8]) -> Vec<u8> {
    let mut img = base.to_vec();
    for _ in 0..1 + splitmix(rng) % 4 {
        if img.is_empty() {
            break;
        }
        let i = (splitmix(rng) % img.len() as u64) as usize;
        match splitmix(rng) % 10 {
            0..=5 => img[i] = splitmix(rng) as u8,
            6..=7 => img[i] ^= 1 << (splitmix(rng) % 8),
            _ => img.truncate(i),
        }
    }
    img
}

/// Whether two sketches hold the same state: parameters, weights and counters. (Their
/// images may still order items differently: a map rebuilt from an image, here as in
/// Java, re-inserts the items in slot order, and a cluster that wrapped around the end
/// of the table lands in another order.)
fn same_state<T: FrequentItem + PartialEq>(a: &FrequentItems<T>, b: &FrequentItems<T>) -> bool {
    let rows = |s: &FrequentItems<T>| {
        let mut r: Vec<(String, u64)> = s
            .top(ErrorType::NoFalseNegatives, Some(0))
            .into_iter()
            .map(|r| (format!("{:?}", r.item), r.lower_bound))
            .collect();
        r.sort();
        r
    };
    (
        a.lg_max_map_size(),
        a.lg_cur_map_size(),
        a.total_weight(),
        a.maximum_error(),
    ) == (
        b.lg_max_map_size(),
        b.lg_cur_map_size(),
        b.total_weight(),
        b.maximum_error(),
    ) && rows(a) == rows(b)
}

const SIZES: [u64; 8] = [0, 1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

fn longs_of(n: u64) -> FrequentItems<i64> {
    let mut s = FrequentItems::new(6).unwrap();
    for i in 1..=n as i64 {
        s.update(i, 1).unwrap();
    }
    s
}

fn strings_of(n: u64) -> FrequentItems<String> {
    let mut s = FrequentItems::new(6).unwrap();
    for i in 1..=n {
        s.update(i.to_string().as_str(), 1).unwrap();
    }
    s
}

/// Checks a sketch of the values 1..=n, each of weight 1, against the guarantee.
fn check_one_to_n<T: FrequentItem>(s: &FrequentItems<T>, n: u64, parse: impl Fn(&T) -> u64) {
    assert_eq!(s.total_weight(), n);
    assert_eq!(s.lg_max_map_size(), 6);
    assert!(s.maximum_error() as f64 <= s.epsilon() * n as f64);
    if n <= 48 {
        assert_eq!(s.maximum_error(), 0, "no purge below 48 items");
        assert_eq!(s.num_active_items() as u64, n);
    }
    for r in s.top(ErrorType::NoFalseNegatives, None) {
        let v = parse(&r.item);
        assert!((1..=n).contains(&v));
        assert!(r.lower_bound <= 1 && 1 <= r.upper_bound);
        assert_eq!(r.upper_bound - r.lower_bound, s.maximum_error());
        assert_eq!(s.estimate(r.item.as_item_ref()), r.estimate);
    }
    // Every value has weight 1: none exceeds the maximum error for sure once purged.
    let nfp = s.top(ErrorType::NoFalsePositives, None);
    if s.maximum_error() > 0 {
        assert!(nfp.is_empty());
    } else {
        assert_eq!(nfp.len() as u64, n);
    }
}

#[test]
fn corpus_longs_and_strings_read_and_answer() {
    for lang in ["java", "cpp"] {
        for n in SIZES {
            let b = read_fixture(lang, &format!("frequent_long_n{n}_{lang}.sk"));
            let s = FrequentItems::<i64>::deserialize(&b).unwrap();
            check_one_to_n(&s, n, |v| *v as u64);
            let b = read_fixture(lang, &format!("frequent_string_n{n}_{lang}.sk"));
            let s = FrequentItems::<String>::deserialize(&b).unwrap();
            check_one_to_n(&s, n, |v| v.parse().unwrap());
        }
    }
}

#[test]
fn java_images_are_reproduced_byte_for_byte() {
    for n in SIZES {
        assert_eq!(
            longs_of(n).serialize(),
            read_fixture("java", &format!("frequent_long_n{n}_java.sk")),
            "longs n{n}"
        );
        assert_eq!(
            strings_of(n).serialize(),
            read_fixture("java", &format!("frequent_string_n{n}_java.sk")),
            "strings n{n}"
        );
    }
}

#[test]
fn corpus_ascii_and_utf8_strings() {
    for lang in ["java", "cpp"] {
        let s = FrequentItems::<String>::deserialize(&read_fixture(
            lang,
            &format!("frequent_string_ascii_{lang}.sk"),
        ))
        .unwrap();
        assert_eq!((s.total_weight(), s.maximum_error()), (10, 0));
        for (w, c) in ["a", "b", "c", "d"].iter().enumerate() {
            let item = c.repeat(29);
            assert_eq!(s.estimate(&item), w as u64 + 1, "{lang} {item}");
            assert_eq!(s.lower_bound(&item), w as u64 + 1);
            assert_eq!(s.upper_bound(&item), w as u64 + 1);
        }
        let top: Vec<u64> = s
            .top(ErrorType::NoFalsePositives, None)
            .iter()
            .map(|r| r.estimate)
            .collect();
        assert_eq!(top, vec![4, 3, 2, 1]);

        let b = read_fixture(lang, &format!("frequent_string_utf8_{lang}.sk"));
        let s = FrequentItems::<String>::deserialize(&b).unwrap();
        assert_eq!((s.total_weight(), s.maximum_error()), (28, 0));
        let top = s.top(ErrorType::NoFalseNegatives, None);
        let weights: Vec<u64> = top.iter().map(|r| r.estimate).collect();
        assert_eq!(weights, vec![7, 6, 5, 4, 3, 2, 1]);
        for r in &top {
            assert!(!r.item.is_ascii(), "{lang}: {:?} is Cyrillic", r.item);
            assert!(r.item.chars().any(|c| ('\u{400}'..='\u{4ff}').contains(&c)));
        }
    }
    // The same seven strings fed in order of weight, as Java's test writes them, give
    // Java's bytes.
    let java = read_fixture("java", "frequent_string_utf8_java.sk");
    let read = FrequentItems::<String>::deserialize(&java).unwrap();
    let mut rows = read.top(ErrorType::NoFalseNegatives, None);
    rows.reverse();
    let mut s = FrequentItems::<String>::new(6).unwrap();
    for r in &rows {
        s.update(&r.item, r.estimate).unwrap();
    }
    assert_eq!(s.serialize(), java);
}

#[test]
fn java_and_cpp_images_reserialize_to_the_same_state() {
    for lang in ["java", "cpp"] {
        for name in ["long", "string"] {
            for n in SIZES {
                let b = read_fixture(lang, &format!("frequent_{name}_n{n}_{lang}.sk"));
                if name == "long" {
                    let s = FrequentItems::<i64>::deserialize(&b).unwrap();
                    let again = FrequentItems::<i64>::deserialize(&s.serialize()).unwrap();
                    assert!(same_state(&again, &s));
                    if lang == "java" {
                        assert_eq!(s.serialize(), b, "Java's image is what we write");
                    }
                } else {
                    let s = FrequentItems::<String>::deserialize(&b).unwrap();
                    let again = FrequentItems::<String>::deserialize(&s.serialize()).unwrap();
                    assert!(same_state(&again, &s));
                }
            }
        }
    }
}

/// The Apache `datasketches` crate reads every image, its own and the corpus', to the
/// same answers.
#[test]
fn second_oracle_the_datasketches_crate() {
    use datasketches::frequencies::FrequentItemsSketch as Oracle;
    for lang in ["java", "cpp"] {
        for n in SIZES {
            let b = read_fixture(lang, &format!("frequent_long_n{n}_{lang}.sk"));
            let ours = FrequentItems::<i64>::deserialize(&b).unwrap();
            let theirs = Oracle::<i64>::deserialize(&b).unwrap();
            // Each reads the other's image of this sketch.
            let theirs_of_ours = Oracle::<i64>::deserialize(&ours.serialize()).unwrap();
            let ours_of_theirs = FrequentItems::<i64>::deserialize(&theirs.serialize()).unwrap();
            for t in [&theirs, &theirs_of_ours] {
                assert_eq!(t.total_weight(), ours.total_weight());
                assert_eq!(t.maximum_error(), ours.maximum_error());
                assert_eq!(t.num_active_items(), ours.num_active_items());
            }
            for v in 0..=(n as i64).min(2000) + 1 {
                assert_eq!(theirs.estimate(&v), ours.estimate(v));
                assert_eq!(theirs.lower_bound(&v), ours.lower_bound(v));
                assert_eq!(theirs.upper_bound(&v), ours_of_theirs.upper_bound(v));
            }
        }
    }
    // A stream without purges gives the same counts in both.
    let mut ours = FrequentItems::<String>::new(10).unwrap();
    let mut theirs = Oracle::<String>::new(1024).unwrap();
    let mut st = 7u64;
    for _ in 0..20_000 {
        let k = (splitmix(&mut st) % 700).to_string();
        let w = splitmix(&mut st) % 5;
        ours.update(&k, w).unwrap();
        theirs.update_with_count(k, w);
    }
    assert_eq!(ours.maximum_error(), 0);
    assert_eq!(theirs.total_weight(), ours.total_weight());
    for k in 0..700u64 {
        let k = k.to_string();
        assert_eq!(theirs.estimate(&k), ours.estimate(&k));
    }
}

/// Zipf-like values: a Pareto tail of exponent 1.1 (about as skewed as NumPy's
/// `zipf(1.1)`), from a fixed seed.
fn zipf(seed: u64, len: usize) -> Vec<i64> {
    let mut st = seed;
    (0..len)
        .map(|_| {
            let u = ((splitmix(&mut st) >> 11) + 1) as f64 / (1u64 << 53) as f64;
            u.powf(-10.0).min(1e15) as i64
        })
        .collect()
}

/// Checks the documented guarantee of `s` against the exact weights `truth`.
fn check_guarantee<T: FrequentItem + std::hash::Hash + Eq>(
    s: &FrequentItems<T>,
    truth: &HashMap<T, u64>,
) {
    let total: u64 = truth.values().sum();
    assert_eq!(s.total_weight(), total);
    let err = s.maximum_error();
    assert!(
        err as f64 <= s.epsilon() * total as f64,
        "error {err} > eps * {total}"
    );
    for (x, &f) in truth {
        let (lb, ub) = (
            s.lower_bound(x.as_item_ref()),
            s.upper_bound(x.as_item_ref()),
        );
        assert!(lb <= f && f <= ub, "{x:?}: {lb} <= {f} <= {ub}");
        assert_eq!(ub - lb, err);
    }
    for threshold in [None, Some(err + 1), Some(total / 50)] {
        let t = threshold.unwrap_or(0).max(err);
        let nfp = s.top(ErrorType::NoFalsePositives, threshold);
        for r in &nfp {
            assert!(truth[&r.item] > t, "false positive {:?}", r.item);
        }
        let nfn = s.top(ErrorType::NoFalseNegatives, threshold);
        for (x, &f) in truth {
            if f > t {
                assert!(
                    nfn.iter().any(|r| r.item == *x),
                    "false negative {x:?} ({f} > {t})"
                );
            }
        }
        for rows in [&nfp, &nfn] {
            assert!(rows.windows(2).all(|w| w[0].estimate >= w[1].estimate));
        }
    }
}

fn truth_of(stream: &[i64]) -> HashMap<i64, u64> {
    let mut t = HashMap::new();
    for &x in stream {
        *t.entry(x).or_insert(0) += 1;
    }
    t
}

#[test]
fn guarantee_on_zipf_flat_and_weighted_streams() {
    for (seed, lg) in [(1u64, 6u8), (2, 8), (3, 10)] {
        let stream = zipf(seed, 300_000);
        let mut s = FrequentItems::<i64>::new(lg).unwrap();
        for &x in &stream {
            s.update(x, 1).unwrap();
        }
        assert!(s.maximum_error() > 0, "the stream purges");
        check_guarantee(&s, &truth_of(&stream));
        // The heaviest items are found.
        let top = s.top(ErrorType::NoFalsePositives, None);
        assert!(top.iter().any(|r| r.item == 1));
    }
    // Flat: 50 000 distinct values, 4 times each, shuffled by a stride.
    let flat: Vec<i64> = (0..200_000i64).map(|i| (i * 7919) % 50_000).collect();
    let mut s = FrequentItems::<i64>::new(7).unwrap();
    for &x in &flat {
        s.update(x, 1).unwrap();
    }
    check_guarantee(&s, &truth_of(&flat));
    // Weighted strings.
    let mut st = 11u64;
    let mut s = FrequentItems::<String>::new(5).unwrap();
    let mut truth = HashMap::new();
    for _ in 0..50_000 {
        let k = format!("k{}", zipf(splitmix(&mut st), 1)[0] % 5000);
        let w = splitmix(&mut st) % 10;
        s.update(&k, w).unwrap();
        if w > 0 {
            *truth.entry(k).or_insert(0) += w;
        }
    }
    check_guarantee(&s, &truth);
}

#[test]
fn guarantee_on_a_stream_merged_from_100_parts() {
    let stream = zipf(99, 400_000);
    let mut parts: Vec<FrequentItems<i64>> = (0..100)
        .map(|i| FrequentItems::new(7 + (i % 3) as u8).unwrap())
        .collect();
    for (i, &x) in stream.iter().enumerate() {
        parts[(i * 31) % 100].update(x, 1).unwrap();
    }
    let mut merged = FrequentItems::<i64>::new(8).unwrap();
    for p in &parts {
        merged.merge(p).unwrap();
    }
    check_guarantee(&merged, &truth_of(&stream));
    // Through images, as partitions would ship them.
    let mut via_images = FrequentItems::<i64>::new(8).unwrap();
    for p in &parts {
        via_images
            .merge(&FrequentItems::deserialize(&p.serialize()).unwrap())
            .unwrap();
    }
    assert_eq!(via_images.serialize(), merged.serialize());
}

#[test]
fn merge_of_empty_and_exact_sketches() {
    let mut a = FrequentItems::<i64>::new(6).unwrap();
    let b = FrequentItems::<i64>::new(10).unwrap();
    a.merge(&b).unwrap();
    assert!(a.is_empty());
    let mut c = FrequentItems::<i64>::new(10).unwrap();
    c.update(5, 3).unwrap();
    c.update(6, 1).unwrap();
    a.merge(&c).unwrap();
    a.merge(&c).unwrap();
    assert_eq!((a.estimate(5), a.estimate(6), a.estimate(7)), (6, 2, 0));
    assert_eq!(a.total_weight(), 8);
    assert_eq!(a.lg_max_map_size(), 6);
}

#[test]
fn weights_zero_and_overflow() {
    let mut s = FrequentItems::<i64>::new(4).unwrap();
    s.update(1, 0).unwrap();
    assert!(s.is_empty());
    assert_eq!(s.serialize().len(), 8);
    s.update(1, i64::MAX as u64 - 1).unwrap();
    s.update(2, 1).unwrap();
    let before = s.serialize();
    assert!(matches!(s.update(3, 1), Err(Error::InvalidArgument(_))));
    assert_eq!(s.serialize(), before, "a refused update changes nothing");
    let t = s.clone();
    assert!(matches!(s.merge(&t), Err(Error::InvalidArgument(_))));
    assert_eq!(s.serialize(), before);
    assert!(FrequentItems::<i64>::new(2).is_err());
    assert!(FrequentItems::<i64>::new(27).is_err());
    assert_eq!(epsilon_for(10).unwrap(), 3.5 / 1024.0);
    assert_eq!(
        FrequentItems::<String>::new(10).unwrap().epsilon(),
        3.5 / 1024.0
    );
}

#[test]
fn a_sketch_purged_to_no_items_keeps_its_weight() {
    // Seven distinct items of weight 1 fill a table of 8 slots: the purge subtracts
    // their common median and leaves no counter.
    let mut s = FrequentItems::<i64>::new(3).unwrap();
    for i in 0..7 {
        s.update(i, 1).unwrap();
    }
    assert_eq!(
        (s.num_active_items(), s.total_weight(), s.maximum_error()),
        (0, 7, 1)
    );
    let img = s.serialize();
    assert_eq!(img.len(), 32);
    let back = FrequentItems::<i64>::deserialize(&img).unwrap();
    assert_eq!((back.total_weight(), back.maximum_error()), (7, 1));
    assert_eq!(back.upper_bound(3), 1);
    let theirs = datasketches::frequencies::FrequentItemsSketch::<i64>::deserialize(&img).unwrap();
    assert_eq!((theirs.total_weight(), theirs.maximum_error()), (7, 1));
}

#[test]
fn bulk_equals_one_by_one_and_stops_on_block_boundaries() {
    let n = BLOCK * 2 + 777;
    let stream = zipf(5, n);
    let item = |i: usize| (!i.is_multiple_of(13)).then_some(stream[i]);
    let weight = |i: usize| (i % 3) as u64;
    let mut one = FrequentItems::<i64>::new(9).unwrap();
    for i in 0..n {
        if let Some(x) = item(i) {
            one.update(x, weight(i)).unwrap();
        }
    }
    let mut bulk = FrequentItems::<i64>::new(9).unwrap();
    let mut calls = Vec::new();
    bulk.update_many(n, item, weight, &mut |d, t| {
        calls.push((d, t));
        true
    })
    .unwrap();
    assert_eq!(bulk.serialize(), one.serialize());
    assert_eq!(bulk.total_weight(), one.total_weight());
    assert_eq!(
        calls,
        vec![
            (BLOCK as u64, n as u64),
            (2 * BLOCK as u64, n as u64),
            (n as u64, n as u64)
        ]
    );

    let mut prefix = FrequentItems::<i64>::new(9).unwrap();
    prefix
        .update_many(BLOCK, item, weight, &mut |_, _| true)
        .unwrap();
    let mut cancelled = FrequentItems::<i64>::new(9).unwrap();
    let r = cancelled.update_many(n, item, weight, &mut |_, _| false);
    assert_eq!(r, Err(Error::Cancelled));
    assert_eq!(cancelled.serialize(), prefix.serialize());

    // A block whose weights would overflow the total is refused whole.
    let big = |i: usize| if i == BLOCK + 5 { i64::MAX as u64 } else { 1 };
    let mut s = FrequentItems::<i64>::new(9).unwrap();
    let r = s.update_many(n, item, big, &mut |_, _| true);
    assert!(matches!(r, Err(Error::InvalidArgument(_))));
    let mut first = FrequentItems::<i64>::new(9).unwrap();
    first
        .update_many(BLOCK, item, big, &mut |_, _| true)
        .unwrap();
    assert_eq!(s.serialize(), first.serialize());
    // Nulls' weights do not count against the total.
    let mut s = FrequentItems::<i64>::new(9).unwrap();
    s.update(1, i64::MAX as u64 - 10).unwrap();
    s.update_many(20, |i| (i >= 15).then_some(i as i64), |_| 2, &mut |_, _| {
        true
    })
    .unwrap();
    assert_eq!(s.total_weight(), i64::MAX as u64);
}

#[test]
fn strings_use_java_hash_codes() {
    use item::java_string_hash;
    // Values of Java's String.hashCode().
    assert_eq!(java_string_hash("hello"), 99_162_322);
    assert_eq!(java_string_hash("café"), 3_045_921);
    assert_eq!(java_string_hash("😀"), 1_772_899); // a surrogate pair
    assert_eq!(java_string_hash(""), 0);
    let mut s = FrequentItems::<String>::new(4).unwrap();
    for (k, w) in [
        ("café", 5u64),
        ("naïve", 2),
        ("日本語", 3),
        ("", 1),
        ("😀", 4),
    ] {
        s.update(k, w).unwrap();
    }
    let back = FrequentItems::<String>::deserialize(&s.serialize()).unwrap();
    assert!(same_state(&back, &s));
    assert_eq!(
        (
            back.estimate("café"),
            back.estimate(""),
            back.estimate("😀")
        ),
        (5, 1, 4)
    );
    assert_eq!(back.top(ErrorType::NoFalsePositives, None)[0].item, "café");
}

#[test]
fn doubles_are_canonical_items() {
    let mut s = FrequentItems::<f64>::new(4).unwrap();
    s.update(0.0, 1).unwrap();
    s.update(-0.0, 2).unwrap();
    s.update(f64::NAN, 1).unwrap();
    s.update(f64::from_bits(0x7ff8_0000_0000_0001), 1).unwrap();
    s.update(1.5, 7).unwrap();
    assert_eq!(s.num_active_items(), 3);
    assert_eq!(
        (s.estimate(0.0), s.estimate(-0.0), s.estimate(f64::NAN)),
        (3, 3, 2)
    );
    let img = s.serialize();
    let back = FrequentItems::<f64>::deserialize(&img).unwrap();
    assert!(same_state(&back, &s));
    // An image naming -0.0 and 0.0 apart (as Java may write) reads as one item.
    let mut j = img.clone();
    let items_at = 32 + 8 * 3;
    let zero = (0..3)
        .find(|k| j[items_at + 8 * k..items_at + 8 * k + 8] == [0; 8])
        .unwrap();
    j[items_at + 8 * zero..items_at + 8 * zero + 8].copy_from_slice(&(-0.0f64).to_le_bytes());
    let read = FrequentItems::<f64>::deserialize(&j).unwrap();
    assert_eq!(read.estimate(0.0), 3);
    assert_eq!(s.to_json()["item_type"], "float64");
    assert_eq!(s.to_json()["no_false_positives"][0]["item"], 1.5);
}

#[test]
fn bad_images_are_corrupt_data() {
    let mut s = FrequentItems::<i64>::new(6).unwrap();
    for i in 0..20 {
        s.update(i, 1 + i as u64).unwrap();
    }
    let good = s.serialize();
    for len in 0..good.len() {
        assert!(matches!(
            FrequentItems::<i64>::deserialize(&good[..len]),
            Err(Error::CorruptData(_))
        ));
    }
    let corrupt_with = |f: &dyn Fn(&mut Vec<u8>)| {
        let mut b = good.clone();
        f(&mut b);
        FrequentItems::<i64>::deserialize(&b)
    };
    type Edit<'a> = &'a dyn Fn(&mut Vec<u8>);
    let cases: [(&str, Edit); 10] = [
        ("family", &|b| b[2] = 7),
        ("serial version", &|b| b[1] = 2),
        ("lg_cur > lg_max", &|b| b[4] = 7),
        ("lg_max too large", &|b| b[3] = 40),
        ("empty flag on a full image", &|b| b[5] = 5),
        ("zero counter", &|b| {
            b[32..40].copy_from_slice(&0u64.to_le_bytes())
        }),
        ("counters above total", &|b| {
            b[16..24].copy_from_slice(&5u64.to_le_bytes())
        }),
        ("trailing byte", &|b| b.push(0)),
        ("duplicate item", &|b| {
            let at = 32 + 8 * 20;
            let first: [u8; 8] = b[at..at + 8].try_into().unwrap();
            b[at + 8..at + 16].copy_from_slice(&first);
        }),
        ("error above total", &|b| {
            b[24..32].copy_from_slice(&u64::MAX.to_le_bytes())
        }),
    ];
    for (what, f) in cases {
        assert!(
            matches!(corrupt_with(f), Err(Error::CorruptData(_))),
            "{what}"
        );
    }
    // A string image with invalid UTF-8, and one read as longs.
    let mut t = FrequentItems::<String>::new(6).unwrap();
    t.update("abc", 2).unwrap();
    let mut b = t.serialize();
    let last = b.len() - 1;
    b[last] = 0xff;
    assert!(matches!(
        FrequentItems::<String>::deserialize(&b),
        Err(Error::CorruptData(_))
    ));
    assert!(FrequentItems::<i64>::deserialize(&t.serialize()).is_err());
    // A huge table claimed by a tiny total weight.
    let mut big = FrequentItems::<i64>::new(26).unwrap().serialize();
    big[0] = 4;
    big[4] = 26;
    big[5] = 0;
    big.extend_from_slice(&[0u8; 24]);
    big[16] = 1;
    assert!(matches!(
        FrequentItems::<i64>::deserialize(&big),
        Err(Error::CorruptData(_))
    ));
}

#[test]
fn ten_thousand_mutated_images_never_panic() {
    let mut longs = Vec::new();
    let mut strings = Vec::new();
    for n in SIZES {
        longs.push(read_fixture("java", &format!("frequent_long_n{n}_java.sk")));
        longs.push(read_fixture("cpp", &format!("frequent_long_n{n}_cpp.sk")));
        strings.push(read_fixture(
            "java",
            &format!("frequent_string_n{n}_java.sk"),
        ));
    }
    strings.push(read_fixture("java", "frequent_string_utf8_java.sk"));
    let mut rng = 20261202u64;
    let (mut read, mut rejected) = (0, 0);
    for k in 0..10_000 {
        if k % 2 == 0 {
            let base = &longs[(splitmix(&mut rng) % longs.len() as u64) as usize];
            let img = mutate_image(&mut rng, base);
            // Long images also read as doubles: the same bytes, another item kind.
            let _ = FrequentItems::<f64>::deserialize(&img).map(|s| s.to_json());
            match FrequentItems::<i64>::deserialize(&img) {
                Ok(mut s) => {
                    read += 1;
                    let _ = (s.top(ErrorType::NoFalseNegatives, None), s.to_json());
                    for i in 0..200 {
                        // Only a total weight near i64::MAX refuses more.
                        if let Err(e) = s.update(i, 1) {
                            assert!(matches!(e, Error::InvalidArgument(_)));
                            assert!(s.total_weight() > MAX_TOTAL_WEIGHT - 200);
                        }
                    }
                    let again = FrequentItems::<i64>::deserialize(&s.serialize()).unwrap();
                    assert!(same_state(&again, &s));
                    let mut m = again.clone();
                    match m.merge(&s) {
                        Ok(()) => assert_eq!(m.total_weight(), 2 * s.total_weight()),
                        Err(e) => assert!(matches!(e, Error::InvalidArgument(_))),
                    }
                }
                Err(_) => rejected += 1,
            }
        } else {
            let base = &strings[(splitmix(&mut rng) % strings.len() as u64) as usize];
            let img = mutate_image(&mut rng, base);
            match FrequentItems::<String>::deserialize(&img) {
                Ok(mut s) => {
                    read += 1;
                    let _ = (s.top(ErrorType::NoFalsePositives, None), s.to_json());
                    if s.update("x", 3).is_err() {
                        assert!(s.total_weight() > MAX_TOTAL_WEIGHT - 3);
                    }
                    let again = FrequentItems::<String>::deserialize(&s.serialize()).unwrap();
                    assert!(same_state(&again, &s));
                }
                Err(_) => rejected += 1,
            }
        }
    }
    assert!(
        read > 1000 && rejected > 1000,
        "{read} read, {rejected} rejected"
    );
}

/// The (item, weight) pairs the aggregated path applies for `block`: each distinct item
/// once with its summed weight, in order of first occurrence (a plain reference of
/// the order, with std's map).
fn first_occurrence_pairs<K: Clone + std::hash::Hash + Eq>(
    block: std::ops::Range<usize>,
    item: impl Fn(usize) -> Option<K>,
    weight: impl Fn(usize) -> u64,
) -> Vec<(K, u64)> {
    let mut pos: HashMap<K, usize> = HashMap::new();
    let mut pairs: Vec<(K, u64)> = Vec::new();
    for i in block {
        let w = weight(i);
        if let (Some(x), true) = (item(i), w > 0) {
            match pos.get(&x) {
                Some(&p) => pairs[p].1 += w,
                None => {
                    pos.insert(x.clone(), pairs.len());
                    pairs.push((x, w));
                }
            }
        }
    }
    pairs
}

/// Runs `f` on a rayon pool of `threads` threads.
pub(crate) fn on_pool<R: Send>(threads: usize, f: impl FnOnce() -> R + Send) -> R {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .unwrap()
        .install(f)
}

/// [`FrequentItems::update_many_combined`] as its documentation states it, every new
/// item counted exactly (no buckets, one thread): the reference of the combining path.
fn combined_reference<'a, T>(
    lg: u8,
    n: usize,
    item: impl Fn(usize) -> Option<T::Ref<'a>>,
    weight: impl Fn(usize) -> u64,
) -> FrequentItems<T>
where
    T: FrequentItem,
    T::Ref<'a>: std::hash::Hash + Eq,
{
    let mut s = FrequentItems::<T>::new(lg).unwrap();
    let mut start = 0;
    while start < n {
        let block_end = (start + BLOCK).min(n);
        let (mut i, mut span) = (start, FIRST_COMBINED_SPAN);
        let mut unpurged = 0;
        while i < block_end {
            let end = (i + span).min(block_end);
            if unpurged >= HITS_FIRST_AFTER
                && block_end - i >= MIN_COMBINED_SPAN
                && s.map.num_active() <= (end - i) / 4
            {
                // Items in the map first, then the others in order.
                let known: Vec<bool> = (i..end)
                    .map(|j| item(j).is_some_and(|x| s.map.get(x) > 0))
                    .collect();
                for pass_known in [true, false] {
                    for j in (i..end).filter(|&j| known[j - i] == pass_known) {
                        let w = weight(j);
                        if let (Some(x), true) = (item(j), w > 0) {
                            if !s.apply_unless_purge(x, w) {
                                assert!(!pass_known);
                                unpurged = 0;
                                s.apply(x, w);
                            }
                            s.total_weight += w;
                        }
                    }
                }
                if unpurged > 0 {
                    unpurged += end - i;
                }
                (i, span) = (end, (2 * span).min(MAX_COMBINED_SPAN));
                continue;
            }
            let w = weight(i);
            if let (Some(x), true) = (item(i), w > 0) {
                if s.apply_unless_purge(x, w) {
                    s.total_weight += w;
                    unpurged += 1;
                    i += 1;
                    continue;
                }
                unpurged = 0;
                if block_end - i < MIN_COMBINED_SPAN {
                    s.update(x, w).unwrap();
                    i += 1;
                    continue;
                }
            } else {
                unpurged += 1;
                i += 1;
                continue;
            }
            let end = (i + span).min(block_end);
            let (mut hits, mut new) = (Vec::new(), Vec::new());
            for (x, w) in first_occurrence_pairs(i..end, &item, &weight) {
                s.total_weight += w;
                if s.map.get(x) > 0 {
                    hits.push((x, w));
                } else {
                    new.push((x, w));
                }
            }
            for (x, w) in hits {
                s.map.adjust_or_insert(x, w);
            }
            let r = s.map.capacity() / 2;
            let mut all: Vec<u64> = s
                .map
                .active_values()
                .chain(new.iter().map(|p| p.1))
                .collect();
            all.sort_unstable_by(|a, b| b.cmp(a));
            let m = all[r - 1];
            s.map.subtract_and_keep_positive(m);
            for (x, w) in new {
                if w > m {
                    s.map.adjust_or_insert(x, w - m);
                }
            }
            s.offset += m;
            (i, span) = (end, (2 * span).min(MAX_COMBINED_SPAN));
        }
        start = block_end;
    }
    s
}

#[test]
fn combined_equals_its_reference_on_any_thread_count() {
    let n = BLOCK * 2 + 4321;
    let stream = zipf(21, n);
    let item = |i: usize| (!i.is_multiple_of(17)).then_some(stream[i]);
    for (lg, weighted) in [(10u8, false), (12, true), (6, true), (14, false)] {
        let weight = |i: usize| if weighted { (i % 4) as u64 } else { 1 };
        let reference = combined_reference::<i64>(lg, n, item, weight);
        assert!(reference.maximum_error() > 0, "the stream purges");
        for threads in [1, 2] {
            let bulk = on_pool(threads, || {
                let mut s = FrequentItems::<i64>::new(lg).unwrap();
                s.update_many_combined(n, item, weight, &mut |_, _| true)
                    .unwrap();
                s
            });
            assert_eq!(
                bulk.serialize(),
                reference.serialize(),
                "lg {lg}, weighted {weighted}, {threads} threads"
            );
        }
        // The item-by-item path purges elsewhere: another (equally valid) sketch.
        let mut one = FrequentItems::<i64>::new(lg).unwrap();
        one.update_many(n, item, weight, &mut |_, _| true).unwrap();
        assert_eq!(one.total_weight(), reference.total_weight());
    }
    // A flat stream (every item about as rare): the counts stay low, so many buckets
    // pass the floor and many items are counted exactly.
    let flat: Vec<i64> = (0..n as i64).map(|i| (i * 7919) % 1_000_003).collect();
    let item = |i: usize| Some(flat[i]);
    let reference = combined_reference::<i64>(8, n, item, |_| 1);
    let mut bulk = FrequentItems::<i64>::new(8).unwrap();
    bulk.update_many_combined(n, item, |_| 1, &mut |_, _| true)
        .unwrap();
    assert_eq!(bulk.serialize(), reference.serialize());
}

#[test]
fn combined_equals_in_order_until_the_first_purge() {
    // Fewer distinct items than counters: no purge, so the combining path is the
    // item-by-item one (and Java's), byte for byte, grown maps included.
    for (lg, distinct) in [(10u8, 700i64), (6, 48), (12, 3000)] {
        let stream: Vec<i64> = zipf(5, 300_000).iter().map(|v| v % distinct - 9).collect();
        let weight = |i: usize| (i % 3) as u64;
        let mut one = FrequentItems::<i64>::new(lg).unwrap();
        one.update_many(stream.len(), |i| Some(stream[i]), weight, &mut |_, _| true)
            .unwrap();
        let mut combined = FrequentItems::<i64>::new(lg).unwrap();
        combined
            .update_many_combined(stream.len(), |i| Some(stream[i]), weight, &mut |_, _| true)
            .unwrap();
        assert_eq!(one.maximum_error(), 0);
        assert_eq!(combined.serialize(), one.serialize(), "lg {lg}");
    }
    // Updates of fewer than MIN_COMBINED_SPAN items purge as Java does, one by one.
    let stream = zipf(6, 40 * (MIN_COMBINED_SPAN - 1));
    let (mut one, mut combined) = (
        FrequentItems::<i64>::new(6).unwrap(),
        FrequentItems::<i64>::new(6).unwrap(),
    );
    for chunk in stream.chunks(MIN_COMBINED_SPAN - 1) {
        one.update_many(chunk.len(), |i| Some(chunk[i]), |_| 1, &mut |_, _| true)
            .unwrap();
        combined
            .update_many_combined(chunk.len(), |i| Some(chunk[i]), |_| 1, &mut |_, _| true)
            .unwrap();
    }
    assert!(one.maximum_error() > 0);
    assert_eq!(combined.serialize(), one.serialize());
}

#[test]
fn combined_strings_and_doubles_equal_their_references() {
    // Strings borrowed from one buffer, as an Arrow array holds them; non-ASCII too.
    // Then strings longer than a short key whose short keys are all one (24 bytes alike
    // in their first and last 8: a found key is compared whole), and lengths from 13 to
    // 19 bytes, on both sides of the short keys' 16 (hashed from their short keys or by
    // foldhash). Collisions of tally hashes are tested in `map`, where hashes are chosen.
    type Words = fn(i64) -> String;
    let makers: [(&str, Words); 3] = [
        ("mixed", |v| {
            if v % 7 == 0 {
                format!("café-{v}")
            } else {
                format!("w{v}")
            }
        }),
        ("long alike", |v| {
            format!("prefix--{:06}--suffix!!", v % 1_000_000)
        }),
        ("about 16", |v| {
            format!(
                "{}{}",
                "k".repeat(7 + (v % 7) as usize),
                v % 1_000_000 + 100_000
            )
        }),
    ];
    for (what, make) in makers {
        let words: Vec<String> = zipf(22, 300_000).iter().map(|&v| make(v)).collect();
        let mut data = String::new();
        let mut offsets = vec![0];
        for w in &words {
            data.push_str(w);
            offsets.push(data.len());
        }
        let item = |i: usize| (i % 9 != 4).then(|| &data[offsets[i]..offsets[i + 1]]);
        let weight = |i: usize| (i % 3) as u64;
        let reference = combined_reference::<String>(8, words.len(), item, weight);
        assert!(reference.maximum_error() > 0, "{what}: the stream purges");
        for threads in [1, 2] {
            let bulk = on_pool(threads, || {
                let mut s = FrequentItems::<String>::new(8).unwrap();
                s.update_many_combined(words.len(), item, weight, &mut |_, _| true)
                    .unwrap();
                s
            });
            assert_eq!(
                bulk.serialize(),
                reference.serialize(),
                "{what}, {threads} threads"
            );
        }
    }

    // Doubles: -0.0 is 0.0 and every NaN one item, in the counts and the order.
    let vals: Vec<f64> = zipf(23, 200_000)
        .iter()
        .enumerate()
        .map(|(i, &v)| match i % 50 {
            0 => -0.0,
            1 => 0.0,
            2 => f64::from_bits(0x7ff8_0000_0000_0001),
            3 => f64::NAN,
            _ => v as f64 / 4.0,
        })
        .collect();
    let item = |i: usize| Some(vals[i]);
    // The same stream with every double as its canonical bits: the reference's items.
    let canon = |i: usize| Some(crate::hash::canonical_f64_bits(vals[i]) as i64);
    let bits = combined_reference::<i64>(9, vals.len(), canon, |_| 1);
    let by_bits = |s: &FrequentItems<f64>| {
        let mut rows: Vec<(i64, u64)> = s
            .top(ErrorType::NoFalseNegatives, Some(0))
            .iter()
            .map(|r| {
                (
                    crate::hash::canonical_f64_bits(r.item) as i64,
                    r.lower_bound,
                )
            })
            .collect();
        rows.sort_unstable();
        rows
    };
    let mut expected: Vec<(i64, u64)> = bits
        .top(ErrorType::NoFalseNegatives, Some(0))
        .iter()
        .map(|r| (r.item, r.lower_bound))
        .collect();
    expected.sort_unstable();
    for threads in [1, 2] {
        let bulk = on_pool(threads, || {
            let mut s = FrequentItems::<f64>::new(9).unwrap();
            s.update_many_combined(vals.len(), item, |_| 1, &mut |_, _| true)
                .unwrap();
            s
        });
        assert_eq!(by_bits(&bulk), expected, "{threads} threads");
        assert_eq!(bulk.maximum_error(), bits.maximum_error());
        // 4000 occurrences of each form: counted as 8000 of one item.
        for x in [0.0, f64::NAN] {
            let (lb, ub) = (bulk.lower_bound(x), bulk.upper_bound(x));
            assert!(lb > 4000 && lb <= 8000 && 8000 <= ub, "{x}: {lb}..{ub}");
        }
    }
}

#[test]
fn combined_keeps_a_tighter_guarantee_on_zipf_and_flat_streams() {
    for (seed, lg) in [(31u64, 6u8), (32, 8), (33, 10)] {
        let stream = zipf(seed, 300_000);
        let mut s = FrequentItems::<i64>::new(lg).unwrap();
        s.update_many_combined(stream.len(), |i| Some(stream[i]), |_| 1, &mut |_, _| true)
            .unwrap();
        assert!(s.maximum_error() > 0, "the stream purges");
        check_guarantee(&s, &truth_of(&stream));
        within_combining_bound(&s);
        assert!(s
            .top(ErrorType::NoFalsePositives, None)
            .iter()
            .any(|r| r.item == 1));
    }
    let flat: Vec<i64> = (0..BLOCK as i64 + 200_000)
        .map(|i| (i * 7919) % 50_000)
        .collect();
    let mut s = FrequentItems::<i64>::new(7).unwrap();
    s.update_many_combined(flat.len(), |i| Some(flat[i]), |_| 1, &mut |_, _| true)
        .unwrap();
    check_guarantee(&s, &truth_of(&flat));
    within_combining_bound(&s);
}

/// Each combining purge subtracts at most 1/r of the weight it saw, r = half the
/// counters: a bound of 2.67 / 2^lg of the total, tighter than DataSketches' 3.5.
fn within_combining_bound<T: FrequentItem>(s: &FrequentItems<T>) {
    let r = (capacity_of(s.lg_max_map_size()) / 2) as u64;
    assert!(s.maximum_error() > 0 && s.maximum_error() <= s.total_weight() / r);
}

#[test]
fn combined_progress_cancel_and_overflow_leave_whole_blocks() {
    let n = BLOCK * 2 + 777;
    let stream = zipf(41, n);
    let item = |i: usize| (!i.is_multiple_of(13)).then_some(stream[i]);
    let weight = |i: usize| (i % 3) as u64;
    let run = |len: usize, w: &(dyn Fn(usize) -> u64 + Sync), go: bool| {
        let mut s = FrequentItems::<i64>::new(9).unwrap();
        let mut calls = Vec::new();
        let r = s.update_many_combined(len, item, w, &mut |d, t| {
            calls.push((d, t));
            go
        });
        (s, r, calls)
    };
    let (_, r, calls) = run(n, &weight, true);
    assert_eq!(r, Ok(()));
    assert_eq!(
        calls,
        vec![
            (BLOCK as u64, n as u64),
            (2 * BLOCK as u64, n as u64),
            (n as u64, n as u64)
        ]
    );
    let (prefix, _, _) = run(BLOCK, &weight, true);
    let (cancelled, r, calls) = run(n, &weight, false);
    assert_eq!(r, Err(Error::Cancelled));
    assert_eq!(calls.len(), 1);
    assert_eq!(cancelled.serialize(), prefix.serialize());

    // A block whose weights would pass i64::MAX is refused whole, after the blocks
    // before it; a zero weight is no update.
    let big = |i: usize| match i {
        _ if i == BLOCK + 5 => i64::MAX as u64,
        _ if i.is_multiple_of(5) => 0,
        _ => 1,
    };
    let (s, r, _) = run(n, &big, true);
    assert!(matches!(r, Err(Error::InvalidArgument(_))));
    let (first, _, _) = run(BLOCK, &big, true);
    assert_eq!(s.serialize(), first.serialize());
    let expected: u64 = (0..BLOCK).filter(|&i| item(i).is_some()).map(big).sum();
    assert_eq!(s.total_weight(), expected);
    // Weights that overflow u64 within one block are refused too.
    let huge = |_: usize| u64::MAX / 4;
    let (s, r, _) = run(100, &huge, true);
    assert!(matches!(r, Err(Error::InvalidArgument(_))));
    assert!(s.is_empty());
    // Nulls' weights do not count against the total.
    let mut s = FrequentItems::<i64>::new(9).unwrap();
    s.update(1, i64::MAX as u64 - 10).unwrap();
    s.update_many_combined(20, |i| (i >= 15).then_some(i as i64), |_| 2, &mut |_, _| {
        true
    })
    .unwrap();
    assert_eq!(s.total_weight(), i64::MAX as u64);
}
