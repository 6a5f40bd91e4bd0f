//! Spark's top-k state: the `sketch` field of the struct that Spark SQL's
//! `approx_top_k_accumulate` and `approx_top_k_combine` return (Spark 4.x,
//! `ApproxTopKAggregateBuffer`): the DataSketches frequent-items image of the column's
//! items, then the number of nulls the aggregate saw, as 8 bytes big-endian (Java's
//! `ByteBuffer.putLong`). `approx_top_k_estimate` lists the nulls as one more item (a
//! null) with that count.

use super::{FrequentItem, FrequentItems};
use crate::error::corrupt;
use crate::Result;

/// Bytes of the null count after the image.
const NULL_COUNT_BYTES: usize = 8;

impl<T: FrequentItem> FrequentItems<T> {
    /// Reads Spark's `sketch` field: the sketch (checked as [`Self::deserialize`]
    /// checks an image) and the null count.
    pub fn deserialize_spark_top_k(bytes: &[u8]) -> Result<(Self, u64)> {
        let Some(split) = bytes.len().checked_sub(NULL_COUNT_BYTES) else {
            return corrupt(format!(
                "Spark's top-k sketch field is an image and an 8-byte null count, got {} bytes",
                bytes.len()
            ));
        };
        let (image, count) = bytes.split_at(split);
        let nulls = u64::from_be_bytes(count.try_into().expect("8 bytes"));
        if nulls > i64::MAX as u64 {
            return corrupt(format!("null count {nulls} exceeds Java's Long range"));
        }
        Ok((Self::deserialize(image)?, nulls))
    }

    /// Spark's `sketch` field for this sketch and `nulls` null items.
    pub fn serialize_spark_top_k(&self, nulls: u64) -> Vec<u8> {
        let mut out = self.serialize();
        out.extend_from_slice(&nulls.to_be_bytes());
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frequent::{ErrorType, JavaLong};
    use crate::test_fixtures::fixtures_dir;
    use crate::Error;

    /// The stream of `tests/fixtures/spark_top_k` (see its `make_fixtures.py`).
    fn fixture_stream() -> impl Iterator<Item = i64> {
        (0..20_000i64).map(|i| {
            let base = if i % 3 == 0 {
                i % 10
            } else {
                (i * 2_654_435_761) % 100_003
            };
            base * 4_294_967_311 - 7
        })
    }

    /// Spark's `approx_top_k_estimate(state, 20)` without nulls: the
    /// no-false-positives rows by estimate, ties in the map's order.
    fn top_20<T: FrequentItem>(s: &FrequentItems<T>, item: impl Fn(&T) -> i64) -> Vec<(i64, u64)> {
        let rows = s.top(ErrorType::NoFalsePositives, None);
        rows.iter()
            .take(20)
            .map(|r| (item(&r.item), r.estimate))
            .collect()
    }

    #[test]
    fn spark_bigint_states_are_java_long_sketches() {
        let dir = fixtures_dir().join("../spark_top_k");
        let answers: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("answers.json")).unwrap()).unwrap();
        for name in ["bigint_m100.bin", "bigint_m2000.bin"] {
            let field = std::fs::read(dir.join(name)).unwrap();
            let spark: Vec<(i64, u64)> = answers[name]
                .as_array()
                .unwrap()
                .iter()
                .map(|p| (p[0].as_i64().unwrap(), p[1].as_u64().unwrap()))
                .collect();
            let (read, nulls) = FrequentItems::<JavaLong>::deserialize_spark_top_k(&field).unwrap();
            assert_eq!(nulls, 0);
            // Read in Spark's order, the state answers as Spark does, ties included.
            assert_eq!(top_20(&read, |v| v.0), spark, "{name}");
            // Fed the stream Spark was fed, a Java-long sketch is Spark's, byte for byte.
            let mut fed = FrequentItems::<JavaLong>::new(read.lg_max_map_size()).unwrap();
            for v in fixture_stream() {
                fed.update(v, 1).unwrap();
            }
            assert_eq!(fed.serialize_spark_top_k(0), field, "{name}");
            // The longs sketch's order lists other items of the tied count 667 first.
            let (longs, _) = FrequentItems::<i64>::deserialize_spark_top_k(&field).unwrap();
            let longs_top = top_20(&longs, |v| *v);
            assert_ne!(longs_top, spark, "{name}");
            assert_eq!(
                longs_top.iter().map(|r| r.1).collect::<Vec<_>>(),
                spark.iter().map(|r| r.1).collect::<Vec<_>>()
            );
            // Either order merges the other: the same items and counts.
            let mut both = FrequentItems::<i64>::new(read.lg_max_map_size()).unwrap();
            both.merge_java_longs(&read).unwrap();
            let mut back = FrequentItems::<JavaLong>::new(read.lg_max_map_size()).unwrap();
            back.merge_longs(&both).unwrap();
            assert_eq!(back.total_weight(), 20_000);
            for (v, _) in &spark {
                assert_eq!(back.estimate(*v), read.estimate(*v));
            }
        }
    }

    #[test]
    fn spark_field_is_image_then_big_endian_null_count() {
        // Spark 4.3: approx_top_k_accumulate over (1, 1, null, null, null, 2) as bigint.
        let spark = "04010a040300000002000000000000000300000000000000000000000000000002000000\
                     000000000100000000000000010000000000000002000000000000000000000000000003";
        let bytes: Vec<u8> = (0..spark.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&spark[i..i + 2], 16).unwrap())
            .collect();
        let (s, nulls) = FrequentItems::<i64>::deserialize_spark_top_k(&bytes).unwrap();
        assert_eq!(nulls, 3);
        assert_eq!((s.estimate(1), s.estimate(2), s.total_weight()), (2, 1, 3));
        assert_eq!(s.serialize_spark_top_k(3), bytes);
        // Only nulls: an empty image and the count.
        let empty = FrequentItems::<i64>::new(4).unwrap();
        let field = empty.serialize_spark_top_k(1);
        assert_eq!(field, [1, 1, 10, 4, 3, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        let (back, nulls) = FrequentItems::<i64>::deserialize_spark_top_k(&field).unwrap();
        assert!(back.is_empty() && nulls == 1);
    }

    #[test]
    fn bad_spark_fields_are_named() {
        let msg = |b: &[u8]| match FrequentItems::<String>::deserialize_spark_top_k(b) {
            Err(Error::CorruptData(m)) => m,
            other => panic!("{other:?}"),
        };
        assert!(msg(&[1, 2, 3]).contains("8-byte null count"));
        let plain = FrequentItems::<String>::new(4).unwrap().serialize();
        assert!(msg(&plain).contains("at least 8 bytes"));
        let mut huge = plain.clone();
        huge.extend_from_slice(&u64::MAX.to_be_bytes());
        assert!(msg(&huge).contains("Long range"));
    }
}
