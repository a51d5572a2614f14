//! Tables no code writes: what they hold after the init is what instantiation put in them,
//! known without running anything.
//!
//! The real pipelines' components (ComponentizeJS, componentize-py) fill their tables with
//! active element segments only; none of their modules has a `table.set`, `table.grow`,
//! `table.fill`, `table.copy` or `table.init`. Such a table needs no probe, and a component
//! whose tables need none compiles with Winch (see `instrument::probe`).

use super::module::ModuleInfo;
use super::resolve::{resolve, Source};
use super::Scope;
use anyhow::Result;
use wasmparser::{ElementItems, ExternalKind, Operator, RefType};

/// The most slots a table may have for its contents to be worked out here; a larger one
/// is probed.
const MAX_SLOTS: u64 = 1 << 24;

/// How deep an offset may follow initializers of globals (`global.get` of a global whose
/// initializer reads another one).
const MAX_DEPTH: u32 = 16;

/// A slot after instantiation: null, or `(instance, function)`.
pub type Slot = Option<(u32, u32)>;

/// The slots of table `table` defined by instance `owner` (local ids) after instantiation,
/// when no instance's code can write it: each null or `(instance, function)`, the function
/// by its index in that instance's module, as that instance's element segment names it (an
/// import standing for its shim, as a probe reports it). `None` when code can write the
/// table, or when what instantiation writes is not worked out here: a table with an
/// initializer expression, one that is not `funcref`, an offset or item that is not a
/// constant (`global.get` of a mutable global, or of a reference global), a segment that
/// does not fit (instantiation traps).
pub fn unwritten_table(scope: &Scope, owner: u32, table: u32) -> Result<Option<Vec<Slot>>> {
    let info = scope.module_of(owner);
    let Some(ty) = info.tables.get(table as usize) else {
        return Ok(None);
    };
    if table < info.imported_tables
        || info.table_init_exprs.contains(&table)
        || ty.element_type != RefType::FUNCREF
        || ty.initial > MAX_SLOTS
    {
        return Ok(None);
    }
    let mut slots = vec![None; ty.initial as usize];
    // Instances in instantiation order: each one's active segments are applied as it is
    // instantiated.
    for instance in &scope.instances {
        let dfs = instance.dfs;
        let module = scope.module_of(dfs);
        let mut aliases = Vec::new();
        for t in 0..module.tables.len() as u32 {
            if is_alias(scope, dfs, t, owner, table)? {
                if module.written_tables.contains(&t) {
                    return Ok(None);
                }
                aliases.push(t);
            }
        }
        for segment in module.active_elems.iter() {
            if !aliases.contains(&segment.table) {
                continue;
            }
            let Some(offset) = eval(scope, dfs, &segment.offset, 0)? else {
                return Ok(None);
            };
            let Some(items) = items(&segment.items)? else {
                return Ok(None);
            };
            let start = usize::try_from(offset).unwrap_or(usize::MAX);
            let Some(end) = start.checked_add(items.len()).filter(|&e| e <= slots.len()) else {
                return Ok(None);
            };
            for (slot, item) in slots[start..end].iter_mut().zip(items) {
                *slot = item.map(|f| (dfs, f));
            }
        }
    }
    Ok(Some(slots))
}

/// Whether table `t` of instance `dfs` is table `table` of `owner`.
fn is_alias(scope: &Scope, dfs: u32, t: u32, owner: u32, table: u32) -> Result<bool> {
    if dfs == owner {
        return Ok(t == table);
    }
    if t >= scope.module_of(dfs).imported_tables {
        return Ok(false);
    }
    let source = resolve(scope, dfs, ExternalKind::Table, t)?;
    Ok(source
        == Source::Defined {
            dfs: owner,
            index: table,
        })
}

/// A segment's items: each null or a function index; `None` when one is not a constant.
fn items(items: &ElementItems) -> Result<Option<Vec<Option<u32>>>> {
    let mut out = Vec::new();
    match items {
        ElementItems::Functions(funcs) => {
            for f in funcs.clone() {
                out.push(Some(f?));
            }
        }
        ElementItems::Expressions(_, exprs) => {
            for expr in exprs.clone() {
                let mut ops = expr?.get_operators_reader();
                let item = match ops.read()? {
                    Operator::RefFunc { function_index } => Some(function_index),
                    Operator::RefNull { .. } => None,
                    _ => return Ok(None),
                };
                if !matches!(ops.read()?, Operator::End) {
                    return Ok(None);
                }
                out.push(item);
            }
        }
    }
    Ok(Some(out))
}

