//! Element and data segments: the ones compsnap writes, and how an edit replaces, empties or
//! redirects the module's own.

use super::Editor;
use anyhow::Result;
use std::collections::HashMap;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ConstExpr, DataSection, ElementSection, Elements, Encode, RefType};
use wasmparser::{ElementItems, ElementKind};

/// An active data segment with a constant offset, over bytes borrowed from the snapshot:
/// each piece starts at its offset within the segment, zeros fill the gaps between, and
/// the encoder writes the pieces straight into the module, with no copy of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSegment<'a> {
    pub memory: u32,
    pub offset: u32,
    /// The segment's length in bytes.
    pub len: u32,
    /// (offset within the segment, bytes), in order, not overlapping.
    pub pieces: Vec<(u32, &'a [u8])>,
}

#[cfg(test)]
impl DataSegment<'_> {
    /// The segment's bytes, zeros included.
    pub fn bytes(&self) -> Vec<u8> {
        let mut out = vec![0; self.len as usize];
        for (at, piece) in &self.pieces {
            out[*at as usize..*at as usize + piece.len()].copy_from_slice(piece);
        }
        out
    }
}

/// Writes an active segment's bytes before its data: flags (and memory), offset, length.
fn header(memory: u32, memory64: bool, offset: u32, len: u32, h: &mut Vec<u8>) {
    match memory {
        0 => h.push(0x00),
        m => {
            h.push(0x02);
            m.encode(h);
        }
    }
    match memory64 {
        true => ConstExpr::i64_const(offset as i64),
        false => ConstExpr::i32_const(offset as i32),
    }
    .encode(h);
    len.encode(h);
}

/// The size of [`header`] without encoding it: the layout asks for every zero gap whether a
/// new segment would cost less than the gap, and the data section's size counts it.
pub fn header_len(memory: u32, memory64: bool, offset: u64, len: usize) -> u64 {
    let flags = match memory {
        0 => 1,
        m => 1 + uleb_len(m as u64),
    };
    // The offset is a signed immediate: an i32 offset of 2^31 or more is negative.
    let value = match memory64 {
        true => offset as i64,
        false => offset as u32 as i32 as i64,
    };
    flags + 1 + sleb_len(value) + 1 + uleb_len(len as u64)
}

fn uleb_len(mut v: u64) -> u64 {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

fn sleb_len(mut v: i64) -> u64 {
    let mut n = 1;
    while !(-64..64).contains(&v) {
        v >>= 7;
        n += 1;
    }
    n
}

/// An active segment of function indices at `offset` in `table`, encoded as
/// `ElementSection::active` encodes it (flags 0 for table 0, else 2 with the table and the
/// `funcref` element kind). wasm-encoder appends each index as a slice of its own; a table
/// snapshot writes hundreds of thousands of them. With one buffer of the right size the
/// rewrite stage of a 100 000 slot table took 1.0 instead of 1.5 ms.
fn active_funcs(table: u32, offset: &ConstExpr, funcs: &[u32]) -> Vec<u8> {
    let indices: u64 = funcs.iter().map(|f| uleb_len(u64::from(*f))).sum();
    // The header's most: flags, table index, a 64-bit constant offset, the element kind and
    // the count (1 + 5 + 12 + 1 + 5 bytes).
    let mut out = Vec::with_capacity(24 + indices as usize);
    match table {
        0 => out.push(0x00),
        t => {
            out.push(0x02);
            t.encode(&mut out);
        }
    }
    offset.encode(&mut out);
    if table != 0 {
        out.push(0x00);
    }
    funcs.len().encode(&mut out);
    for &f in funcs {
        let mut v = f;
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }
    out
}

/// Reads one unsigned LEB128 number off the front of `bytes`.
fn read_leb(bytes: &mut &[u8]) -> u64 {
    let mut value = 0u64;
    let mut shift = 0;
    while let Some((&b, rest)) = bytes.split_first() {
        *bytes = rest;
        value |= u64::from(b & 0x7f) << shift;
        shift += 7;
        if b & 0x80 == 0 {
            break;
        }
    }
    value
}

/// An element segment compsnap writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElemSegment {
    /// Function indices into a funcref table at a constant offset (the form Wasmtime folds).
    ActiveFuncs {
        table: u32,
        offset: u32,
        funcs: Vec<u32>,
    },
    /// `ref.func` expressions of type `ty` (typed function tables need this form).
    ActiveExprs {
        table: u32,
        offset: u32,
        ty: RefType,
        funcs: Vec<u32>,
    },
    Declared(Vec<u32>),
}

