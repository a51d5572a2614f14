//! Memory snapshot → active data segments, laid out for Wasmtime's copy-on-write memory image;
//! and table slots → runs, one element segment each.
//!
//! Wasmtime builds a memory image when every active segment has a constant offset inside the
//! memory minimum, which is all this layout emits. Within that, the choice is how many zero
//! bytes to keep inside a segment instead of starting a new one. A new segment costs its
//! header (flags and memory, the offset's `i32.const`/`i64.const` and `end`, the length: 5
//! to 13 bytes), so by default a gap splits exactly when it is longer than the header of the
//! segment that would start after it. That is the smallest encoding a split-or-merge choice
//! per gap gives; the `layout_gap_threshold` test measures it against every fixed threshold,
//! and the benchmark against wasmtime-wizer (which merges gaps of up to 4 bytes) on the real
//! pipelines. The segment count is capped, merging where it costs fewest bytes, so that a
//! pathological heap cannot produce a module that is slow to validate and compile.

use crate::encode::module::{header_len, DataSegment};
use std::borrow::Cow;

/// Upper bound for the active segments of one module (split evenly between its memories):
/// half of the 100 000 a module may have (wasmparser's limit), so that kept passive segments
/// fit too. Measured on the real pipelines, compsnap's output shrinks by 0.5% (ComponentizeJS'
/// engine) and 3.7% (componentize-py) from wasmtime-wizer's cap of 10 000 to this one; a
/// segment costs Wasmtime nothing at instantiation (the memory image is built at compile
/// time; componentize-py's output instantiates in the same time with either cap).
pub const MAX_SEGMENTS: usize = 50_000;

/// Segments for `memory` (64-bit when `memory64`) covering every non-zero run; they borrow
/// the runs' bytes. `max_gap` fixes the longest zero gap kept inside a segment; `None`
/// splits wherever a segment header is shorter than the gap. At most `cap` segments.
pub fn layout<'a>(
    memory: u32,
    memory64: bool,
    runs: &'a [(u64, Cow<'_, [u8]>)],
    max_gap: Option<u64>,
    cap: usize,
) -> Vec<DataSegment<'a>> {
    let gap = |i: usize| runs[i].0 - (runs[i - 1].0 + runs[i - 1].1.len() as u64);
    let mut split: Vec<bool> = (0..runs.len())
        .map(|i| {
            i == 0
                || gap(i)
                    > match max_gap {
                        Some(max) => max,
                        None => header_len(memory, memory64, runs[i].0, runs[i].1.len()),
                    }
        })
        .collect();
    let count = split.iter().filter(|s| **s).count();
    if count > cap {
        // Merge where it costs least (the zeros it adds less the header it saves; the
        // earlier gap on a tie) until the cap holds.
        let mut gaps: Vec<(i64, usize)> = (1..runs.len())
            .filter(|&i| split[i])
            .map(|i| {
                let header = header_len(memory, memory64, runs[i].0, runs[i].1.len());
                (gap(i) as i64 - header as i64, i)
            })
            .collect();
        gaps.sort_unstable();
        for &(_, i) in &gaps[..count - cap] {
            split[i] = false;
        }
    }
    let mut out: Vec<DataSegment> = Vec::new();
    for ((offset, bytes), new) in runs.iter().zip(split) {
        match out.last_mut() {
            Some(last) if !new => {
                let at = (offset - last.offset as u64) as u32;
                last.pieces.push((at, bytes));
                last.len = at + bytes.len() as u32;
            }
            _ => out.push(DataSegment {
                memory,
                offset: *offset as u32,
                len: bytes.len() as u32,
                pieces: vec![(0, bytes)],
            }),
        }
    }
    out
}