/// The value of a constant offset expression in instance `dfs`: `i32.const`, `i64.const`,
/// `global.get` of an immutable numeric global (followed to its definition and initializer),
/// and the extended-constant `add`, `sub` and `mul`. `None` for anything else.
fn eval(scope: &Scope, dfs: u32, expr: &wasmparser::ConstExpr, depth: u32) -> Result<Option<u64>> {
    if depth > MAX_DEPTH {
        return Ok(None);
    }
    let mut stack: Vec<u64> = Vec::new();
    for op in expr.get_operators_reader() {
        let op = op?;
        let value = match &op {
            Operator::I32Const { value } => *value as u32 as u64,
            Operator::I64Const { value } => *value as u64,
            Operator::GlobalGet { global_index } => {
                match global(scope, dfs, *global_index, depth)? {
                    Some(v) => v,
                    None => return Ok(None),
                }
            }
            Operator::I32Add
            | Operator::I32Sub
            | Operator::I32Mul
            | Operator::I64Add
            | Operator::I64Sub
            | Operator::I64Mul => {
                let (Some(b), Some(a)) = (stack.pop(), stack.pop()) else {
                    return Ok(None);
                };
                let (a32, b32) = (a as u32, b as u32);
                match op {
                    Operator::I32Add => a32.wrapping_add(b32) as u64,
                    Operator::I32Sub => a32.wrapping_sub(b32) as u64,
                    Operator::I32Mul => a32.wrapping_mul(b32) as u64,
                    Operator::I64Add => a.wrapping_add(b),
                    Operator::I64Sub => a.wrapping_sub(b),
                    _ => a.wrapping_mul(b),
                }
            }
            Operator::End => break,
            _ => return Ok(None),
        };
        stack.push(value);
    }
    Ok(match stack.as_slice() {
        [value] => Some(*value),
        _ => None,
    })
}

/// The value of immutable numeric global `index` of instance `dfs`, from its definition's
/// initializer.
fn global(scope: &Scope, dfs: u32, index: u32, depth: u32) -> Result<Option<u64>> {
    let Source::Defined { dfs, index } = resolve(scope, dfs, ExternalKind::Global, index)? else {
        return Ok(None);
    };
    let info: &ModuleInfo = scope.module_of(dfs);
    let Some(ty) = info.globals.get(index as usize) else {
        return Ok(None);
    };
    let defined = index.checked_sub(info.imported_globals);
    match defined.and_then(|i| info.global_inits.get(i as usize)) {
        Some(init) if !ty.mutable => eval(scope, dfs, init, depth + 1),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(wat: &str) -> crate::model::Model<'static> {
        let bytes = wat::parse_str(wat).expect("test WAT parses");
        crate::model::parse(Box::leak(bytes.into_boxed_slice())).unwrap()
    }

    /// `$a` (local id 0) defines table 0 and fills slots 0 and 1; `$g` (1) defines the base
    /// global; `$b` (2) imports the table and the base, and fills from base + 1 with its own
    /// function, an import and a null. `extra` goes into `$b`.
    fn component(extra: &str) -> String {
        format!(
            r#"(component
              (core module $A
                (type $v (func (result i32)))
                (table (export "t") 6 funcref)
                (table 1 funcref)
                (func $one (type $v) (i32.const 1))
                (func $two (param i32))
                (func (export "grow") (drop (table.grow 1 (ref.null func) (i32.const 1))))
                (elem (i32.const 0) func $one $two))
              (core instance $a (instantiate $A))
              (core module $G (global (export "base") i32 (i32.const 2)))
              (core instance $g (instantiate $G))
              (core module $B
                (import "a" "t" (table 6 funcref))
                (import "a" "grow" (func $grow))
                (import "g" "base" (global $base i32))
                (func $three (result i32) (i32.const 3))
                (elem (table 0) (offset (i32.add (global.get $base) (i32.const 1)))
                  funcref (ref.func $three) (ref.func $grow) (ref.null func))
                {extra})
              (core instance (instantiate $B
                (with "a" (instance $a)) (with "g" (instance $g)))))"#
        )
    }

    #[test]
    fn a_table_no_code_writes_holds_what_its_segments_put_in_it() {
        let model = scope(&component(""));
        let scope = &model.scopes[0];
        // Slot 3 is `$b`'s `$three` (its function 1), slot 4 its import `grow` (function 0).
        let expected = vec![
            Some((0, 0)),
            Some((0, 1)),
            None,
            Some((2, 1)),
            Some((2, 0)),
            None,
        ];
        assert_eq!(unwritten_table(scope, 0, 0).unwrap(), Some(expected));
        // Table 1 of `$a` is grown by its code.
        assert_eq!(unwritten_table(scope, 0, 1).unwrap(), None);
    }

    #[test]
    fn a_table_some_code_writes_or_a_segment_that_does_not_fit_is_not_worked_out() {
        for extra in [
            "(func (table.set 0 (i32.const 0) (ref.null func)))",
            "(func (table.fill 0 (i32.const 0) (ref.null func) (i32.const 1)))",
            "(func (table.copy 0 0 (i32.const 0) (i32.const 1) (i32.const 1)))",
            "(elem $p funcref (ref.null func)) (func (table.init 0 $p (i32.const 0) (i32.const 0) (i32.const 1)))",
            "(elem (table 0) (i32.const 5) func $three $three)",
        ] {
            let model = scope(&component(extra));
            assert_eq!(unwritten_table(&model.scopes[0], 0, 0).unwrap(), None, "{extra}");
        }
    }
}
