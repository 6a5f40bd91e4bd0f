//! Spark SQL 4.3 (DataSketches Java 6.2.0) as the oracle: the images of
//! `tests/fixtures/tuple/` (written by its `make_images.py`) read back with Spark's own
//! answers, write back byte for byte, and are rebuilt byte for byte from their streams.

use std::path::PathBuf;

use serde_json::Value;

use super::*;
use crate::hash::DEFAULT_SEED;
use crate::theta::CompactTheta;

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/tuple")
}

fn read(name: &str) -> Vec<u8> {
    let path = fixture_dir().join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()))
}

fn answers() -> Vec<Value> {
    let text = String::from_utf8(read("answers.json")).unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["spark"], "4.3.0");
    v["images"].as_array().unwrap().clone()
}

/// Spark's double answer `name`, from its IEEE-754 bits (`<name>_bits`).
fn spark_f64(answer: &Value, name: &str) -> f64 {
    let bits = answer[format!("{name}_bits")].as_str().unwrap();
    f64::from_bits(u64::from_str_radix(bits, 16).unwrap())
}

fn close(actual: f64, expected: f64, what: &str) {
    let tolerance = 1e-12 * expected.abs();
    assert!(
        (actual - expected).abs() <= tolerance,
        "{what}: {actual} against Spark's {expected}"
    );
}

/// Spark's answer to `tuple_sketch_summary_*(sketch, mode)`.
trait SparkAnswer: Summary {
    fn matches(a: Self::Aggregate, answer: &Value, mode: SummaryMode) -> bool;
}

impl SparkAnswer for DoubleSummary {
    fn matches(a: f64, answer: &Value, mode: SummaryMode) -> bool {
        // Exact: the same additions in the same order.
        a.to_bits() == spark_f64(answer, &format!("summary_{}", mode.name())).to_bits()
    }
}

impl SparkAnswer for IntegerSummary {
    fn matches(a: i64, answer: &Value, mode: SummaryMode) -> bool {
        answer[format!("summary_{}", mode.name())].as_i64() == Some(a)
    }
}

fn check_answers<S: SparkAnswer>(answer: &Value) -> CompactTuple<S> {
    let file = answer["file"].as_str().unwrap();
    let bytes = read(file);
    let sketch = CompactTuple::<S>::deserialize(&bytes, DEFAULT_SEED)
        .unwrap_or_else(|e| panic!("{file}: {e}"));
    close(
        sketch.estimate(),
        spark_f64(answer, "estimate"),
        &format!("{file} estimate"),
    );
    close(
        sketch.theta(),
        spark_f64(answer, "theta"),
        &format!("{file} theta"),
    );
    for mode in SummaryMode::ALL {
        let got = sketch.summary(mode);
        assert!(
            S::matches(got, answer, mode),
            "{file} summary {mode}: {got:?} against Spark's {}",
            answer[format!("summary_{}", mode.name())]
        );
    }
    assert_eq!(sketch.serialize(), bytes, "{file}: written back");
    // Bounds bracket the estimate and are Theta's for the same count and theta.
    for sd in 1..=3 {
        let (lo, hi) = (
            sketch.lower_bound(sd).unwrap(),
            sketch.upper_bound(sd).unwrap(),
        );
        assert!(lo <= sketch.estimate() && sketch.estimate() <= hi, "{file}");
    }
    sketch
}

#[test]
fn every_spark_image_reads_with_sparks_answers_and_writes_back() {
    let answers = answers();
    assert!(answers.len() >= 60);
    for answer in &answers {
        match answer["summary"].as_str().unwrap() {
            "double" => {
                check_answers::<DoubleSummary>(answer);
            }
            "integer" => {
                check_answers::<IntegerSummary>(answer);
            }
            other => panic!("summary {other}"),
        }
    }
}

/// A key as Spark hands it to the sketch.
enum Key {
    Long(i64),
    Double(f64),
    Bytes(Vec<u8>),
}

fn update<S: Summary>(sketch: &mut UpdateTuple<S>, key: &Key, value: S::Value) {
    match key {
        Key::Long(k) => sketch.update_i64(*k, value),
        Key::Double(k) => sketch.update_f64(*k, value),
        Key::Bytes(k) => sketch.update_bytes(k, value),
    }
}

/// The streams of `make_images.py`: (rows, partitions, key of id, double value of id,
/// integer value of id).
type Stream = (i64, i64, fn(i64) -> Key, fn(i64) -> f64, fn(i64) -> i32);

fn stream(view: &str) -> Stream {
    fn scrambled(id: i64) -> i64 {
        (id * 7919) % 1000
    }
    match view {
        "r0" => (0, 1, Key::Long, |id| id as f64, |id| id as i32),
        "r1" => (1, 1, Key::Long, |id| id as f64 + 2.5, |id| id as i32 + 2),
        "r10" => (
            10,
            1,
            Key::Long,
            |id| id as f64 * 0.5 - 1.0,
            |id| id as i32 * 3 - 7,
        ),
        "r1000" => (
            1000,
            1,
            |id| Key::Long(id % 300),
            |id| scrambled(id) as f64 / 8.0 - 50.0,
            |id| scrambled(id) as i32 - 500,
        ),
        "r1000f" => (
            1000,
            1,
            |id| Key::Long(id % 300),
            |id| id as f64 * 0.1,
            |id| id as i32,
        ),
        "r20000" => (
            20000,
            1,
            |id| Key::Long(id % 9000),
            |id| scrambled(id) as f64 / 8.0 - 50.0,
            |id| scrambled(id) as i32 - 500,
        ),
        "p4_20000" => (
            20000,
            4,
            |id| Key::Long(id % 15000),
            |id| ((id * 31) % 97) as f64 / 4.0,
            |id| ((id * 31) % 97) as i32,
        ),
        "d1000" => (
            1000,
            1,
            |id| Key::Double(id as f64 * 0.5),
            |id| (id % 10) as f64,
            |id| (id % 10) as i32,
        ),
        "s1000" | "b1000" => (
            1000,
            1,
            |id| Key::Bytes(id.to_string().into_bytes()),
            |id| (id % 10) as f64,
            |id| (id % 10) as i32,
        ),
        other => panic!("stream {other}"),
    }
}

