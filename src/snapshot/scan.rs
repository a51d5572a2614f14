//! Finding a memory's non-zero runs: the one pass over the guest's memory that reads every
//! byte. A run ends where [`MIN_SPLIT_GAP`] zeros follow it; shorter gaps stay inside it.

/// Zero runs shorter than this stay inside a non-zero run. Splitting costs a segment header
/// (about 8 bytes) in the output, so shorter gaps are never worth a split.
pub const MIN_SPLIT_GAP: usize = 8;

/// The non-zero runs of `data`, as `(start, end)` offsets in it, in order.
pub(super) fn non_zero_runs(data: &[u8]) -> Vec<(usize, usize)> {
    let mut runs = Vec::new();
    let mut i = 0;
    let n = data.len();
    while i < n {
        // Skip zeros 4 words, then a word, at a time.
        while i + 32 <= n
            && (word(data, i) | word(data, i + 8)) | (word(data, i + 16) | word(data, i + 24)) == 0
        {
            i += 32;
        }
        while i + 8 <= n && word(data, i) == 0 {
            i += 8;
        }
        while i < n && data[i] == 0 {
            i += 1;
        }
        if i >= n {
            break;
        }
        let start = i;
        let mut end = i;
        let mut zeros = 0;
        while i < n {
            // Words without a zero byte go on the run as their bytes one by one would: a
            // memory full of data is scanned 32 bytes a step, not 1. Four words at once let
            // the compiler test them together; one at a time, a 64 MiB memory took 12 ms to
            // scan, four at a time 4 ms, about what reading it at all takes (3.5 ms).
            if i + 32 <= n
                && !((has_zero_byte(word(data, i)) | has_zero_byte(word(data, i + 8)))
                    | (has_zero_byte(word(data, i + 16)) | has_zero_byte(word(data, i + 24))))
            {
                zeros = 0;
                end = i + 32;
                i += 32;
                continue;
            }
            if i + 8 <= n && !has_zero_byte(word(data, i)) {
                zeros = 0;
                end = i + 8;
                i += 8;
                continue;
            }
            if data[i] == 0 {
                zeros += 1;
                if zeros >= MIN_SPLIT_GAP {
                    break;
                }
            } else {
                zeros = 0;
                end = i + 1;
            }
            i += 1;
        }
        runs.push((start, end));
    }
    runs
}

/// The 8 bytes of `data` at `at`, little-endian.
fn word(data: &[u8], at: usize) -> u64 {
    u64::from_le_bytes(data[at..at + 8].try_into().expect("8 bytes"))
}

/// Whether one of the 8 bytes of `word` is zero: subtracting 1 from each byte borrows into
/// its high bit only from a zero byte, unless that bit was set already.
fn has_zero_byte(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    word.wrapping_sub(ONES) & !word & HIGHS != 0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Knuth's MMIX linear congruential generator, its high bits.
    fn lcg(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed = seed
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            seed >> 33
        }
    }

    /// `len` bytes, zeros in runs of up to 19 among non-zero bytes, the zeros more or less
    /// frequent as `zero_in` says.
    fn sample(next: &mut impl FnMut() -> u64, len: usize, zero_in: u64) -> Vec<u8> {
        let mut data = Vec::with_capacity(len + 20);
        while data.len() < len {
            match next() % zero_in {
                0 => data.extend(std::iter::repeat_n(0, (next() % 20) as usize)),
                _ => data.push((next() % 255) as u8 + 1),
            }
        }
        data.truncate(len);
        data
    }

    /// The runs a scan must find, found one byte at a time.
    fn runs_bytewise(data: &[u8]) -> Vec<(usize, usize)> {
        let (mut runs, mut i) = (Vec::new(), 0);
        while i < data.len() {
            if data[i] == 0 {
                i += 1;
                continue;
            }
            let (start, mut end, mut zeros) = (i, i, 0);
            while i < data.len() && zeros < MIN_SPLIT_GAP {
                match data[i] {
                    0 => zeros += 1,
                    _ => (zeros, end) = (0, i + 1),
                }
                i += 1;
            }
            runs.push((start, end));
        }
        runs
    }

    #[test]
    fn runs_are_those_a_bytewise_scan_finds() {
        // Lengths around the word size, zero gaps around the split length, densities from
        // all zeros to none, at every alignment.
        let mut next = lcg(1);
        for case in 0..4000 {
            let len = (next() % 400) as usize + case % 9;
            let zero_in = 1 + (next() % 16);
            let data = sample(&mut next, len, zero_in);
            assert_eq!(non_zero_runs(&data), runs_bytewise(&data), "{data:?}");
        }
        for word in [
            0u64,
            1 << 8,
            u64::MAX,
            0x0101_0101_0101_0101,
            0x8000_0000_0000_0000,
            0x0080_ff01_0203_0405,
        ] {
            assert_eq!(
                has_zero_byte(word),
                word.to_le_bytes().contains(&0),
                "{word:#x}"
            );
        }
    }
}