impl<'e> Editor<'e> {
    /// Re-encodes element segment `index`, replacing, emptying or redirecting it.
    pub(super) fn element(
        &mut self,
        s: &mut ElementSection,
        index: u32,
        element: wasmparser::Element,
    ) -> Result<()> {
        let e = &self.edit;
        let replace_active =
            e.active_elems.is_some() && matches!(element.kind, ElementKind::Active { .. });
        let dropped =
            e.dropped_elems.contains(&index) && matches!(element.kind, ElementKind::Passive);
        let ty = match &element.items {
            ElementItems::Functions(_) => RefType::FUNCREF,
            ElementItems::Expressions(ty, _) => self.re.ref_type(*ty)?,
        };
        if replace_active && !e.keep_elem_indices {
            return Ok(());
        }
        if replace_active || dropped {
            s.passive(Elements::Expressions(ty, Vec::new().into()));
            return Ok(());
        }
        let items = match element.items {
            ElementItems::Functions(funcs) => {
                let mut out = Vec::new();
                for f in funcs {
                    let f = f?;
                    out.push(*e.redirect.get(&f).unwrap_or(&f));
                }
                Elements::Functions(out.into())
            }
            ElementItems::Expressions(_, exprs) => {
                let mut out = Vec::new();
                for expr in exprs {
                    out.push(redirected_const(&mut self.re, &e.redirect, &expr?)?);
                }
                Elements::Expressions(ty, out.into())
            }
        };
        match element.kind {
            ElementKind::Passive => s.passive(items),
            ElementKind::Declared => s.declared(items),
            ElementKind::Active {
                table_index,
                offset_expr,
            } => s.active(table_index, &self.re.const_expr(offset_expr)?, items),
        };
        Ok(())
    }

    pub(super) fn extra_elems(&self, mut s: ElementSection) -> ElementSection {
        let new = self.edit.active_elems.iter().flatten();
        for segment in new.chain(&self.edit.extra_elems) {
            match segment {
                ElemSegment::ActiveFuncs {
                    table,
                    offset,
                    funcs,
                } => {
                    let at = self.elem_offset(*table, *offset);
                    s.raw(&active_funcs(*table, &at, funcs));
                }
                ElemSegment::ActiveExprs {
                    table,
                    offset,
                    ty,
                    funcs,
                } => {
                    let exprs: Vec<ConstExpr> =
                        funcs.iter().map(|f| ConstExpr::ref_func(*f)).collect();
                    s.active(
                        Some(*table),
                        &self.elem_offset(*table, *offset),
                        Elements::Expressions(*ty, exprs.into()),
                    );
                }
                ElemSegment::Declared(funcs) => {
                    s.declared(Elements::Functions(funcs.as_slice().into()));
                }
            }
        }
        s
    }

    /// The offset expression of a segment at `offset` in `table`: i64 in a 64-bit table.
    fn elem_offset(&self, table: u32, offset: u32) -> ConstExpr {
        match self.edit.table64.contains(&table) {
            true => ConstExpr::i64_const(offset as i64),
            false => ConstExpr::i32_const(offset as i32),
        }
    }