/// Consecutive slots, split at gaps; `slots` is sorted by slot.
pub(super) fn runs(slots: &[(u32, u32)]) -> Vec<&[(u32, u32)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=slots.len() {
        if i == slots.len() || slots[i].0 != slots[i - 1].0 + 1 {
            out.push(&slots[start..i]);
            start = i;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(spec: &[(u64, usize)]) -> Vec<(u64, Cow<'static, [u8]>)> {
        spec.iter()
            .map(|&(o, n)| (o, vec![7u8; n].into()))
            .collect()
    }

    #[test]
    fn merges_short_gaps_and_keeps_bytes() {
        let r = runs(&[(0, 4), (10, 2), (100, 1)]);
        let segs = layout(0, false, &r, Some(8), MAX_SEGMENTS);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].offset, 0);
        assert_eq!(segs[0].bytes(), [7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 7, 7]);
        assert_eq!((segs[1].offset, segs[1].bytes().len()), (100, 1));
    }

    #[test]
    fn caps_the_segment_count() {
        let many: Vec<(u64, usize)> = (0..60_000u64)
            .map(|i| (i * 100 + (i % 7) * 10, 1))
            .collect();
        let r = runs(&many);
        let segs = layout(0, false, &r, None, MAX_SEGMENTS);
        assert_eq!(
            segs.len(),
            MAX_SEGMENTS,
            "merged down to the cap, no further"
        );
        let total: usize = segs
            .iter()
            .map(|s| s.bytes().iter().filter(|b| **b != 0).count())
            .sum();
        assert_eq!(total, 60_000, "every non-zero byte is still covered");
    }

    #[test]
    fn a_gap_of_exactly_max_gap_merges() {
        // 4 bytes at 0, then 8 zero bytes, then 2 bytes at 12.
        let r = runs(&[(0, 4), (12, 2)]);
        let segs = layout(3, false, &r, Some(8), MAX_SEGMENTS);
        assert_eq!(segs.len(), 1);
        assert_eq!((segs[0].memory, segs[0].offset), (3, 0));
        assert_eq!(segs[0].bytes(), [7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7]);
    }

    #[test]
    fn a_gap_of_max_gap_plus_one_splits() {
        let r = runs(&[(0, 4), (13, 2)]);
        let segs = layout(3, false, &r, Some(8), MAX_SEGMENTS);
        assert_eq!(segs.len(), 2);
        assert_eq!((segs[0].offset, &segs[0].bytes()[..]), (0, &[7u8; 4][..]));
        assert_eq!((segs[1].memory, segs[1].offset), (3, 13));
        assert_eq!(segs[1].bytes(), [7, 7]);
    }

    #[test]
    fn a_zero_max_gap_still_merges_adjacent_runs() {
        let r = runs(&[(0, 2), (2, 2), (5, 1)]);
        let segs = layout(0, false, &r, Some(0), MAX_SEGMENTS);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].bytes(), [7, 7, 7, 7]);
        assert_eq!(segs[1].offset, 5);
    }

    #[test]
    fn no_runs_give_no_segments() {
        assert!(layout(0, false, &[], Some(8), MAX_SEGMENTS).is_empty());
        assert!(layout(0, false, &[], None, MAX_SEGMENTS).is_empty());
    }

    #[test]
    fn slot_runs_split_at_gaps() {
        let slots = [(0, 10), (1, 11), (3, 13), (4, 14), (7, 17)];
        let out = super::runs(&slots);
        assert_eq!(
            out,
            [&slots[0..2], &slots[2..4], &slots[4..5]],
            "runs of consecutive slots"
        );
        assert!(super::runs(&[]).is_empty());
        assert_eq!(super::runs(&[(5, 1)]), [&[(5, 1)][..]]);
        let dense: Vec<(u32, u32)> = (0..6).map(|s| (s, 0)).collect();
        assert_eq!(super::runs(&dense), [&dense[..]]);
    }

    /// A gap splits exactly when the next segment's header is shorter: the header grows with
    /// the offset (and the memory index), so one gap length merges low in memory and splits
    /// high up.
    #[test]
    fn the_default_splits_where_the_header_is_shorter_than_the_gap() {
        // At offset 100 a header is 1 + 1 + 2 + 1 + 1 = 6 bytes: a gap of 6 merges, 7 splits.
        assert_eq!(header_len(0, false, 100, 2), 6);
        assert_eq!(
            layout(0, false, &runs(&[(0, 94), (100, 2)]), None, MAX_SEGMENTS).len(),
            1
        );
        assert_eq!(
            layout(0, false, &runs(&[(0, 93), (100, 2)]), None, MAX_SEGMENTS).len(),
            2
        );
        // At 2^21 the offset takes 4 bytes: a gap of 8 merges, 9 splits.
        let high = 1 << 21;
        assert_eq!(header_len(0, false, high, 2), 8);
        assert_eq!(
            layout(
                0,
                false,
                &runs(&[(high - 10, 2), (high, 2)]),
                None,
                MAX_SEGMENTS
            )
            .len(),
            1
        );
        assert_eq!(
            layout(
                0,
                false,
                &runs(&[(high - 11, 2), (high, 2)]),
                None,
                MAX_SEGMENTS
            )
            .len(),
            2
        );
        // Memory 1 takes one more byte for its index. A 64-bit offset of 2^31 takes 5 bytes,
        // as a 32-bit one does (negative, as i32.const reads it).
        assert_eq!(header_len(1, false, high, 2), 9);
        assert_eq!(header_len(0, true, 1 << 31, 2), 1 + 1 + 5 + 1 + 1);
        assert_eq!(header_len(0, false, 1 << 31, 2), 1 + 1 + 5 + 1 + 1);
        assert_eq!(header_len(0, false, 100, 200), 7);
    }

    /// The measurement behind the default: encoded size of a heap-like memory (small objects
    /// separated by short zero paddings and occasional long free areas) with the default and
    /// with every fixed threshold.
    #[test]
    fn layout_gap_threshold() {
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut heap = Vec::new();
        let mut at = 0u64;
        for _ in 0..5_000 {
            let len = 1 + next() % 24;
            heap.push((at, Cow::from(vec![1u8; len as usize])));
            at += len
                + if next() % 10 == 0 {
                    64 + next() % 4096
                } else {
                    8 + next() % 16
                };
        }
        let size = |gap| -> u64 {
            layout(0, false, &heap, gap, MAX_SEGMENTS)
                .iter()
                .map(|s| s.len as u64 + header_len(0, false, s.offset as u64, s.len as usize))
                .sum::<u64>()
        };
        let sizes: Vec<(u64, u64)> = [0, 2, 4, 6, 8, 10, 12, 16, 24, 32, 64]
            .iter()
            .map(|&g| (g, size(Some(g))))
            .collect();
        let best = sizes.iter().min_by_key(|(_, s)| *s).unwrap();
        let default = size(None);
        eprintln!("gap threshold → encoded bytes: {sizes:?}; default {default}");
        assert!(default <= best.1, "default {default} vs best {best:?}");
    }
}
