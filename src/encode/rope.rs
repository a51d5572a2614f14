//! The output as a sequence of pieces: bytes the encoders wrote, runs of the guest's memory
//! they borrow, and runs of zeros. A snapshot's memory goes from the guest into the file in
//! one copy: no stage joins the pieces into one buffer (see [`Rope::write_to`]).

use crate::parallel::map_runs;
use std::io::{self, Write};

/// Bytes in order, some owned and some borrowed (the guest's memory, the input's bytes).
#[derive(Debug, Clone, Default)]
pub struct Rope<'a> {
    pieces: Vec<Piece<'a>>,
}

#[derive(Debug, Clone)]
enum Piece<'a> {
    Owned(Vec<u8>),
    Borrowed(&'a [u8]),
    Zeros(usize),
}

/// Borrowed runs shorter than this are copied: a piece per tiny run would cost more than
/// the copy.
const MIN_BORROWED: usize = 64;

/// Zero runs shorter than this are written as bytes.
const MIN_ZEROS: usize = 4096;

static ZEROS: [u8; MIN_ZEROS] = [0; MIN_ZEROS];

/// Ropes of at least this many bytes are joined on every core ([`Rope::into_bytes`]).
/// Measured on 2 cores: 64 MiB copied into a fresh buffer in 42.8–46.9 ms on one thread,
/// 21.6–23.4 ms on two; below a few MiB, starting threads costs about what they save.
const PARALLEL_JOIN: usize = 8 << 20;

/// The size of the parts a join hands out to the cores.
const JOIN_PART: usize = 1 << 20;

impl<'a> Rope<'a> {
    /// An empty rope.
    pub fn new() -> Self {
        Rope::default()
    }