    /// Writes the data section: `kept`, then every segment compsnap writes, whose contents
    /// stay borrowed from the snapshot.
    pub(super) fn emit_data(&mut self, kept: DataSection) {
        self.pending.remove(&(
            super::rank(wasm_encoder::SectionId::Data),
            wasm_encoder::SectionId::Data,
        ));
        // The kept segments as `DataSection` encodes them: size, count, entries.
        let mut encoded = Vec::new();
        kept.encode(&mut encoded);
        let mut rest = &encoded[..];
        let _size = read_leb(&mut rest);
        let _count = read_leb(&mut rest);
        let added = self.edit.active_data.take().unwrap_or_default();
        let memory64 = |s: &DataSegment| self.edit.memory64.contains(&s.memory);
        let mut count = Vec::new();
        (kept.len() + added.len() as u32).encode(&mut count);
        let size = count.len()
            + rest.len()
            + (added.iter())
                .map(|s| {
                    let header = header_len(s.memory, memory64(s), s.offset as u64, s.len as usize);
                    header as usize + s.len as usize
                })
                .sum::<usize>();
        let out = &mut self.out;
        let tail = out.tail();
        tail.push(wasm_encoder::SectionId::Data as u8);
        (size as u32).encode(tail);
        tail.extend_from_slice(&count);
        tail.extend_from_slice(rest);
        for segment in &added {
            let (memory, offset, len) = (segment.memory, segment.offset, segment.len);
            header(memory, memory64(segment), offset, len, out.tail());
            let mut at = 0;
            for (start, piece) in &segment.pieces {
                out.zeros((*start - at) as usize);
                out.borrow(piece);
                at = start + piece.len() as u32;
            }
            out.zeros((segment.len - at) as usize);
        }
    }
}

/// Re-encodes a constant expression with `ref.func` targets redirected.
pub(super) fn redirected_const(
    re: &mut RoundtripReencoder,
    redirect: &HashMap<u32, u32>,
    expr: &wasmparser::ConstExpr,
) -> Result<ConstExpr> {
    if redirect.is_empty() {
        return Ok(re.const_expr(expr.clone())?);
    }
    let mut ops = Vec::new();
    let mut reader = expr.get_operators_reader();
    while !reader.eof() {
        let op = reader.read()?;
        let op = match op {
            wasmparser::Operator::RefFunc { function_index } => wasmparser::Operator::RefFunc {
                function_index: *redirect.get(&function_index).unwrap_or(&function_index),
            },
            wasmparser::Operator::End if reader.eof() => break,
            op => op,
        };
        ops.push(re.instruction(op)?);
    }
    Ok(ConstExpr::extended(ops))
}

#[cfg(test)]
mod tests {
    use super::{active_funcs, header, header_len};

    #[test]
    fn header_len_is_the_size_of_the_header_written() {
        let offsets = [
            0,
            63,
            64,
            8191,
            8192,
            1 << 20,
            1 << 27,
            (1 << 31) - 1,
            1 << 31,
        ];
        for memory in [0, 1, 200] {
            for memory64 in [false, true] {
                for offset in offsets.into_iter().chain([u32::MAX]) {
                    for len in [1, 127, 128, 20_000] {
                        let mut written = Vec::new();
                        header(memory, memory64, offset, len, &mut written);
                        assert_eq!(
                            header_len(memory, memory64, offset as u64, len as usize),
                            written.len() as u64,
                            "memory {memory} (64-bit: {memory64}), offset {offset}, len {len}"
                        );
                    }
                }
            }
        }
    }

    /// The function-index segments compsnap writes are the bytes wasm-encoder writes for
    /// them, for tables 0 and beyond, 32- and 64-bit offsets, indices of every LEB length.
    #[test]
    fn active_funcs_encodes_as_wasm_encoder_does() {
        use wasm_encoder::{ConstExpr, ElementSection, Elements, Encode};
        let funcs: Vec<u32> = [0, 1, 127, 128, 16_383, 16_384, 1 << 21, 1 << 28, u32::MAX]
            .into_iter()
            .cycle()
            .take(200)
            .collect();
        for table in [0, 1, 300] {
            for offset in [ConstExpr::i32_const(5), ConstExpr::i64_const(1 << 40)] {
                for funcs in [&funcs[..0], &funcs[..1], &funcs[..]] {
                    let (mut ours, mut theirs) = (ElementSection::new(), ElementSection::new());
                    ours.raw(&active_funcs(table, &offset, funcs));
                    let t = (table != 0).then_some(table);
                    theirs.active(t, &offset, Elements::Functions(funcs.into()));
                    let (mut a, mut b) = (Vec::new(), Vec::new());
                    ours.encode(&mut a);
                    theirs.encode(&mut b);
                    assert_eq!(a, b, "table {table}, {} functions", funcs.len());
                }
            }
        }
    }
}
