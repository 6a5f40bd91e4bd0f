//! Queries: the sorted view of the retained items with cumulative weights, and the
//! rank, quantile, CDF and PMF answers searched in it.

use super::*;

impl<T: KllItem> KllSketch<T> {
    /// Checked before the arguments, as DataSketches does.
    fn ensure_non_empty(&self) -> Result<()> {
        if self.is_empty() {
            Err(Error::Empty(
                "quantiles, ranks, CDF and PMF are undefined for an empty KLL sketch".into(),
            ))
        } else {
            Ok(())
        }
    }

    /// The sorted view of the retained items, built once per state of the
    /// sketch (DataSketches caches it the same way).
    fn sorted_view(&self) -> Result<&SortedView<T>> {
        self.ensure_non_empty()?;
        Ok(self.view.get_or_init(|| SortedView::new(self)))
    }

    fn check_rank(rank: f64) -> Result<()> {
        if (0.0..=1.0).contains(&rank) {
            Ok(())
        } else {
            Err(Error::InvalidArgument(format!(
                "rank must be in [0, 1], got {rank}"
            )))
        }
    }

    /// The approximate quantile at normalized `rank`. Inclusive: the smallest
    /// item of the sorted view whose inclusive rank (weight of items `<=` it) is
    /// at least `rank`. Exclusive: the smallest whose inclusive rank exceeds
    /// `rank`. Ranks 0 and 1 give the exact min and max, as in Java DataSketches
    /// (see the module docs for the two ways this differs from C++/Python).
    pub fn quantile(&self, rank: f64, inclusive: bool) -> Result<T> {
        self.ensure_non_empty()?;
        Self::check_rank(rank)?;
        Ok(self.sorted_view()?.quantile(rank, inclusive))
    }

    /// [`quantile`](Self::quantile) for many ranks, over one sorted view.
    pub fn quantiles(&self, ranks: &[f64], inclusive: bool) -> Result<Vec<T>> {
        self.ensure_non_empty()?;
        for &r in ranks {
            Self::check_rank(r)?;
        }
        Ok(self.sorted_view()?.quantiles(ranks, inclusive))
    }

    /// The approximate normalized rank of `item`: the fraction of the stream
    /// `<= item` if `inclusive`, `< item` otherwise.
    pub fn rank(&self, item: T, inclusive: bool) -> Result<f64> {
        self.ensure_non_empty()?;
        Self::check_item(item)?;
        Ok(self.sorted_view()?.rank(item, inclusive))
    }

    /// [`rank`](Self::rank) for many items, over one sorted view.
    pub fn ranks(&self, items: &[T], inclusive: bool) -> Result<Vec<f64>> {
        self.ensure_non_empty()?;
        for &x in items {
            Self::check_item(x)?;
        }
        Ok(self.sorted_view()?.ranks(items, inclusive))
    }

    fn check_item(item: T) -> Result<()> {
        if item.is_nan() {
            Err(Error::InvalidArgument("NaN has no rank".into()))
        } else {
            Ok(())
        }
    }

