//! Memory snapshot → active data segments, laid out for Wasmtime's copy-on-write memory image;
//! and table slots → runs, one element segment each.
//!
//! Wasmtime builds a memory image when every active segment has a constant offset inside the
//! memory minimum, which is all this layout emits. Within that, the choice is how many zero
//! bytes to keep inside a segment instead of starting a new one: a new segment costs a header
//! (flags, `i32.const` offset, `end`, length: 5 to 12 bytes) and one more copy when Wasmtime
//! cannot use the image. `DEFAULT_MAX_GAP` is the measured size optimum (see the
//! `layout_gap_threshold` test for the measurement); the segment count is capped so that a
//! pathological heap cannot produce a module that is slow to validate and instantiate.

use crate::encode::module::DataSegment;

/// Zero gaps up to this many bytes are merged into the surrounding segment. Measured on a
/// heap-like memory: 6 to 8 bytes give the smallest output (12 costs 5% more, 0 costs 7%).
/// Gaps under `snapshot::MIN_SPLIT_GAP` (also 8) never split a run in the first place.
pub const DEFAULT_MAX_GAP: u64 = 8;
/// Upper bound for the segments of one memory.
pub const MAX_SEGMENTS: usize = 10_000;

/// Segments for `memory` covering every non-zero run; they borrow the runs' bytes.
pub fn layout(memory: u32, runs: &[(u64, Vec<u8>)], max_gap: u64) -> Vec<DataSegment<'_>> {
    let mut gap = max_gap;
    if merged_count(runs, gap) > MAX_SEGMENTS {
        // Merge the smallest gaps first until the cap holds.
        let mut gaps: Vec<u64> = runs
            .windows(2)
            .map(|w| w[1].0 - (w[0].0 + w[0].1.len() as u64))
            .collect();
        gaps.sort_unstable();
        let excess = runs.len() - MAX_SEGMENTS;
        gap = gaps[excess - 1].max(gap);
    }
    let mut out: Vec<DataSegment> = Vec::new();
    let mut end = 0u64;
    for (offset, bytes) in runs {
        match out.last_mut() {
            Some(last) if offset - end <= gap => {
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
        end = offset + bytes.len() as u64;
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

fn merged_count(runs: &[(u64, Vec<u8>)], gap: u64) -> usize {
    if runs.is_empty() {
        return 0;
    }
    1 + runs
        .windows(2)
        .filter(|w| w[1].0 - (w[0].0 + w[0].1.len() as u64) > gap)
        .count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn runs(spec: &[(u64, usize)]) -> Vec<(u64, Vec<u8>)> {
        spec.iter().map(|&(o, n)| (o, vec![7u8; n])).collect()
    }

    #[test]
    fn merges_short_gaps_and_keeps_bytes() {
        let r = runs(&[(0, 4), (10, 2), (100, 1)]);
        let segs = layout(0, &r, 8);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].offset, 0);
        assert_eq!(segs[0].bytes(), [7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 7, 7]);
        assert_eq!((segs[1].offset, segs[1].bytes().len()), (100, 1));
    }

    #[test]
    fn caps_the_segment_count() {
        let many: Vec<(u64, usize)> = (0..30_000u64)
            .map(|i| (i * 100 + (i % 7) * 10, 1))
            .collect();
        let r = runs(&many);
        let segs = layout(0, &r, 8);
        assert!(segs.len() <= MAX_SEGMENTS, "{} segments", segs.len());
        let total: usize = segs
            .iter()
            .map(|s| s.bytes().iter().filter(|b| **b != 0).count())
            .sum();
        assert_eq!(total, 30_000, "every non-zero byte is still covered");
    }

    #[test]
    fn a_gap_of_exactly_max_gap_merges() {
        // 4 bytes at 0, then 8 zero bytes, then 2 bytes at 12.
        let r = runs(&[(0, 4), (12, 2)]);
        let segs = layout(3, &r, 8);
        assert_eq!(segs.len(), 1);
        assert_eq!((segs[0].memory, segs[0].offset), (3, 0));
        assert_eq!(segs[0].bytes(), [7, 7, 7, 7, 0, 0, 0, 0, 0, 0, 0, 0, 7, 7]);
    }

    #[test]
    fn a_gap_of_max_gap_plus_one_splits() {
        let r = runs(&[(0, 4), (13, 2)]);
        let segs = layout(3, &r, 8);
        assert_eq!(segs.len(), 2);
        assert_eq!((segs[0].offset, &segs[0].bytes()[..]), (0, &[7u8; 4][..]));
        assert_eq!((segs[1].memory, segs[1].offset), (3, 13));
        assert_eq!(segs[1].bytes(), [7, 7]);
    }

    #[test]
    fn a_zero_max_gap_still_merges_adjacent_runs() {
        let r = runs(&[(0, 2), (2, 2), (5, 1)]);
        let segs = layout(0, &r, 0);
        assert_eq!(segs.len(), 2);
        assert_eq!(segs[0].bytes(), [7, 7, 7, 7]);
        assert_eq!(segs[1].offset, 5);
    }

    #[test]
    fn no_runs_give_no_segments() {
        assert!(layout(0, &[], 8).is_empty());
        assert!(layout(0, &[], u64::MAX).is_empty());
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

    /// The measurement behind `DEFAULT_MAX_GAP`: encoded size of a heap-like memory (small
    /// objects separated by short zero paddings and occasional long free areas) per threshold.
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
            heap.push((at, vec![1u8; len as usize]));
            at += len
                + if next() % 10 == 0 {
                    64 + next() % 4096
                } else {
                    next() % 16
                };
        }
        let size = |gap| -> usize {
            layout(0, &heap, gap)
                .iter()
                .map(|s| s.bytes().len() + 3 + leb(s.offset as u64) + leb(s.bytes().len() as u64))
                .sum()
        };
        let sizes: Vec<(u64, usize)> = [0, 2, 4, 6, 8, 10, 12, 16, 24, 32, 64]
            .iter()
            .map(|&g| (g, size(g)))
            .collect();
        let best = sizes.iter().min_by_key(|(_, s)| *s).unwrap();
        eprintln!("gap threshold → encoded bytes: {sizes:?}");
        // The default must be within 1% of the best threshold on this heap.
        let default = size(DEFAULT_MAX_GAP);
        assert!(
            default * 100 <= best.1 * 101,
            "default {default} vs best {best:?}"
        );
    }

    fn leb(mut v: u64) -> usize {
        let mut n = 1;
        while v >= 0x80 {
            v >>= 7;
            n += 1;
        }
        n
    }
}