    /// The number of bytes.
    pub fn len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Owned(b) => b.len(),
                Piece::Borrowed(b) => b.len(),
                Piece::Zeros(n) => *n,
            })
            .sum()
    }

    /// The owned buffer at the end, where encoders append.
    pub fn tail(&mut self) -> &mut Vec<u8> {
        if !matches!(self.pieces.last(), Some(Piece::Owned(_))) {
            self.pieces.push(Piece::Owned(Vec::new()));
        }
        match self.pieces.last_mut() {
            Some(Piece::Owned(bytes)) => bytes,
            _ => unreachable!("an owned piece was just pushed"),
        }
    }

    /// Appends `bytes`, copied.
    pub fn extend(&mut self, bytes: &[u8]) {
        self.tail().extend_from_slice(bytes);
    }

    /// Appends `bytes` without copying them (short runs are copied).
    pub fn borrow(&mut self, bytes: &'a [u8]) {
        match bytes.len() {
            0 => {}
            n if n < MIN_BORROWED => self.extend(bytes),
            _ => self.pieces.push(Piece::Borrowed(bytes)),
        }
    }

    /// Appends `n` zero bytes.
    pub fn zeros(&mut self, n: usize) {
        match n {
            n if n < MIN_ZEROS => {
                let tail = self.tail();
                tail.resize(tail.len() + n, 0);
            }
            n => self.pieces.push(Piece::Zeros(n)),
        }
    }

    /// Appends `other`.
    pub fn append(&mut self, other: Rope<'a>) {
        for piece in other.pieces {
            match piece {
                Piece::Owned(bytes) => self.extend(&bytes),
                piece => self.pieces.push(piece),
            }
        }
    }

    /// The pieces' bytes, in order.
    fn chunks(&self) -> impl Iterator<Item = &[u8]> + '_ {
        self.pieces.iter().flat_map(|p| {
            let (bytes, zeros): (&[u8], usize) = match p {
                Piece::Owned(b) => (b, 0),
                Piece::Borrowed(b) => (b, 0),
                Piece::Zeros(n) => (&[], *n),
            };
            let blocks = zeros.div_ceil(MIN_ZEROS);
            std::iter::once(bytes)
                .chain((0..blocks).map(move |i| &ZEROS[..(zeros - i * MIN_ZEROS).min(MIN_ZEROS)]))
        })
    }

    /// Writes every byte to `out`; borrowed runs go straight from where they are.
    pub fn write_to(&self, out: &mut impl Write) -> io::Result<()> {
        for chunk in self.chunks() {
            out.write_all(chunk)?;
        }
        Ok(())
    }

    /// The bytes in one buffer. A large rope is copied on every core: writing a fresh
    /// buffer costs a page fault per page, and on one core a 64 MiB snapshot spent 38 of its
    /// 90 ms here (see [`PARALLEL_JOIN`]). The buffer starts zeroed, so runs of zeros are
    /// not written at all, and their pages are never touched.
    pub fn into_bytes(mut self) -> Vec<u8> {
        if let [Piece::Owned(_)] = &self.pieces[..] {
            if let Some(Piece::Owned(bytes)) = self.pieces.pop() {
                return bytes;
            }
        }
        let len = self.len();
        let mut out = vec![0u8; len];
        // Where each piece's bytes go, in parts small enough to spread over the cores.
        let mut parts: Vec<(&mut [u8], &[u8])> = Vec::new();
        let mut rest = &mut out[..];
        for piece in &self.pieces {
            let bytes: &[u8] = match piece {
                Piece::Owned(b) => b,
                Piece::Borrowed(b) => b,
                Piece::Zeros(n) => {
                    rest = &mut std::mem::take(&mut rest)[*n..];
                    continue;
                }
            };
            for part in bytes.chunks(JOIN_PART) {
                let (dst, tail) = std::mem::take(&mut rest).split_at_mut(part.len());
                parts.push((dst, part));
                rest = tail;
            }
        }
        if len < PARALLEL_JOIN {
            for (dst, src) in parts {
                prefault(dst);
                dst.copy_from_slice(src);
            }
        } else {
            let copy = |_: &mut (), _, (dst, src): (&mut [u8], &[u8])| {
                prefault(dst);
                dst.copy_from_slice(src);
                Ok(())
            };
            map_runs(parts, |(dst, _)| dst.len(), || (), copy).expect("copying cannot fail");
        }
        out
    }

    /// Whether the two hold the same bytes, however they are split into pieces.
    pub fn same_bytes(&self, other: &Rope) -> bool {
        if self.len() != other.len() {
            return false;
        }
        let (mut a, mut b) = (self.chunks(), other.chunks());
        let (mut x, mut y): (&[u8], &[u8]) = (&[], &[]);
        loop {
            while x.is_empty() {
                match a.next() {
                    Some(c) => x = c,
                    None => return y.is_empty() && b.all(|c| c.is_empty()),
                }
            }
            while y.is_empty() {
                match b.next() {
                    Some(c) => y = c,
                    None => return false,
                }
            }
            let n = x.len().min(y.len());
            if x[..n] != y[..n] {
                return false;
            }
            (x, y) = (&x[n..], &y[n..]);
        }
    }
}

/// Maps in the pages of `dst` that a copy is about to write, in one system call: a fresh
/// buffer's pages otherwise come one page fault each. A 64 MiB snapshot's join (`write`)
/// took 19.2–21.4 ms instead of 21.8–22.5 ms (medians of 20 in-process snapshots, three
/// alternating rounds); the kernel's zeroing of each page, which stays, is most of the rest.
#[cfg(target_os = "linux")]
fn prefault(dst: &mut [u8]) {
    const PAGE: usize = 4096;
    let start = (dst.as_ptr() as usize).next_multiple_of(PAGE);
    let end = (dst.as_ptr() as usize + dst.len()) & !(PAGE - 1);
    if end >= start + PREFAULT_MIN {
        // SAFETY: the range is whole pages inside `dst`, which is borrowed mutably, and
        // populating them for writing changes no byte. It is advice: a kernel without
        // MADV_POPULATE_WRITE (before Linux 5.14) refuses it, and the copy faults them in.
        unsafe {
            libc::madvise(
                start as *mut libc::c_void,
                end - start,
                libc::MADV_POPULATE_WRITE,
            )
        };
    }
}