/// What Spark's `tuple_sketch_agg_*` gives for rows `ids` in `partitions` equal ranges:
/// the compact sketch of the one partition, or the union of the partitions' sketches.
fn spark_agg<S: Summary>(
    lg_k: u8,
    mode: SummaryMode,
    ids: std::ops::Range<i64>,
    partitions: i64,
    key: fn(i64) -> Key,
    value: impl Fn(i64) -> S::Value,
) -> CompactTuple<S> {
    let n = ids.end - ids.start;
    let sketches: Vec<CompactTuple<S>> = (0..partitions)
        .map(|p| {
            let mut s = UpdateTuple::<S>::new(lg_k, 1.0, mode, DEFAULT_SEED).unwrap();
            for id in ids.start + p * n / partitions..ids.start + (p + 1) * n / partitions {
                update(&mut s, &key(id), value(id));
            }
            s.compact()
        })
        .collect();
    if partitions == 1 {
        return sketches.into_iter().next().unwrap();
    }
    let mut union = TupleUnion::new(lg_k, mode, DEFAULT_SEED).unwrap();
    for s in &sketches {
        union.update(s).unwrap();
    }
    union.result()
}

fn rebuild_aggregates<S: Summary>(summary: &str, value: impl Fn(&Stream, i64) -> S::Value) {
    let mut checked = 0;
    for answer in answers() {
        let file = answer["file"].as_str().unwrap();
        let sql = answer["sql"].as_str().unwrap();
        if answer["summary"] != summary || !sql.starts_with("SELECT tuple_sketch_agg") {
            continue;
        }
        // <summary>_<mode>_lg<k>_<view>.bin
        let rest = file.strip_prefix(&format!("{summary}_")).unwrap();
        let (mode, rest) = rest.split_once("_lg").unwrap();
        let (lg_k, view) = rest.trim_end_matches(".bin").split_once('_').unwrap();
        let s = stream(view);
        let built = spark_agg::<S>(
            lg_k.parse().unwrap(),
            SummaryMode::parse(mode).unwrap(),
            0..s.0,
            s.1,
            s.2,
            |id| value(&s, id),
        );
        assert_eq!(built.serialize(), read(file), "{file} rebuilt");
        checked += 1;
    }
    assert!(checked >= 13, "{checked} aggregate images of {summary}");
}

#[test]
fn sketchbox_builds_sparks_aggregate_images_byte_for_byte() {
    rebuild_aggregates::<DoubleSummary>("double", |s, id| (s.3)(id));
    rebuild_aggregates::<IntegerSummary>("integer", |s, id| (s.4)(id));
}

fn rebuild_set_operations<S: Summary>(summary: &str, value: fn(i64) -> S::Value) {
    let sum = SummaryMode::Sum;
    for (size, a_ids, b_ids) in [("est", 0..8000, 5000..15000), ("exact", 0..100, 50..200)] {
        let a = spark_agg::<S>(12, sum, a_ids, 1, Key::Long, value);
        let b = spark_agg::<S>(12, sum, b_ids, 1, Key::Long, value);
        let theta_b =
            CompactTheta::deserialize(&read(&format!("theta_{size}.bin")), DEFAULT_SEED).unwrap();
        let union = |lg_k: u8, mode: SummaryMode| {
            let mut u = TupleUnion::new(lg_k, mode, DEFAULT_SEED).unwrap();
            u.update(&a).unwrap();
            u.update(&b).unwrap();
            u.result()
        };
        let intersection = |mode: SummaryMode| {
            let mut i = TupleIntersection::new(mode, DEFAULT_SEED);
            i.update(&a).unwrap();
            i.update(&b).unwrap();
            i.result().unwrap()
        };
        let union_theta = {
            let mut u = TupleUnion::new(12, sum, DEFAULT_SEED).unwrap();
            u.update(&a).unwrap();
            u.update_theta(&theta_b, S::new(sum)).unwrap();
            u.result()
        };
        let intersection_theta = {
            let mut i = TupleIntersection::new(SummaryMode::Max, DEFAULT_SEED);
            i.update(&a).unwrap();
            i.update_theta(&theta_b, S::new(SummaryMode::Max)).unwrap();
            i.result().unwrap()
        };
        let cases = [
            ("union_sum_lg12", union(12, sum)),
            ("union_max_lg11", union(11, SummaryMode::Max)),
            ("intersection_sum", intersection(sum)),
            ("intersection_min", intersection(SummaryMode::Min)),
            ("difference", a_not_b(&a, &b, DEFAULT_SEED).unwrap()),
            ("union_theta_sum_lg12", union_theta),
            ("intersection_theta_max", intersection_theta),
            (
                "difference_theta",
                a_not_theta(&a, &theta_b, DEFAULT_SEED).unwrap(),
            ),
        ];
        for (op, result) in cases {
            let file = format!("{summary}_{op}_{size}.bin");
            assert_eq!(result.serialize(), read(&file), "{file} rebuilt");
        }
    }
}

#[test]
fn sketchbox_set_operations_give_sparks_images_byte_for_byte() {
    rebuild_set_operations::<DoubleSummary>("double", |id| id as f64 / 4.0);
    rebuild_set_operations::<IntegerSummary>("integer", |id| id as i32);
}