    fn check_split_points(split_points: &[T]) -> Result<()> {
        for (i, &x) in split_points.iter().enumerate() {
            if x.is_nan() {
                return Err(Error::InvalidArgument(format!("split point {i} is NaN")));
            }
            if let Some(&next) = split_points.get(i + 1) {
                if x.partial_cmp(&next) != Some(Ordering::Less) {
                    return Err(Error::InvalidArgument(format!(
                        "split points must be unique and increasing: {x:?} at {i} is not below {next:?}"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Cumulative distribution at the split points: `len + 1` values, the
    /// ranks of each split point (inclusive or exclusive) followed by 1.
    pub fn cdf(&self, split_points: &[T], inclusive: bool) -> Result<Vec<f64>> {
        let view = self.sorted_view()?;
        Self::check_split_points(split_points)?;
        let mut out = view.ranks(split_points, inclusive);
        out.push(1.0);
        Ok(out)
    }

    /// Probability mass of the `len + 1` intervals the split points delimit
    /// (`(-inf, s0], (s0, s1], ...` if inclusive, `[s_i, s_i+1)` otherwise).
    pub fn pmf(&self, split_points: &[T], inclusive: bool) -> Result<Vec<f64>> {
        let mut out = self.cdf(split_points, inclusive)?;
        for i in (1..out.len()).rev() {
            out[i] -= out[i - 1];
        }
        Ok(out)
    }

    /// Normalized rank error at 99% confidence for this sketch's `min_k`.
    pub fn normalized_rank_error(&self, pmf: bool) -> f64 {
        normalized_rank_error(self.min_k, pmf)
    }
}

/// Up to this `n`, Java rounds `rank * n` to 7 decimals before taking its ceiling
/// or floor, so that a product a rounding error away from an integer counts as that
/// integer (0.14 * 200 = 28.000000000000004 searches weight 28, not 29).
const TAIL_ROUNDING_MAX_N: u64 = 10_000_000;

/// `round(x * 1e7) / 1e7` for `0 <= x <= 1e7`, ties up, as Java's
/// `Math.round(x * 1e7) / 1e7`. `x * 1e7 < 2^53`, so the fraction `t - trunc(t)`
/// is exact and no libm call is needed.
#[inline]
fn round_to_7_decimals(x: f64) -> f64 {
    let t = x * 1e7;
    let whole = t as i64;
    let rounded = whole + i64::from(t - whole as f64 >= 0.5);
    rounded as f64 / 1e7
}

/// The retained items sorted, with cumulative weights, and the exact min and max
/// where the compactions dropped them: what every query searches (Java
/// DataSketches' `DoublesSketchSortedView` and its siblings).
pub(super) struct SortedView<T> {
    pub(super) items: Vec<T>,
    pub(super) cum: Vec<u64>,
    pub(super) total: u64,
    pub(super) total_f64: f64,
}

impl<T: KllItem> SortedView<T> {
    pub(super) fn new(s: &KllSketch<T>) -> Self {
        let mut entries: Vec<(T, u64)> = Vec::with_capacity(s.num_retained() as usize);
        let mut level0: Vec<T> = s.level(0).to_vec();
        sort_items(&mut level0);
        entries.extend(level0.into_iter().map(|x| (x, 1)));
        for h in 1..s.num_levels() {
            let w = 1u64 << h;
            entries.extend(s.level(h).iter().map(|&x| (x, w)));
        }
        // A stable sort of the concatenated sorted runs equals DataSketches'
        // successive stable merges (ties keep the lower level first), and
        // the run detection makes it a merge of runs in practice.
        entries.sort_by(|a, b| a.0.partial_cmp(&b.0).unwrap_or(Ordering::Equal));
        let mut total = 0u64;
        let mut items = Vec::with_capacity(entries.len() + 2);
        let mut cum = Vec::with_capacity(entries.len() + 2);
        for (x, w) in entries {
            total += w;
            items.push(x);
            cum.push(total);
        }
        // Java's sorted view (IncludeMinMax): an exact min or max the compactions
        // dropped takes weight 1 from its neighbour, so ranks 0 and 1 answer the true
        // extremes. The min then has cumulative weight 1, the largest retained item
        // total - 1.
        if let (Some(&lo), Some(&hi)) = (items.first(), items.last()) {
            if hi != s.max_item {
                let last = cum.len() - 1;
                cum[last] = total - 1;
                items.push(s.max_item);
                cum.push(total);
            }
            if lo != s.min_item {
                items.insert(0, s.min_item);
                cum.insert(0, 1);
            }
        }
        SortedView {
            items,
            cum,
            total,
            total_f64: total as f64,
        }
    }

    pub(super) fn rank(&self, item: T, inclusive: bool) -> f64 {
        let idx = if inclusive {
            self.items.partition_point(|x| *x <= item)
        } else {
            self.items.partition_point(|x| *x < item)
        };
        match idx.checked_sub(1) {
            None => 0.0,
            Some(i) => self.cum[i] as f64 / self.total as f64,
        }
    }

    /// The cumulative weight a quantile query at `rank` searches for: `rank * n`
    /// rounded up (inclusive) or down (exclusive), after Java's tail rounding.
    #[inline]
    pub(super) fn weight(&self, rank: f64, inclusive: bool) -> u64 {
        const TWO_63: f64 = 9_223_372_036_854_775_808.0;
        let mut scaled = rank * self.total_f64;
        if self.total <= TAIL_ROUNDING_MAX_N {
            scaled = round_to_7_decimals(scaled);
        }
        // floor and ceil of a non-negative value without f64::ceil (a libm
        // call on baseline x86-64) and, below 2^63, with the one-instruction
        // signed conversions rather than the unsigned ones
        if scaled < TWO_63 {
            let floor = scaled as i64;
            (floor + i64::from(inclusive && (floor as f64) < scaled)) as u64
        } else if inclusive {
            scaled.ceil() as u64
        } else {
            scaled as u64
        }
    }

    pub(super) fn quantile(&self, rank: f64, inclusive: bool) -> T {
        let weight = self.weight(rank, inclusive);
        let idx = if inclusive {
            self.cum.partition_point(|&c| c < weight)
        } else {
            self.cum.partition_point(|&c| c <= weight)
        };
        let last = self.items.len() - 1;
        self.items[idx.min(last)]
    }

    /// [`quantile`](Self::quantile) of each rank. Ascending ranks (the usual
    /// grid) are answered in one galloping pass over the view, each search
    /// starting where the previous one ended; others one binary search each.
    pub(super) fn quantiles(&self, ranks: &[f64], inclusive: bool) -> Vec<T> {
        if !ranks.windows(2).all(|w| w[0] <= w[1]) {
            return ranks.iter().map(|&r| self.quantile(r, inclusive)).collect();
        }
        let last = self.items.len() - 1;
        let mut at = 0;
        ranks
            .iter()
            .map(|&r| {
                let w = self.weight(r, inclusive);
                at = if inclusive {
                    gallop(&self.cum, at, |&c| c < w)
                } else {
                    gallop(&self.cum, at, |&c| c <= w)
                };
                self.items[at.min(last)]
            })
            .collect()
    }

    /// [`rank`](Self::rank) of each item, galloping over ascending items as
    /// [`quantiles`](Self::quantiles) does over ascending ranks.
    pub(super) fn ranks(&self, items: &[T], inclusive: bool) -> Vec<f64> {
        if !items.windows(2).all(|w| w[0] <= w[1]) {
            return items.iter().map(|&x| self.rank(x, inclusive)).collect();
        }
        let total = self.total as f64;
        let mut at = 0;
        items
            .iter()
            .map(|&item| {
                at = if inclusive {
                    gallop(&self.items, at, |x| *x <= item)
                } else {
                    gallop(&self.items, at, |x| *x < item)
                };
                match at.checked_sub(1) {
                    None => 0.0,
                    Some(i) => self.cum[i] as f64 / total,
                }
            })
            .collect()
    }
}

/// `from + s[from..].partition_point(pred)` for a `pred` that holds on a
/// prefix of `s`, found by doubling steps from `from` and then a binary
/// search: O(log d) for an answer `d` places on.
#[inline]
pub(super) fn gallop<X>(s: &[X], from: usize, pred: impl Fn(&X) -> bool) -> usize {
    let mut lo = from; // pred holds below lo
    let mut hi = from;
    let mut step = 1;
    while hi < s.len() && pred(&s[hi]) {
        lo = hi + 1;
        hi = from + step;
        step *= 2;
    }
    let hi = hi.min(s.len());
    lo + s[lo..hi].partition_point(pred)
}