#[cfg(not(target_os = "linux"))]
fn prefault(_: &mut [u8]) {}

/// Below this many bytes of whole pages a part is left to fault in by itself.
#[cfg(target_os = "linux")]
const PREFAULT_MIN: usize = 64 << 10;

#[cfg(test)]
impl<'a> Rope<'a> {
    /// The borrowed pieces, in order.
    pub fn borrowed(&self) -> Vec<&'a [u8]> {
        (self.pieces.iter())
            .filter_map(|p| match p {
                Piece::Borrowed(b) => Some(*b),
                _ => None,
            })
            .collect()
    }
}

impl From<Vec<u8>> for Rope<'_> {
    fn from(bytes: Vec<u8>) -> Self {
        Rope {
            pieces: vec![Piece::Owned(bytes)],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample<'a>(big: &'a [u8], small: &'a [u8]) -> Rope<'a> {
        let mut r = Rope::new();
        r.extend(b"head");
        r.borrow(big);
        r.zeros(3);
        r.zeros(MIN_ZEROS * 2 + 5);
        r.borrow(small);
        r.extend(b"tail");
        r
    }

    fn expected(big: &[u8], small: &[u8]) -> Vec<u8> {
        let mut v = b"head".to_vec();
        v.extend_from_slice(big);
        v.extend(std::iter::repeat_n(0, 3 + MIN_ZEROS * 2 + 5));
        v.extend_from_slice(small);
        v.extend_from_slice(b"tail");
        v
    }

    #[test]
    fn every_piece_comes_out_in_order() {
        let big: Vec<u8> = (0..1000u32).map(|i| i as u8 | 1).collect();
        let small = [7u8, 8, 9];
        let rope = sample(&big, &small);
        let want = expected(&big, &small);
        assert_eq!(rope.len(), want.len());
        let mut written = Vec::new();
        rope.write_to(&mut written).unwrap();
        assert_eq!(written, want);
        assert_eq!(rope.clone().into_bytes(), want);
        assert!(rope.same_bytes(&Rope::from(want.clone())));
        assert!(Rope::from(want.clone()).same_bytes(&rope));
    }

    /// A rope large enough to be joined on every core comes out as written one piece after
    /// another: parts split mid-piece, zero runs left as the buffer had them.
    #[test]
    fn a_large_rope_is_joined_in_order() {
        let big: Vec<u8> = (0..PARALLEL_JOIN as u32 + 12_345)
            .map(|i| (i % 253) as u8 + 1)
            .collect();
        let mut rope = Rope::new();
        rope.extend(b"head");
        rope.borrow(&big);
        rope.zeros(3 * JOIN_PART + 7);
        rope.extend(&big[..JOIN_PART + 3]);
        rope.borrow(&big[5..]);
        rope.extend(b"tail");
        assert!(rope.len() >= PARALLEL_JOIN);
        let mut want = Vec::new();
        rope.write_to(&mut want).unwrap();
        assert!(rope.into_bytes() == want);
    }

    #[test]
    fn same_bytes_sees_one_differing_byte_and_length() {
        let big: Vec<u8> = vec![5; 500];
        let rope = sample(&big, &[1]);
        let mut want = expected(&big, &[1]);
        let last = want.len() - 1;
        want[last] ^= 1;
        assert!(!rope.same_bytes(&Rope::from(want.clone())));
        want[last] ^= 1;
        want.push(0);
        assert!(!rope.same_bytes(&Rope::from(want)));
        assert!(Rope::new().same_bytes(&Rope::from(Vec::new())));
    }

    #[test]
    fn appending_a_rope_keeps_its_borrowed_pieces() {
        let big = vec![3u8; 200];
        let mut a = Rope::from(b"x".to_vec());
        a.append(sample(&big, &[2]));
        assert_eq!(a.pieces.len(), 5);
        let mut want = b"x".to_vec();
        want.extend(expected(&big, &[2]));
        assert_eq!(a.into_bytes(), want);
    }
}
