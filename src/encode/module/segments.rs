//! Element and data segments: the ones compsnap writes, and how an edit replaces, empties or
//! redirects the module's own.

use super::Editor;
use anyhow::Result;
use std::collections::HashMap;
use wasm_encoder::reencode::{Reencode, RoundtripReencoder};
use wasm_encoder::{ConstExpr, DataSection, ElementSection, Elements, RefType};
use wasmparser::{ElementItems, ElementKind};

/// An active data segment with a constant offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataSegment {
    pub memory: u32,
    pub offset: u32,
    pub bytes: Vec<u8>,
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

impl Editor<'_, '_> {
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
                    let table = (*table != 0).then_some(*table);
                    s.active(table, &at, Elements::Functions(funcs.as_slice().into()));
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

    pub(super) fn extra_data(&self, mut s: DataSection) -> DataSection {
        for segment in self.edit.active_data.iter().flatten() {
            let offset = match self.edit.memory64.contains(&segment.memory) {
                true => ConstExpr::i64_const(segment.offset as i64),
                false => ConstExpr::i32_const(segment.offset as i32),
            };
            s.active(segment.memory, &offset, segment.bytes.iter().copied());
        }
        s
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
