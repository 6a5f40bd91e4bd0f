//! Tests of the KLL sketch: building blocks, API behaviour, accuracy, images and
//! robustness.

use super::*;

/// Deterministic test randomness (independent of the sketch's own).
struct TestRng(u64);

impl TestRng {
    fn next_u64(&mut self) -> u64 {
        splitmix64(&mut self.0)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

fn unwrap_invalid<T: fmt::Debug>(r: Result<T>) -> String {
    match r {
        Err(Error::InvalidArgument(m)) => m,
        other => panic!("expected InvalidArgument, got {other:?}"),
    }
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

// ---------------------------------------------------------------------
// Building blocks

#[test]
fn sorting_networks_sort_every_zero_one_input() {
    // 0-1 principle: a comparator network sorts every input iff it sorts
    // every input of zeros and ones.
    for bits in 0u32..(1 << 8) {
        let mut v: [f64; 8] = std::array::from_fn(|i| f64::from((bits >> i) & 1));
        sort8(&mut v);
        assert!(is_sorted(&v), "sort8 fails on {bits:#b}");
    }
    for bits in 0u32..(1 << 16) {
        let mut v: [f64; 16] = std::array::from_fn(|i| f64::from((bits >> i) & 1));
        sort16(&mut v);
        assert!(is_sorted(&v), "sort16 fails on {bits:#b}");
    }
    // sort_padded16: the first `pop` slots hold items, the rest padding
    // (+infinity, which plays the part of a one that sorts last)
    for pop in 0..=16usize {
        for bits in 0u32..(1 << pop) {
            let mut v: [f64; 16] = std::array::from_fn(|i| {
                if i < pop {
                    f64::from((bits >> i) & 1)
                } else {
                    f64::INFINITY
                }
            });
            sort_padded16(&mut v, pop);
            assert!(is_sorted(&v), "sort_padded16 fails on {pop}/{bits:#b}");
        }
    }
    // merge networks: every pair of sorted 0-1 halves
    for ones_a in 0..=8 {
        for ones_b in 0..=8 {
            let mut v: [f64; 16] = std::array::from_fn(|i| {
                let (pos, ones) = if i < 8 { (i, ones_a) } else { (i - 8, ones_b) };
                f64::from(u8::from(pos >= 8 - ones))
            });
            merge8x8(&mut v);
            assert!(is_sorted(&v), "merge8x8 fails on {ones_a}/{ones_b}");
        }
    }
    for ones_a in 0..=16 {
        for ones_b in 0..=16 {
            let mut v: [f64; 32] = std::array::from_fn(|i| {
                let (pos, ones) = if i < 16 {
                    (i, ones_a)
                } else {
                    (i - 16, ones_b)
                };
                f64::from(u8::from(pos >= 16 - ones))
            });
            merge16x16(&mut v);
            assert!(is_sorted(&v), "merge16x16 fails on {ones_a}/{ones_b}");
        }
    }
}

#[test]
fn sort_items_and_halve_and_merge_match_a_naive_reference() {
    let mut rng = TestRng(11);
    for len in 0..=70usize {
        for _ in 0..20 {
            let mut v: Vec<f64> = (0..len).map(|_| (rng.below(20) as f64) - 5.0).collect();
            let mut expected = v.clone();
            expected.sort_by(f64::total_cmp);
            sort_items(&mut v);
            assert_eq!(v, expected, "sort_items at len {len}");
        }
    }
    let mut scratch = Vec::new();
    for pop in (0..=70usize).step_by(2) {
        for above in [0usize, 1, 5, 8, 9, 16, 17, 40] {
            for offset in 0..2 {
                for sort in [false, true] {
                    let lead = rng.below(4) as usize;
                    let mut part: Vec<f64> = (0..pop).map(|_| rng.unit()).collect();
                    if !sort {
                        part.sort_by(f64::total_cmp);
                    }
                    let mut up: Vec<f64> = (0..above).map(|_| rng.unit()).collect();
                    up.sort_by(f64::total_cmp);
                    let mut buf = vec![-1.0; lead];
                    buf.extend_from_slice(&part);
                    buf.extend_from_slice(&up);
                    let lim = buf.len();

                    let mut sorted_part = part.clone();
                    sorted_part.sort_by(f64::total_cmp);
                    let mut expected: Vec<f64> = sorted_part
                        .iter()
                        .skip(offset)
                        .step_by(2)
                        .copied()
                        .collect();
                    expected.truncate(pop / 2);
                    expected.extend_from_slice(&up);
                    expected.sort_by(f64::total_cmp);

                    halve_and_merge(&mut buf, &mut scratch, lead, pop, lim, sort, offset);
                    assert_eq!(
                        &buf[lead + pop / 2..],
                        &expected[..],
                        "pop {pop} above {above} offset {offset} sort {sort}"
                    );
                    assert!(buf[..lead].iter().all(|&x| x == -1.0));
                }
            }
        }
    }
}

#[test]
fn level_capacities_follow_datasketches() {
    // k = 200: 200, 133, 89, 59, 40, 26, 18, 12, then the floor m = 8
    let caps: Vec<u32> = (0..10).rev().map(|h| level_capacity(200, 10, h)).collect();
    assert_eq!(caps, [200, 133, 89, 59, 40, 26, 18, 12, 8, 8]);
    assert_eq!(total_capacity(200, 1), 200);
    // datasketches-python reports capacity 422 for 3 levels at k = 200
    assert_eq!(total_capacity(200, 3), 422);
    assert_eq!(level_capacity(8, 1, 0), 8);
    // deep levels never exceed depth 60 in the integer formula
    assert_eq!(level_capacity(65535, 64, 0), 8);
    assert_eq!(ub_on_num_levels(0), 1);
    assert_eq!(ub_on_num_levels(1), 1);
    assert_eq!(ub_on_num_levels(1000), 10);
    assert_eq!(ub_on_num_levels(u64::MAX), 64);
}

#[test]
fn normalized_rank_error_constants() {
    assert!((normalized_rank_error(200, false) - 0.013294757464848584).abs() < 1e-15);
    assert!((normalized_rank_error(200, true) - 0.01651561908528982).abs() < 1e-15);
    let s = KllSketch::<f64>::new(200).unwrap();
    assert_eq!(
        s.normalized_rank_error(false),
        normalized_rank_error(200, false)
    );
}

// ---------------------------------------------------------------------
// API behaviour

#[test]
fn k_range_and_empty_sketch_policy() {
    assert!(unwrap_invalid(KllSketch::<f64>::new(7)).contains("k must be"));
    assert!(KllSketch::<f64>::new(8).is_ok());
    assert!(KllSketch::<f32>::new(u16::MAX).is_ok());
    assert_eq!(KllSketch::<f64>::DEFAULT_K, 200);

    let s = KllSketch::<f64>::new(200).unwrap();
    assert!(s.is_empty());
    assert!(!s.is_estimation_mode());
    assert_eq!((s.n(), s.num_retained(), s.k()), (0, 0, 200));
    assert_eq!((s.min_item(), s.max_item()), (None, None));
    assert!(matches!(s.quantile(0.5, true), Err(Error::Empty(_))));
    assert!(matches!(s.quantile(7.0, true), Err(Error::Empty(_))));
    assert!(matches!(s.cdf(&[2.0, 1.0], true), Err(Error::Empty(_))));
    assert!(matches!(s.quantiles(&[0.5], true), Err(Error::Empty(_))));
    assert!(matches!(s.rank(1.0, true), Err(Error::Empty(_))));
    assert!(matches!(s.ranks(&[1.0], false), Err(Error::Empty(_))));
    assert!(matches!(s.cdf(&[1.0], true), Err(Error::Empty(_))));
    assert!(matches!(s.pmf(&[1.0], true), Err(Error::Empty(_))));
}

#[test]
fn invalid_query_arguments() {
    let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
    s.update_slice(&[1.0, 2.0, 3.0]);
    for r in [-0.1, 1.0000001, f64::NAN, f64::INFINITY] {
        unwrap_invalid(s.quantile(r, true));
        unwrap_invalid(s.quantiles(&[0.5, r], false));
    }
    unwrap_invalid(s.rank(f64::NAN, true));
    unwrap_invalid(s.ranks(&[1.0, f64::NAN], true));
    for bad in [&[1.0, 1.0][..], &[2.0, 1.0], &[1.0, f64::NAN], &[f64::NAN]] {
        unwrap_invalid(s.cdf(bad, true));
        unwrap_invalid(s.pmf(bad, false));
    }
    assert_eq!(s.cdf(&[], true).unwrap(), vec![1.0]);
    assert_eq!(s.pmf(&[], true).unwrap(), vec![1.0]);
}

#[test]
fn nan_is_ignored_and_infinities_are_items() {
    let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
    s.update(f64::NAN);
    assert!(s.is_empty());
    s.update_slice(&[f64::NAN, 2.0, f64::NEG_INFINITY, f64::NAN, f64::INFINITY]);
    assert_eq!(s.n(), 3);
    assert_eq!(s.min_item(), Some(f64::NEG_INFINITY));
    assert_eq!(s.max_item(), Some(f64::INFINITY));
    assert_eq!(s.quantile(0.5, true).unwrap(), 2.0);
    assert_eq!(s.rank(f64::INFINITY, true).unwrap(), 1.0);
    assert_eq!(s.rank(f64::INFINITY, false).unwrap(), 2.0 / 3.0);
    let json = s.to_json();
    assert_eq!(json["min"], "-inf");
    assert_eq!(json["max"], "inf");

    let mut only_nan = KllSketch::<f32>::with_seed(8, 1).unwrap();
    only_nan.update_slice(&[f32::NAN; 5000]);
    assert!(only_nan.is_empty());
}

#[test]
fn update_slice_equals_item_by_item_updates() {
    let mut rng = TestRng(5);
    let data: Vec<f64> = (0..50_000)
        .map(|i| {
            if i % 997 == 0 {
                f64::NAN
            } else {
                rng.unit() * 100.0
            }
        })
        .collect();
    for k in [8u16, 200, 1000] {
        let mut a = KllSketch::<f64>::with_seed(k, 99).unwrap();
        let mut b = KllSketch::<f64>::with_seed(k, 99).unwrap();
        for &x in &data {
            a.update(x);
        }
        // uneven pieces exercise the block boundaries
        for piece in data.chunks(3001) {
            b.update_slice(piece);
        }
        assert_eq!(a, b, "k = {k}");
        assert_eq!(a.serialize(), b.serialize());
        assert_eq!(a.n(), 50_000 - 51);
    }
}

#[test]
fn bulk_queries_equal_single_queries_and_follow_updates() {
    let mut rng = TestRng(11);
    for (n, dups) in [(5usize, false), (150, true), (3000, false), (200_000, true)] {
        let mut s = KllSketch::<f64>::with_seed(200, 5).unwrap();
        let data: Vec<f64> = (0..n)
            .map(|_| {
                if dups {
                    rng.below(50) as f64
                } else {
                    rng.unit() * 100.0
                }
            })
            .collect();
        s.update_slice(&data);
        let mut ranks: Vec<f64> = (0..500).map(|_| rng.unit()).collect();
        ranks.extend([0.0, 1.0, 0.5, 0.5]);
        let mut items: Vec<f64> = (0..500).map(|_| rng.unit() * 110.0 - 5.0).collect();
        items.extend([-1.0, 0.0, 49.0, 101.0]);
        for sorted in [false, true] {
            if sorted {
                ranks.sort_by(f64::total_cmp);
                items.sort_by(f64::total_cmp);
            }
            for inclusive in [true, false] {
                let q = s.quantiles(&ranks, inclusive).unwrap();
                for (&r, &x) in ranks.iter().zip(&q) {
                    assert_eq!(x, s.quantile(r, inclusive).unwrap(), "n {n} r {r}");
                }
                let rk = s.ranks(&items, inclusive).unwrap();
                for (&x, &r) in items.iter().zip(&rk) {
                    assert_eq!(r, s.rank(x, inclusive).unwrap(), "n {n} x {x}");
                    let view = SortedView::new(&s);
                    assert_eq!(r, view.rank(x, inclusive));
                }
            }
        }
        // the cached view follows every update and merge
        let before = s.rank(50.0, true).unwrap();
        s.update_slice(&vec![1000.0; n]);
        let after = s.rank(50.0, true).unwrap();
        assert!((after - before / 2.0).abs() < 0.05, "{before} {after}");
        s.update(-1000.0);
        assert_eq!(s.quantile(0.0, true).unwrap(), -1000.0);
        let mut other = KllSketch::<f64>::with_seed(200, 6).unwrap();
        other.update(-2000.0);
        s.merge(&other).unwrap();
        assert_eq!(s.quantile(0.0, true).unwrap(), -2000.0);
        assert_eq!(s.max_item(), Some(1000.0));
    }
}

#[test]
fn exact_mode_quantiles_are_the_inverted_cdf_of_the_input() {
    let mut rng = TestRng(3);
    for n in [1usize, 2, 3, 7, 10, 64, 150, 199, 200] {
        // duplicates on purpose
        let data: Vec<f64> = (0..n).map(|_| (rng.below(40) as f64) * 0.5).collect();
        let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
        s.update_slice(&data);
        assert!(!s.is_estimation_mode());
        let mut sorted = data.clone();
        sorted.sort_by(f64::total_cmp);
        let nf = n as f64;
        let count_le = |x: f64| sorted.iter().filter(|&&y| y <= x).count();
        let count_lt = |x: f64| sorted.iter().filter(|&&y| y < x).count();
        let mut ranks: Vec<f64> = vec![0.0, 1.0, 0.5, 0.25, 0.75, 1e-9, 1.0 - 1e-9];
        ranks.extend((0..50).map(|_| rng.unit()));
        ranks.extend((0..=n).map(|i| i as f64 / nf));
        for &r in &ranks {
            // r * n as Java rounds it (module docs, difference 1): 0.14 * 150 =
            // 21.000000000000004 is 21
            let target = (r * nf * 1e7).round() / 1e7;
            // inclusive: the first item whose count of items <= it reaches
            // r * n (the inverted CDF)
            let incl = *sorted
                .iter()
                .find(|&&x| count_le(x) as f64 >= target)
                .unwrap_or(sorted.last().unwrap());
            // exclusive: the first item whose count of items <= it exceeds r * n
            let excl = *sorted
                .iter()
                .find(|&&x| count_le(x) as f64 > target)
                .unwrap_or(sorted.last().unwrap());
            assert_eq!(s.quantile(r, true).unwrap(), incl, "n {n} r {r} inclusive");
            assert_eq!(s.quantile(r, false).unwrap(), excl, "n {n} r {r} exclusive");
        }
        let batch = s.quantiles(&ranks, true).unwrap();
        for (q, &r) in batch.iter().zip(&ranks) {
            assert_eq!(*q, s.quantile(r, true).unwrap());
        }
        for probe in [-1.0, 0.0, 0.5, 3.25, 10.0, 19.5, 100.0] {
            assert_eq!(s.rank(probe, true).unwrap(), count_le(probe) as f64 / nf);
            assert_eq!(s.rank(probe, false).unwrap(), count_lt(probe) as f64 / nf);
        }
        assert_eq!(s.min_item(), sorted.first().copied());
        assert_eq!(s.max_item(), sorted.last().copied());
    }
}

#[test]
fn cdf_and_pmf_are_consistent() {
    let mut s = KllSketch::<f32>::with_seed(100, 8).unwrap();
    let data: Vec<f32> = (0..10_000).map(|i| ((i * 37) % 1000) as f32).collect();
    s.update_slice(&data);
    let splits = [100.0f32, 250.0, 500.0, 999.0];
    for inclusive in [true, false] {
        let cdf = s.cdf(&splits, inclusive).unwrap();
        let pmf = s.pmf(&splits, inclusive).unwrap();
        assert_eq!(cdf.len(), splits.len() + 1);
        assert_eq!(pmf.len(), splits.len() + 1);
        assert_eq!(*cdf.last().unwrap(), 1.0);
        assert!(cdf.windows(2).all(|w| w[0] <= w[1]));
        assert!((pmf.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        for (i, &x) in splits.iter().enumerate() {
            assert_eq!(cdf[i], s.rank(x, inclusive).unwrap());
        }
        // true cdf at 500 is 0.5 (inclusive 0.501); the sketch is within epsilon
        assert!((cdf[2] - 0.5).abs() < s.normalized_rank_error(false) + 0.001);
    }
}

#[test]
fn merge_semantics() {
    // empty into empty, empty into non-empty and back
    let mut a = KllSketch::<f64>::with_seed(200, 1).unwrap();
    let empty = KllSketch::<f64>::with_seed(100, 2).unwrap();
    a.merge(&empty).unwrap();
    assert!(a.is_empty());
    let mut b = KllSketch::<f64>::with_seed(200, 3).unwrap();
    b.update_slice(&[5.0, 1.0, 9.0]);
    a.merge(&b).unwrap();
    assert_eq!(
        (a.n(), a.min_item(), a.max_item()),
        (3, Some(1.0), Some(9.0))
    );
    let before = a.serialize();
    a.merge(&empty).unwrap();
    assert_eq!(a.serialize(), before);

    // different k: the result keeps its k; min_k takes an estimation-mode
    // input's smaller k, and an exact-mode input's k is irrelevant
    let mut small_exact = KllSketch::<f64>::with_seed(50, 4).unwrap();
    small_exact.update_slice(&[1.0, 2.0]);
    let mut big = KllSketch::<f64>::with_seed(400, 5).unwrap();
    big.merge(&small_exact).unwrap();
    assert_eq!((big.k(), big.min_k()), (400, 400));
    let mut small_est = KllSketch::<f64>::with_seed(50, 6).unwrap();
    let data: Vec<f64> = (0..100_000).map(f64::from).collect();
    small_est.update_slice(&data);
    big.merge(&small_est).unwrap();
    assert_eq!((big.k(), big.min_k()), (400, 50));
    assert_eq!(big.n(), 100_002);
    assert_eq!(
        big.normalized_rank_error(false),
        normalized_rank_error(50, false)
    );
    assert_eq!(big.total_weight(), u128::from(big.n()));
    // a larger-k estimation sketch merged into a small-k one must end
    // within the small sketch's capacity
    let mut tiny = KllSketch::<f64>::with_seed(8, 7).unwrap();
    let mut large = KllSketch::<f64>::with_seed(2000, 8).unwrap();
    large.update_slice(&data);
    tiny.merge(&large).unwrap();
    assert_eq!(tiny.n(), 100_000);
    assert!(tiny.num_retained() <= total_capacity(8, tiny.num_levels()));
    let back = KllSketch::<f64>::deserialize(&tiny.serialize()).unwrap();
    assert_eq!(back, tiny);
    let median = tiny.quantile(0.5, true).unwrap();
    // k = 8 is coarse: a loose sanity bound only
    assert!((median - 50_000.0).abs() < 25_000.0, "median {median}");
}

#[test]
fn clones_are_equal_but_draw_their_own_compaction_offsets() {
    let mut s = KllSketch::<f64>::with_seed(16, 42).unwrap();
    s.update_slice(&(0..1000).map(f64::from).collect::<Vec<_>>());
    let mut c1 = s.clone();
    let mut c2 = s.clone();
    assert_eq!(c1, s);
    let more: Vec<f64> = (0..20_000).map(|i| f64::from(i % 777)).collect();
    c1.update_slice(&more);
    c2.update_slice(&more);
    assert_ne!(c1, c2, "clones must not share compaction offsets");
    // but a seeded sketch's clones are reproducible
    let mut t = KllSketch::<f64>::with_seed(16, 42).unwrap();
    t.update_slice(&(0..1000).map(f64::from).collect::<Vec<_>>());
    let mut d1 = t.clone();
    d1.update_slice(&more);
    assert_eq!(d1, c1);
}

#[test]
fn json_summary() {
    let mut s = KllSketch::<f32>::with_seed(200, 1).unwrap();
    s.update_slice(&(1..=1000).map(|i| i as f32).collect::<Vec<_>>());
    let j = s.to_json();
    assert_eq!(j["item_type"], "f32");
    assert_eq!(j["k"], 200);
    assert_eq!(j["n"], 1000);
    assert_eq!(j["min"], 1.0);
    assert_eq!(j["max"], 1000.0);
    assert_eq!(j["estimation_mode"], true);
    assert_eq!(j["num_retained"], s.num_retained());
    let sizes: u64 = j["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum();
    assert_eq!(sizes, u64::from(s.num_retained()));
    assert!((j["normalized_rank_error"].as_f64().unwrap() - 0.013294757).abs() < 1e-8);
    let e = KllSketch::<f64>::new(8).unwrap().to_json();
    assert_eq!(e["min"], serde_json::Value::Null);
    assert_eq!(e["is_empty"], true);
}

// ---------------------------------------------------------------------
// Accuracy

/// Largest |estimated - true| inclusive rank over every distinct input
/// value: both rank functions are step functions that only change at
/// input values, so this is the maximum over all queries.
fn max_rank_error(s: &KllSketch<f64>, data: &[f64]) -> f64 {
    let mut sorted = data.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len() as f64;
    let mut values = Vec::new();
    let mut true_ranks = Vec::new();
    for (i, &x) in sorted.iter().enumerate() {
        if i + 1 == sorted.len() || sorted[i + 1] != x {
            values.push(x);
            true_ranks.push((i + 1) as f64 / n);
        }
    }
    let est = s.ranks(&values, true).unwrap();
    est.iter()
        .zip(&true_ranks)
        .map(|(e, t)| (e - t).abs())
        .fold(0.0, f64::max)
}

/// P(X > c) for X ~ Binomial(n, p).
fn binomial_upper_tail(n: u64, p: f64, c: u64) -> f64 {
    let mut term = (1.0 - p).powi(n as i32); // P(X = 0)
    let mut cdf = term;
    for i in 1..=c {
        term *= (n - i + 1) as f64 / i as f64 * p / (1.0 - p);
        cdf += term;
    }
    1.0 - cdf
}

#[test]
fn rank_error_stays_within_the_99_percent_bound() {
    const K: u16 = 200;
    const N: usize = 20_000;
    const SEEDS: u64 = 40;
    let eps = normalized_rank_error(K, false);
    let mut trials = 0u64;
    let mut failures = 0u64;
    let mut worst = 0.0f64;
    for seed in 0..SEEDS {
        let mut rng = TestRng(1000 + seed);
        let uniform: Vec<f64> = (0..N).map(|_| rng.unit()).collect();
        let mut ascending = uniform.clone();
        ascending.sort_by(f64::total_cmp);
        let descending: Vec<f64> = ascending.iter().rev().copied().collect();
        let duplicates: Vec<f64> = (0..N).map(|_| rng.below(30) as f64).collect();
        let mut runs: Vec<(Vec<f64>, Option<usize>)> = vec![
            (uniform, None),
            (ascending, None),
            (descending, None),
            (duplicates, None),
        ];
        // a stream cut into 100 partial sketches and merged
        let merged: Vec<f64> = (0..100 * 1000).map(|_| rng.unit().powi(3)).collect();
        runs.push((merged, Some(1000)));
        for (i, (data, parts)) in runs.into_iter().enumerate() {
            let sketch_seed = seed * 100 + i as u64;
            let s = match parts {
                None => {
                    let mut s = KllSketch::<f64>::with_seed(K, sketch_seed).unwrap();
                    s.update_slice(&data);
                    s
                }
                Some(len) => {
                    let mut total = KllSketch::<f64>::with_seed(K, sketch_seed).unwrap();
                    for (j, part) in data.chunks(len).enumerate() {
                        let mut p =
                            KllSketch::<f64>::with_seed(K, sketch_seed * 1000 + j as u64).unwrap();
                        p.update_slice(part);
                        total.merge(&p).unwrap();
                    }
                    assert_eq!(total.n(), data.len() as u64);
                    total
                }
            };
            assert!(s.is_estimation_mode());
            let err = max_rank_error(&s, &data);
            worst = worst.max(err);
            trials += 1;
            if err > eps {
                failures += 1;
            }
        }
    }
    // Each trial exceeds epsilon with probability at most 1% if the
    // sketch meets its guarantee. Allow the smallest number of failures
    // c with P(Binomial(trials, 0.01) > c) <= 1%, so a correct sketch
    // fails this test with probability below 1% (for 200 trials c = 6,
    // tail 0.43%), while a sketch twice as bad fails nearly every trial.
    let mut allowed = 0;
    while binomial_upper_tail(trials, 0.01, allowed) > 0.01 {
        allowed += 1;
    }
    assert_eq!((trials, allowed), (200, 6));
    assert!(
        failures <= allowed,
        "{failures} of {trials} trials exceeded eps = {eps} (worst {worst})"
    );
    assert!(worst > 0.0);
}

// ---------------------------------------------------------------------
// Images: DataSketches fixtures

use crate::test_fixtures::{fixtures_dir, read_fixture};

fn check_fixture<T: KllItem>(path: &std::path::Path, n: u64) {
    let bytes = std::fs::read(path).unwrap();
    let name = path.display();
    let s = KllSketch::<T>::deserialize(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(s.n(), n, "{name}");
    assert_eq!(s.k(), 200, "{name}");
    let re = s.serialize();
    // datasketches-python re-serializes every one of these byte for byte
    assert_eq!(re, bytes, "{name}: re-serialization differs");
    let back = KllSketch::<T>::deserialize(&re).unwrap();
    assert_eq!(back, s, "{name}");
    assert_eq!(back.serialize(), re, "{name}");
    if n == 0 {
        assert!(s.is_empty());
        return;
    }
    assert_eq!(s.min_item().unwrap().to_f64(), 1.0, "{name}");
    assert_eq!(s.max_item().unwrap().to_f64(), n as f64, "{name}");
    let median = s.quantile(0.5, true).unwrap().to_f64();
    // the true (inverted-CDF) median of 1..=n is ceil(n / 2); items are
    // their own ranks times n, so the rank error is the distance / n
    let true_median = (n as f64 * 0.5).ceil();
    let rank_err = (median - true_median).abs() / n as f64;
    assert!(
        rank_err <= s.normalized_rank_error(false),
        "{name}: median {median} is off by rank {rank_err}"
    );
    assert_eq!(s.is_estimation_mode(), n > 200, "{name}");
}

#[test]
fn reads_every_datasketches_kll_fixture() {
    let dir = fixtures_dir();
    let mut seen = 0;
    for lang in ["java", "cpp"] {
        let mut entries: Vec<_> = std::fs::read_dir(dir.join(lang))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let file = path.file_name().unwrap().to_str().unwrap().to_owned();
            let Some(rest) = file.strip_prefix("kll_") else {
                continue;
            };
            let (ty, rest) = rest.split_once("_n").unwrap();
            let n: u64 = rest.split_once('_').unwrap().0.parse().unwrap();
            match ty {
                "double" => check_fixture::<f64>(&path, n),
                "float" => check_fixture::<f32>(&path, n),
                "long" => check_fixture::<i64>(&path, n),
                _ => continue,
            }
            seen += 1;
        }
    }
    // 8 sizes x {float, double} x {java, cpp}, and 8 sizes of Java's KllLongsSketch
    assert_eq!(seen, 40);
}

#[test]
fn java_long_images_hold_exact_integers() {
    let s = KllSketch::<i64>::deserialize(&read_fixture("java", "kll_long_n1000_java.sk")).unwrap();
    assert_eq!((s.min_item(), s.max_item()), (Some(1), Some(1000)));
    let mut retained: Vec<i64> = s.retained().to_vec();
    retained.sort_unstable();
    // every retained item is one of the integers 1..=1000, none repeated
    assert!(retained.windows(2).all(|w| w[0] < w[1]));
    assert!(retained.iter().all(|x| (1..=1000).contains(x)));
    // the exact extremes, whatever the compactions kept (module docs, difference 2)
    assert_eq!(s.quantile(0.0, true).unwrap(), 1);
    assert_eq!(s.quantile(1.0, true).unwrap(), 1000);
    assert_eq!(s.quantile(1.0, false).unwrap(), 1000);
    assert_eq!(s.rank(1000, true).unwrap(), 1.0);
    assert_eq!(s.rank(0, true).unwrap(), 0.0);
}

#[test]
fn i64_items_stay_exact_beyond_2_pow_53() {
    let base = 1i64 << 60;
    // consecutive integers that doubles cannot tell apart
    let data: Vec<i64> = (0..5000).map(|i| base + (i * 7919) % 5000).collect();
    let mut s = KllSketch::<i64>::with_seed(200, 9).unwrap();
    s.update_slice(&data);
    assert_eq!(
        (s.min_item(), s.max_item()),
        (Some(base), Some(base + 4999))
    );
    assert!(s.is_estimation_mode());
    for (i, q) in s
        .quantiles(&[0.0, 0.25, 0.5, 0.75, 1.0], true)
        .unwrap()
        .into_iter()
        .enumerate()
    {
        let true_rank = (q - base + 1) as f64 / 5000.0;
        let r = [0.0, 0.25, 0.5, 0.75, 1.0][i];
        assert!((true_rank - r).abs() <= s.normalized_rank_error(false) + 1.0 / 5000.0);
    }
    assert_eq!(s.quantile(1.0, true).unwrap(), base + 4999);
    assert_eq!(s.rank(base + 4999, true).unwrap(), 1.0);
    assert_eq!(s.rank(base, false).unwrap(), 0.0);
    let image = s.serialize();
    let back = KllSketch::<i64>::deserialize(&image).unwrap();
    assert_eq!(back, s);
    assert_eq!(back.serialize(), image);
    // extremes of the type are items like any other
    let mut t = KllSketch::<i64>::with_seed(8, 1).unwrap();
    t.update_slice(&[
        i64::MAX,
        i64::MIN,
        0,
        -1,
        1,
        i64::MAX - 1,
        i64::MIN + 1,
        5,
        6,
        7,
    ]);
    assert_eq!(t.quantile(0.0, true).unwrap(), i64::MIN);
    assert_eq!(t.quantile(1.0, true).unwrap(), i64::MAX);
    assert_eq!(KllSketch::<i64>::deserialize(&t.serialize()).unwrap(), t);
    assert_eq!(t.to_json()["max"], serde_json::json!(i64::MAX));
}

#[test]
fn i64_sketch_takes_integer_columns_exactly_and_refuses_others() {
    use crate::bulk::update_values;
    use crate::column::Numeric;
    let ints: Vec<i32> = (0..3000).map(|i| (i * 37) % 1001 - 500).collect();
    let wide: Vec<i64> = ints.iter().map(|&x| i64::from(x)).collect();
    let mut a = KllSketch::<i64>::with_seed(64, 3).unwrap();
    let mut b = KllSketch::<i64>::with_seed(64, 3).unwrap();
    update_values(&mut a, &Numeric::I32(&ints), &mut |_, _| true).unwrap();
    update_values(&mut b, &Numeric::I64(&wide), &mut |_, _| true).unwrap();
    assert_eq!(a, b);
    let big: Vec<u64> = vec![1, (1 << 63) - 1];
    update_values(&mut a, &Numeric::U64(&big), &mut |_, _| true).unwrap();
    assert_eq!(a.max_item(), Some(i64::MAX));
    // refused whole, before any item is applied
    let before = a.clone();
    let too_big: Vec<u64> = vec![1, 2, 1 << 63];
    let err = update_values(&mut a, &Numeric::U64(&too_big), &mut |_, _| true).unwrap_err();
    assert!(err.to_string().contains("item 2"), "{err}");
    let err = update_values(&mut a, &Numeric::F64(&[1.0, 2.0]), &mut |_, _| true).unwrap_err();
    assert!(err.to_string().contains("floating-point"), "{err}");
    assert_eq!(a, before);
    let flags = [1u8, 0, 1];
    update_values(&mut a, &Numeric::Bool(&flags), &mut |_, _| true).unwrap();
    assert_eq!(a.n(), before.n() + 3);
}

/// Java's sorted view: where the compactions dropped the exact min or max, ranks 0
/// and 1 still answer them, the largest retained item has rank (n - 1) / n and an
/// item between the min and the smallest retained one has rank 1 / n.
#[test]
fn sorted_view_adds_the_dropped_extremes_as_java_does() {
    let (mut dropped_min, mut dropped_max) = (0, 0);
    for seed in 0..40u64 {
        let mut s = KllSketch::<f64>::with_seed(8, seed).unwrap();
        let data: Vec<f64> = (0..1000).map(|i| ((i * 7919) % 1000) as f64).collect();
        s.update_slice(&data);
        let n = s.n() as f64;
        let mut kept: Vec<f64> = s.retained().to_vec();
        kept.sort_by(f64::total_cmp);
        let (lo, hi) = (kept[0], *kept.last().unwrap());
        assert_eq!(s.quantile(0.0, true).unwrap(), 0.0);
        assert_eq!(s.quantile(0.0, false).unwrap(), 0.0);
        assert_eq!(s.quantile(1.0, true).unwrap(), 999.0);
        assert_eq!(s.quantile(1.0, false).unwrap(), 999.0);
        assert_eq!(s.rank(999.0, true).unwrap(), 1.0);
        if hi != 999.0 {
            dropped_max += 1;
            assert_eq!(s.rank(hi, true).unwrap(), (n - 1.0) / n, "seed {seed}");
            assert_eq!(s.rank(hi, false).unwrap(), s.rank(hi - 0.5, true).unwrap());
            assert_eq!(s.rank(hi + 0.5, true).unwrap(), (n - 1.0) / n);
        }
        if lo != 0.0 {
            dropped_min += 1;
            assert_eq!(s.rank(0.0, true).unwrap(), 1.0 / n, "seed {seed}");
            assert_eq!(s.rank(lo - 0.5, true).unwrap(), 1.0 / n);
            assert_eq!(s.rank(0.0, false).unwrap(), 0.0);
            assert_eq!(s.quantile(1.0 / n, true).unwrap(), 0.0);
        }
    }
    // both cases are exercised
    assert!(
        dropped_min > 0 && dropped_max > 0,
        "{dropped_min} {dropped_max}"
    );
}

/// Java rounds rank * n to 7 decimals up to n = 10^7 (module docs, difference 1).
#[test]
fn rank_times_n_is_rounded_as_java_rounds_it() {
    let mut s = KllSketch::<f64>::with_seed(200, 1).unwrap();
    s.update_slice(&(1..=200).map(f64::from).collect::<Vec<_>>());
    // 0.14 * 200 = 28.000000000000004: C++ searches weight 29, Java 28
    let (rank, n) = (0.14, 200.0);
    assert!(rank * n > 28.0);
    assert_eq!(s.quantile(0.14, true).unwrap(), 28.0);
    assert_eq!(s.quantile(0.14, false).unwrap(), 29.0);
    // every i / n is item i, both ways
    let ranks: Vec<f64> = (0..=200).map(|i| f64::from(i) / 200.0).collect();
    let incl = s.quantiles(&ranks, true).unwrap();
    let excl = s.quantiles(&ranks, false).unwrap();
    for i in 0..=200usize {
        assert_eq!(incl[i], (i.max(1)) as f64);
        assert_eq!(excl[i], ((i + 1).min(200)) as f64);
    }
    // beyond 10^7 the raw product decides, as in Java
    let v = SortedView::new(&s);
    let big = SortedView::<f64> {
        items: v.items.clone(),
        cum: v.cum.clone(),
        total: 20_000_000,
        total_f64: 2e7,
    };
    let r = 0.3 + 1e-16; // 0.3 * 2e7 is 6000000.000000001
    assert!(r * 2e7 > 6e6);
    assert_eq!(big.weight(r, true), 6_000_001);
    assert_eq!(v.weight(r, true), 60);
}

// ---------------------------------------------------------------------
// Images: byte compatibility with datasketches-python 5.2.0
//
// Regenerate with python (datasketches 5.2.0):
//
//   from datasketches import kll_doubles_sketch, kll_floats_sketch
//   def x(i): return ((i * 7919 + 13) % 1009) / 8.0 - 20.0
//   def build(cls, k, lo, hi):
//       s = cls(k)
//       for i in range(lo, hi): s.update(x(i))
//       return s
//   EMPTY_K200 = kll_doubles_sketch(200).serialize()
//   s = kll_doubles_sketch(200); s.update(42.5); SINGLE_K200 = s.serialize()
//   EXACT_K200_N150 = build(kll_doubles_sketch, 200, 0, 150).serialize()
//   FULL_K8_N8 = build(kll_doubles_sketch, 8, 0, 8).serialize()
//   FLOAT_EXACT_K100_N60 = build(kll_floats_sketch, 100, 0, 60).serialize()
//   a = build(kll_doubles_sketch, 200, 0, 50)
//   a.merge(build(kll_doubles_sketch, 200, 50, 120)); MERGED_EXACT_K200 = a.serialize()
//   est = build(kll_doubles_sketch, 64, 0, 2000); EST_K64_N2000 = est.serialize()
//   # expected answers: sk.get_quantile(r, incl), sk.get_rank(v, incl),
//   # sk.get_cdf(splits, incl), sk.get_pmf(splits, incl) for RANKS / SPLITS below
//
// Every image is serialized before any query (a query sorts level 0 in
// DataSketches and sets the sorted flag).

fn x(i: usize) -> f64 {
    ((i * 7919 + 13) % 1009) as f64 / 8.0 - 20.0
}

fn build_f64(k: u16, range: std::ops::Range<usize>) -> KllSketch<f64> {
    let mut s = KllSketch::<f64>::with_seed(k, 77).unwrap();
    for i in range {
        s.update(x(i));
    }
    s
}

const EMPTY_K200: &str = "02010f01c8000800";
const SINGLE_K200: &str = "02020f04c80008000000000000404540";
const EXACT_K200_N150: &str = concat!(
    "05010f00c80008009600000000000000c8000100320000000000000000e033c00000000000705a400000000000704040",
    "0000000000004a400000000000c8514000000000009056400000000000c030c000000000000003400000000000803540",
    "00000000005044400000000000e04d400000000000b85340000000000080584000000000000022c00000000000402440",
    "0000000000403d4000000000003048400000000000e050400000000000a855400000000000705a40000000000000f4bf",
    "0000000000e0314000000000008042400000000000104c400000000000d05240000000000098574000000000004029c0",
    "0000000000001a400000000000a0394000000000006046400000000000f04f400000000000c054400000000000885940",
    "00000000008013c00000000000802c400000000000b040400000000000404a400000000000e851400000000000b05640",
    "00000000004030c00000000000000740000000000000364000000000009044400000000000204e400000000000d85340",
    "0000000000a0584000000000000021c000000000004025400000000000c03d4000000000007048400000000000005140",
    "0000000000c855400000000000e033c0000000000000e8bf00000000006032400000000000c042400000000000504c40",
    "0000000000f052400000000000b8574000000000004028c00000000000001c400000000000203a400000000000a04640",
    "00000000001850400000000000e054400000000000a8594000000000008011c00000000000802d400000000000f04040",
    "0000000000804a4000000000000852400000000000d056400000000000802fc00000000000000b400000000000803640",
    "0000000000d044400000000000604e400000000000f853400000000000c0584000000000000020c00000000000402640",
    "0000000000403e400000000000b0484000000000002051400000000000e8554000000000006033c0000000000000d0bf",
    "0000000000e0324000000000000043400000000000904c4000000000001053400000000000d8574000000000004027c0",
    "0000000000001e400000000000a03a400000000000e04640000000000038504000000000000055400000000000c85940",
    "0000000000000fc00000000000802e4000000000003041400000000000c04a4000000000002852400000000000f05640",
    "0000000000802ec00000000000000f40000000000000374000000000001045400000000000a04e400000000000185440",
    "0000000000e058400000000000001ec000000000004027400000000000c03e400000000000f048400000000000405140",
    "00000000000856400000000000e032c0000000000000d03f000000000060334000000000004043400000000000d04c40",
    "00000000003053400000000000f8574000000000004026c000000000000020400000000000203b400000000000204740",
    "000000000058504000000000002055400000000000e859400000000000000bc00000000000802f400000000000704140",
    "0000000000004b40000000000048524000000000001057400000000000802dc000000000008011400000000000803740",
    "00000000005045400000000000e04e40000000000038544000000000000059400000000000001cc00000000000402840",
    "0000000000403f4000000000003049400000000000605140000000000028564000000000006032c0",
);
const FULL_K8_N8: &str = concat!(
    "05010f00080008000800000000000000080001000000000000000000006032c000000000000059400000000000005940",
    "0000000000001cc000000000004028400000000000403f40000000000030494000000000006051400000000000285640",
    "00000000006032c0",
);
const FLOAT_EXACT_K100_N60: &str = concat!(
    "05010f00640008003c000000000000006400010028000000000097c10040cf4200003ac10000f0400000d54100003742",
    "00c081420000a8420040ce42000078c0000074410080094200005642004091420080b742000074c1000078400000b841",
    "008028420000754200c0a0420000c7420000f0c000003a410000f6410080474200008a420040b042000097c10000803e",
    "00009b4100001a42008066420080994200c0bf42000032c1000000410000d9410000394200c082420000a9420040cf42",
    "000058c000007c4100800b4200005842004092420080b84200006cc100008c400000bc4100802a420000774200c0a142",
    "0000c8420000e0c0000042410000fa410080494200008b420040b142000093c1",
);
const MERGED_EXACT_K200: &str = concat!(
    "05010f00c80008007800000000000000c8000100500000000000000000e033c00000000000e859400000000000304140",
    "0000000000802e400000000000000fc00000000000c85940000000000000554000000000003850400000000000e04640",
    "0000000000a03a400000000000001e4000000000004027c00000000000d8574000000000001053400000000000904c40",
    "00000000000043400000000000e03240000000000000d0bf00000000006033c00000000000e855400000000000205140",
    "0000000000b048400000000000403e40000000000040264000000000000020c00000000000c058400000000000f85340",
    "0000000000604e400000000000d0444000000000008036400000000000000b400000000000802fc00000000000d05640",
    "00000000000852400000000000804a400000000000f040400000000000802d4000000000008011c00000000000a85940",
    "0000000000e0544000000000001850400000000000a046400000000000203a400000000000001c4000000000004028c0",
    "0000000000b857400000000000f052400000000000504c400000000000c042400000000000603240000000000000e8bf",
    "0000000000e033c00000000000c85540000000000000514000000000007048400000000000c03d400000000000402540",
    "00000000000021c00000000000a058400000000000d853400000000000204e4000000000009044400000000000003640",
    "000000000000074000000000004030c00000000000b056400000000000e851400000000000404a400000000000b04040",
    "0000000000802c4000000000008013c000000000008859400000000000c04a4000000000002852400000000000f05640",
    "0000000000802ec00000000000000f40000000000000374000000000001045400000000000a04e400000000000185440",
    "0000000000e058400000000000001ec000000000004027400000000000c03e400000000000f048400000000000405140",
    "00000000000856400000000000e032c0000000000000d03f000000000060334000000000004043400000000000d04c40",
    "00000000003053400000000000f8574000000000004026c000000000000020400000000000203b400000000000204740",
    "000000000058504000000000002055400000000000e859400000000000000bc00000000000802f400000000000704140",
    "0000000000004b40000000000048524000000000001057400000000000802dc000000000008011400000000000803740",
    "00000000005045400000000000e04e40000000000038544000000000000059400000000000001cc00000000000402840",
    "0000000000403f4000000000003049400000000000605140000000000028564000000000006032c0",
);
const EST_K64_N2000: &str = concat!(
    "05010f0040000800d0070000000000004000060001000000090000004d00000057000000800000008100000000000000",
    "000034c00000000000805a4000000000003057400000000000802cc00000000000801340000000000000384000000000",
    "009045400000000000204f400000000000585440000000000020594000000000000034c00000000000e031c000000000",
    "006030c00000000000c02fc00000000000802bc000000000008029c000000000004021c00000000000001ac000000000",
    "000018c000000000000016c0000000000000febf000000000000ecbf000000000000fc3f000000000000024000000000",
    "0080174000000000000022400000000000002340000000000000244000000000000025400000000000402c4000000000",
    "00c030400000000000c03140000000000040324000000000006034400000000000e03540000000000080384000000000",
    "008039400000000000203d400000000000a03d400000000000c03f400000000000a040400000000000f0414000000000",
    "0070424000000000008044400000000000d0454000000000005046400000000000904640000000000020484000000000",
    "007049400000000000b049400000000000304a400000000000004c400000000000404c400000000000904d4000000000",
    "00104e400000000000e04f4000000000009850400000000000d850400000000000f85040000000000080514000000000",
    "00e0514000000000008852400000000000c852400000000000d0534000000000007854400000000000b8544000000000",
    "00d854400000000000a05540000000000048564000000000006856400000000000a85640000000000090574000000000",
    "00b057400000000000585840000000000098584000000000008059400000000000285a400000000000685a4000000000",
    "00c02ec000000000000010c00000000000801d4000000000006036400000000000e040400000000000c0444000000000",
    "00b04a4000000000000052400000000000f053400000000000e8564000000000006033c000000000008032c000000000",
    "00002fc00000000000002dc00000000000c026c00000000000801ec00000000000000dc0000000000000e03f00000000",
    "0000114000000000000019400000000000c022400000000000c025400000000000002e400000000000c0334000000000",
    "00c035400000000000c037400000000000003e400000000000a03e400000000000e04140000000000060424000000000",
    "006043400000000000c045400000000000404640000000000010494000000000006049400000000000b04b4000000000",
    "00804e400000000000904e40000000000068504000000000009851400000000000f851400000000000c0524000000000",
    "00c8534000000000003054400000000000d0544000000000003855400000000000185640000000000068574000000000",
    "0050584000000000009859400000000000f859400000000000c032c00000000000c031c00000000000802dc000000000",
    "000029c000000000000023c00000000000801bc00000000000000fc0000000000000d0bf000000000000f23f00000000",
    "000009400000000000801e40000000000000214000000000008027400000000000a03040000000000060324000000000",
    "0040354000000000000037400000000000c03a400000000000403c400000000000004040000000000030414000000000",
    "0040424000000000002044400000000000a0444000000000003046400000000000c047400000000000e0484000000000",
    "00204a400000000000804b400000000000a04c400000000000204e4000000000000850400000000000e0504000000000",
    "004851400000000000f05140000000000090524000000000003853400000000000d853400000000000a8544000000000",
    "006055400000000000d055400000000000f0564000000000001057400000000000d857400000000000c8584000000000",
    "008859400000000000205a40",
);

const RANKS: [f64; 12] = [
    0.0, 0.001, 0.01, 0.1, 0.25, 0.3, 0.5, 0.75, 0.9, 0.99, 0.999, 1.0,
];
const SPLITS: [f64; 6] = [-15.0, -3.125, 0.0, 7.5, 33.0, 90.0];

struct Expected {
    q_incl: [f64; 12],
    q_excl: [f64; 12],
    r_incl: [f64; 6],
    r_excl: [f64; 6],
    pmf_incl: [f64; 7],
    pmf_excl: [f64; 7],
}

const EXACT_ANSWERS: Expected = Expected {
    q_incl: [
        -19.875, -19.875, -19.375, -8.5, 11.125, 17.875, 42.125, 73.125, 91.75, 103.625, 105.75,
        105.75,
    ],
    q_excl: [
        -19.875, -19.875, -19.375, -8.0, 11.125, 18.375, 42.625, 73.125, 92.25, 103.625, 105.75,
        105.75,
    ],
    r_incl: [
        0.05333333333333334,
        0.14666666666666667,
        0.16666666666666666,
        0.22666666666666666,
        0.42,
        0.8733333333333333,
    ],
    r_excl: [
        0.05333333333333334,
        0.14666666666666667,
        0.16666666666666666,
        0.22,
        0.42,
        0.8733333333333333,
    ],
    pmf_incl: [
        0.05333333333333334,
        0.09333333333333332,
        0.01999999999999999,
        0.06,
        0.19333333333333333,
        0.4533333333333333,
        0.1266666666666667,
    ],
    pmf_excl: [
        0.05333333333333334,
        0.09333333333333332,
        0.01999999999999999,
        0.053333333333333344,
        0.19999999999999998,
        0.4533333333333333,
        0.1266666666666667,
    ],
};

/// datasketches-python's answers except at rank 1, where it gives the largest
/// retained item (105.625) and Java, hence sketchbox, the exact max (106.0; module
/// docs, difference 2).
const EST_ANSWERS: Expected = Expected {
    q_incl: [
        -20.0, -20.0, -18.75, -9.5, 9.375, 18.375, 41.25, 74.25, 92.25, 104.5, 104.625, 106.0,
    ],
    q_excl: [
        -20.0, -19.375, -18.75, -9.5, 9.375, 18.375, 41.25, 74.25, 92.25, 104.5, 105.625, 106.0,
    ],
    r_incl: [0.042, 0.1465, 0.1645, 0.214, 0.4235, 0.877],
    r_excl: [0.042, 0.1465, 0.1645, 0.214, 0.4235, 0.877],
    pmf_incl: [
        0.042,
        0.10449999999999998,
        0.018000000000000016,
        0.04949999999999999,
        0.2095,
        0.4535,
        0.123,
    ],
    pmf_excl: [
        0.042,
        0.10449999999999998,
        0.018000000000000016,
        0.04949999999999999,
        0.2095,
        0.4535,
        0.123,
    ],
};

fn check_answers(s: &KllSketch<f64>, e: &Expected) {
    assert_eq!(s.quantiles(&RANKS, true).unwrap(), e.q_incl);
    assert_eq!(s.quantiles(&RANKS, false).unwrap(), e.q_excl);
    assert_eq!(s.ranks(&SPLITS, true).unwrap(), e.r_incl);
    assert_eq!(s.ranks(&SPLITS, false).unwrap(), e.r_excl);
    let mut cdf_incl = e.r_incl.to_vec();
    cdf_incl.push(1.0);
    let mut cdf_excl = e.r_excl.to_vec();
    cdf_excl.push(1.0);
    assert_eq!(s.cdf(&SPLITS, true).unwrap(), cdf_incl);
    assert_eq!(s.cdf(&SPLITS, false).unwrap(), cdf_excl);
    assert_eq!(s.pmf(&SPLITS, true).unwrap(), e.pmf_incl);
    assert_eq!(s.pmf(&SPLITS, false).unwrap(), e.pmf_excl);
}

#[test]
fn byte_identical_to_datasketches_python_without_compaction() {
    let empty = KllSketch::<f64>::new(200).unwrap();
    assert_eq!(empty.serialize(), unhex(EMPTY_K200));
    let mut single = KllSketch::<f64>::new(200).unwrap();
    single.update(42.5);
    assert_eq!(single.serialize(), unhex(SINGLE_K200));
    assert_eq!(build_f64(200, 0..150).serialize(), unhex(EXACT_K200_N150));
    assert_eq!(build_f64(8, 0..8).serialize(), unhex(FULL_K8_N8));
    let mut f = KllSketch::<f32>::new(100).unwrap();
    f.update_slice(&(0..60).map(|i| x(i) as f32).collect::<Vec<_>>());
    assert_eq!(f.serialize(), unhex(FLOAT_EXACT_K100_N60));
    let mut a = build_f64(200, 0..50);
    a.merge(&build_f64(200, 50..120)).unwrap();
    assert_eq!(a.serialize(), unhex(MERGED_EXACT_K200));
    // and the same answers as datasketches-python
    check_answers(&build_f64(200, 0..150), &EXACT_ANSWERS);
}

#[test]
fn reads_datasketches_python_images() {
    for hex in [
        EMPTY_K200,
        SINGLE_K200,
        EXACT_K200_N150,
        FULL_K8_N8,
        MERGED_EXACT_K200,
        EST_K64_N2000,
    ] {
        let bytes = unhex(hex);
        let s = KllSketch::<f64>::deserialize(&bytes).unwrap();
        assert_eq!(s.serialize(), bytes);
    }
    let f = KllSketch::<f32>::deserialize(&unhex(FLOAT_EXACT_K100_N60)).unwrap();
    assert_eq!((f.n(), f.k()), (60, 100));
    let single = KllSketch::<f64>::deserialize(&unhex(SINGLE_K200)).unwrap();
    assert_eq!((single.n(), single.min_item()), (1, Some(42.5)));
    let est = KllSketch::<f64>::deserialize(&unhex(EST_K64_N2000)).unwrap();
    assert!(est.is_estimation_mode());
    assert_eq!((est.n(), est.k()), (2000, 64));
    check_answers(&est, &EST_ANSWERS);
    // the flag DataSketches sets after sorting level 0 is kept on a round trip
    let mut sorted_image = unhex(EXACT_K200_N150);
    let mut s = KllSketch::<f64>::deserialize(&sorted_image).unwrap();
    assert!(KllSketch::<f64>::deserialize(&{
        let mut b = sorted_image.clone();
        b[3] |= FLAG_LEVEL_ZERO_SORTED;
        b
    })
    .is_err());
    s.level_zero_sorted = false;
    let mut level0: Vec<f64> = s.level(0).to_vec();
    level0.sort_by(f64::total_cmp);
    let start = sorted_image.len() - 8 * level0.len();
    for (i, v) in level0.iter().enumerate() {
        sorted_image[start + 8 * i..start + 8 * i + 8].copy_from_slice(&v.to_le_bytes());
    }
    sorted_image[3] |= FLAG_LEVEL_ZERO_SORTED;
    let t = KllSketch::<f64>::deserialize(&sorted_image).unwrap();
    assert_eq!(t.serialize(), sorted_image);
    check_answers(&t, &EXACT_ANSWERS);
}

#[test]
fn round_trips_of_our_own_images() {
    let mut rng = TestRng(9);
    for k in [8u16, 64, 200] {
        for n in [0usize, 1, 2, 7, 8, 9, 200, 201, 5000, 100_000] {
            let data: Vec<f64> = (0..n).map(|_| rng.unit() - 0.5).collect();
            let mut s = KllSketch::<f64>::with_seed(k, 3).unwrap();
            s.update_slice(&data);
            let bytes = s.serialize();
            let back = KllSketch::<f64>::deserialize(&bytes).unwrap();
            assert_eq!(back, s, "k {k} n {n}");
            assert_eq!(back.serialize(), bytes);
            // the image does not record the item type, but its length
            // gives a wrong one away unless the sketch is empty
            assert!(n == 0 || KllSketch::<f32>::deserialize(&bytes).is_err());
            if n > 0 {
                assert_eq!(back.quantile(0.5, true), s.quantile(0.5, true));
            }
        }
    }
}

// ---------------------------------------------------------------------
// Robustness

#[test]
fn rejects_malformed_images_with_a_reason() {
    let mut s = KllSketch::<f64>::with_seed(64, 1).unwrap();
    s.update_slice(&(0..2000).map(f64::from).collect::<Vec<_>>());
    let good = s.serialize();
    let corrupt_msg = |b: &[u8]| match KllSketch::<f64>::deserialize(b) {
        Err(Error::CorruptData(m)) => m,
        other => panic!("expected CorruptData, got {other:?}"),
    };
    assert!(corrupt_msg(&good[..5]).contains("shorter"));
    assert!(corrupt_msg(&good[..good.len() - 1]).contains("header implies"));
    let with = |at: usize, v: u8| {
        let mut b = good.clone();
        b[at] = v;
        b
    };
    assert!(corrupt_msg(&with(2, 3)).contains("family"));
    assert!(corrupt_msg(&with(1, 9)).contains("serial version"));
    assert!(corrupt_msg(&with(6, 9)).contains("m is"));
    assert!(corrupt_msg(&with(0, 2)).contains("preamble"));
    assert!(corrupt_msg(&with(18, 0)).contains("levels"));
    assert!(corrupt_msg(&with(18, 200)).contains("levels"));
    assert!(corrupt_msg(&with(8, 1)).contains("weight"));
    let mut b = good.clone();
    b[4..6].copy_from_slice(&4u16.to_le_bytes());
    assert!(corrupt_msg(&b).contains("minimum"));
    let mut b = good.clone();
    b[16..18].copy_from_slice(&100u16.to_le_bytes());
    assert!(corrupt_msg(&b).contains("min_k"));
    let mut b = good.clone();
    b[20..24].copy_from_slice(&u32::MAX.to_le_bytes());
    assert!(corrupt_msg(&b).contains("offsets"));
    let mut b = good.clone();
    let last = b.len() - 8;
    b[last..].copy_from_slice(&f64::NAN.to_le_bytes());
    assert!(corrupt_msg(&b).contains("NaN"));
    let mut b = good.clone();
    b[last..].copy_from_slice(&1e300f64.to_le_bytes());
    assert!(corrupt_msg(&b).contains("outside [min, max]"));
    let mut single = unhex(SINGLE_K200);
    single.push(0);
    assert!(corrupt_msg(&single).contains("single-item"));
    // DataSketches ignores what follows an empty preamble; so do we
    let mut empty = unhex(EMPTY_K200);
    empty.extend_from_slice(&[1, 2, 3]);
    assert!(KllSketch::<f64>::deserialize(&empty).unwrap().is_empty());
}

fn fuzz_images() -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
    let mut doubles = Vec::new();
    let mut floats = Vec::new();
    let mut rng = TestRng(21);
    for (k, n) in [
        (200u16, 0usize),
        (200, 1),
        (200, 50),
        (64, 5000),
        (8, 3000),
        (300, 20_000),
    ] {
        let data: Vec<f64> = (0..n).map(|_| rng.unit() * 10.0).collect();
        let mut d = KllSketch::<f64>::with_seed(k, n as u64).unwrap();
        d.update_slice(&data);
        doubles.push(d.serialize());
        let mut f = KllSketch::<f32>::with_seed(k, n as u64).unwrap();
        f.update_slice(&data.iter().map(|&v| v as f32).collect::<Vec<_>>());
        floats.push(f.serialize());
    }
    (doubles, floats)
}

fn mutate(rng: &mut TestRng, base: &[u8]) -> Vec<u8> {
    let mut b = base.to_vec();
    let rounds = 1 + rng.below(3);
    for _ in 0..rounds {
        match rng.below(8) {
            0 | 1 => {
                // flip bits
                if !b.is_empty() {
                    let at = rng.below(b.len() as u64) as usize;
                    b[at] ^= 1 << rng.below(8);
                }
            }
            2 => {
                // random byte, biased to the header
                let span = b.len().min(if rng.below(2) == 0 { 24 } else { usize::MAX });
                if span > 0 {
                    let at = rng.below(span as u64) as usize;
                    b[at] = rng.next_u64() as u8;
                }
            }
            3 => {
                let len = rng.below(b.len() as u64 + 1) as usize;
                b.truncate(len);
            }
            4 => {
                for _ in 0..1 + rng.below(16) {
                    b.push(rng.next_u64() as u8);
                }
            }
            5 => {
                // a level offset or count field set to an edge value
                if b.len() >= 24 {
                    let at = 8 + 4 * rng.below(((b.len() - 12) / 4) as u64) as usize;
                    let v = [0u32, 1, 7, 8, 199, 200, u32::MAX, rng.next_u64() as u32]
                        [rng.below(8) as usize];
                    b[at..at + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
            6 => {
                // header fields that steer the parse
                if b.len() >= 20 {
                    let at = [0usize, 1, 3, 4, 5, 16, 17, 18][rng.below(8) as usize];
                    b[at] = [0u8, 1, 2, 4, 5, 8, 61, 62, 255][rng.below(9) as usize];
                }
            }
            _ => {
                // swap two items / bytes in the payload
                if b.len() > 2 {
                    let i = rng.below(b.len() as u64) as usize;
                    let j = rng.below(b.len() as u64) as usize;
                    b.swap(i, j);
                }
            }
        }
    }
    b
}

fn exercise<T: KllItem>(bytes: &[u8], probe: T, rng: &mut TestRng) -> bool {
    let Ok(mut s) = KllSketch::<T>::deserialize(bytes) else {
        return false;
    };
    assert_eq!(s.total_weight(), u128::from(s.n()));
    if !s.is_empty() {
        s.quantile(0.5, true).unwrap();
        s.quantiles(&[0.0, 0.3, 1.0], false).unwrap();
        s.rank(probe, true).unwrap();
        s.pmf(&[probe], false).unwrap();
    }
    let _ = s.to_json();
    let re = s.serialize();
    let again = KllSketch::<T>::deserialize(&re).expect("our own image must read back");
    assert_eq!(again, s);
    // the decoded sketch must stay usable: merge both ways, keep updating
    let mut other = KllSketch::<T>::with_seed(8 + rng.below(300) as u16, rng.next_u64()).unwrap();
    for _ in 0..rng.below(3000) {
        other.update(probe);
    }
    let _ = other.merge(&s);
    let _ = s.merge(&other);
    for _ in 0..rng.below(500) {
        s.update(probe);
    }
    assert_eq!(s.total_weight(), u128::from(s.n()));
    assert!(s.num_retained() <= total_capacity(s.k(), s.num_levels()));
    KllSketch::<T>::deserialize(&s.serialize()).expect("after updates");
    true
}

#[test]
fn deserialize_survives_10000_mutated_images() {
    let (doubles, floats) = fuzz_images();
    let mut rng = TestRng(0x5EED);
    let mut accepted = 0;
    for i in 0..10_000 {
        if i % 2 == 0 {
            let base = &doubles[rng.below(doubles.len() as u64) as usize];
            let b = mutate(&mut rng, base);
            accepted += usize::from(exercise::<f64>(&b, 3.5, &mut rng));
        } else {
            let base = &floats[rng.below(floats.len() as u64) as usize];
            let b = mutate(&mut rng, base);
            accepted += usize::from(exercise::<f32>(&b, 3.5, &mut rng));
        }
    }
    // some mutations (payload bit flips that keep the order) must pass,
    // and most must not
    assert!(accepted > 100 && accepted < 9_000, "accepted {accepted}");
}
