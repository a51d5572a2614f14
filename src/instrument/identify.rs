//! How the accessor's `identify(r: funcref) -> i64` calls the function in a slot, so that
//! its prologue reports who it is (see `probe.rs`).
//!
//! The candidates are the types of every function a funcref can be made of. When they are
//! one plain (MVP-style) type, `identify` calls through `call_indirect`, which needs no typed
//! function references, so that Winch can compile the component. Otherwise it finds the
//! slot's type with `ref.test` and calls it with `call_ref`, which needs the exact type: the
//! accessor holds a copy of every module's whole type section, since identity is by rec
//! group, not by shape. A parameter of a non-nullable reference type gets a value built for
//! it, or a dummy function of its type.

use crate::encode::code::default_value;
use crate::encode::types::Shift;
use crate::model::{ModuleInfo, Scope};
use crate::protocol::{PROBE_MAX_STRUCT_DEPTH, PROBE_MAX_VALUES, SLOT_NULL, SLOT_UNKNOWN_TYPE};
use anyhow::{bail, Result};
use std::collections::BTreeSet;
use wasm_encoder::reencode::Reencode;
use wasm_encoder::{BlockType, Function, Instruction, ValType};

/// One accessor type per (instance, type) of a function that can sit in a table or a
/// reference global: every referenced function (`ModuleInfo::referenced`), an imported one
/// standing for its shim.
pub(crate) fn candidate_types(model: &Scope, type_offset: &[u32]) -> Result<Vec<(u32, u32, u32)>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for instance in &model.instances {
        let info = &model.modules[instance.module];
        for &f in &info.referenced {
            let ty = info.func_types[f as usize];
            if seen.insert((instance.dfs, ty)) {
                out.push((type_offset[instance.dfs as usize] + ty, instance.dfs, f));
            }
        }
    }
    Ok(out)
}

/// How `identify` calls the function it is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ProbeCall {
    /// Every candidate has the same plain type (`ModuleInfo::plain_func_types`), that of
    /// this candidate: `call_indirect` through a one-slot table of the accessor's own. A
    /// function of another type cannot be in a slot, so the call cannot trap. Winch
    /// compiles it; it has no typed function references.
    Indirect((u32, u32, u32)),
    /// No function can be in a slot: only null is identified, without a call.
    Nothing,
    /// `ref.test` over the candidates, then `call_ref`: typed function references, which
    /// only Cranelift compiles.
    Typed,
}

/// How `identify` calls the functions of `candidates` (see [`candidate_types`]).
pub(crate) fn probe_call(model: &Scope, candidates: &[(u32, u32, u32)]) -> ProbeCall {
    let plain = |&(_, dfs, func): &(u32, u32, u32)| {
        let info = model.module_of(dfs);
        let ty = *info.func_types.get(func as usize)?;
        info.plain_func_types
            .contains(&ty)
            .then(|| info.signature(func))?
    };
    let Some(first) = candidates.first() else {
        return ProbeCall::Nothing;
    };
    let Some(sig) = plain(first) else {
        return ProbeCall::Typed;
    };
    let same = |c: &(u32, u32, u32)| {
        plain(c).is_some_and(|s| s.params == sig.params && s.results == sig.results)
    };
    match sig.params.iter().all(|p| p.is_defaultable()) && candidates.iter().all(same) {
        true => ProbeCall::Indirect(*first),
        false => ProbeCall::Typed,
    }
}

/// `identify(r: funcref) -> i64` for [`ProbeCall::Indirect`] and [`ProbeCall::Nothing`]:
/// null, or the probed identity, or why it failed. `slot` is the accessor's one-slot
/// funcref table.
pub(crate) fn identify_indirect_body(
    model: &Scope,
    call: ProbeCall,
    type_offset: &[u32],
    f_read: u32,
    slot: u32,
) -> Result<Function> {
    use Instruction as I;
    let mut f = null_returns_null();
    let ProbeCall::Indirect((ty, dfs, func)) = call else {
        f.instruction(&I::I64Const(SLOT_UNKNOWN_TYPE));
        f.instruction(&I::End);
        return Ok(f);
    };
    let info = model.module_of(dfs);
    let Some(sig) = info.signature(func) else {
        bail!("bug: function {func} of a probe candidate has no signature");
    };
    f.instruction(&I::I32Const(0));
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::TableSet(slot));
    for param in &sig.params {
        let value = Shift(type_offset[dfs as usize]).val_type(*param)?;
        let Some(default) = default_value(value) else {
            bail!("bug: a plain probe type takes a parameter without a default");
        };
        f.instruction(&default);
    }
    f.instruction(&I::I32Const(0));
    f.instruction(&I::CallIndirect {
        type_index: ty,
        table_index: slot,
    });
    for _ in &sig.results {
        f.instruction(&I::Drop);
    }
    f.instruction(&I::Call(f_read));
    f.instruction(&I::End);
    Ok(f)
}

/// A function of accessor type `.0` that the probe passes where a parameter needs a non-null
/// reference to that type: it only returns default results. `.1`/`.2` locate its signature
/// (instance, type index in that module).
pub(crate) type Dummy = (u32, u32, u32);

/// `identify(r: funcref) -> i64`: null, or the probed identity, or why it failed. Returns the
/// dummy functions it refers to, which the accessor defines from index `first_dummy` on.
pub(crate) fn identify_body(
    model: &Scope,
    candidates: &[(u32, u32, u32)],
    type_offset: &[u32],
    f_read: u32,
    f_any_func: u32,
    first_dummy: u32,
) -> Result<(Function, Vec<Dummy>)> {
    use Instruction as I;
    let mut f = null_returns_null();
    let mut dummies: Vec<Dummy> = Vec::new();
    for &(ty, dfs, func) in candidates {
        let info = model.module_of(dfs);
        let Some(sig) = info.signature(func) else {
            continue;
        };
        let offset = type_offset[dfs as usize];
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::RefTestNonNull(wasm_encoder::HeapType::Concrete(ty)));
        f.instruction(&I::If(BlockType::Empty));
        for param in &sig.params {
            let value = Shift(offset).val_type(*param)?;
            if let Some(default) = default_value(value) {
                f.instruction(&default);
                continue;
            }
            let ValType::Ref(r) = value else {
                unreachable_default(model, dfs, func)?
            };
            if build_ref(&mut f, info, offset, r) {
                continue;
            }
            use wasm_encoder::{AbstractHeapType as A, HeapType as H};
            match r.heap_type {
                H::Abstract { ty: A::Func, .. } => {
                    f.instruction(&I::RefFunc(f_any_func));
                }
                H::Concrete(t) | H::Exact(t) if is_func_type(info, t - offset) => {
                    let at = match dummies.iter().position(|d| d.0 == t) {
                        Some(at) => at,
                        None => {
                            dummies.push((t, dfs, t - offset));
                            dummies.len() - 1
                        }
                    };
                    f.instruction(&I::RefFunc(first_dummy + at as u32));
                }
                _ => unreachable_default(model, dfs, func)?,
            }
        }
        f.instruction(&I::LocalGet(0));
        f.instruction(&I::RefCastNonNull(wasm_encoder::HeapType::Concrete(ty)));
        f.instruction(&I::CallRef(ty));
        for _ in &sig.results {
            f.instruction(&I::Drop);
        }
        f.instruction(&I::Call(f_read));
        f.instruction(&I::Return);
        f.instruction(&I::End);
    }
    f.instruction(&I::I64Const(SLOT_UNKNOWN_TYPE));
    f.instruction(&I::End);
    Ok((f, dummies))
}

/// The start of an `identify` body: a null reference is [`SLOT_NULL`].
fn null_returns_null() -> Function {
    use Instruction as I;
    let mut f = Function::new([]);
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::RefIsNull);
    f.instruction(&I::If(BlockType::Empty));
    f.instruction(&I::I64Const(SLOT_NULL));
    f.instruction(&I::Return);
    f.instruction(&I::End);
    f
}

/// Pushes a value of the non-nullable reference type `r` (in the accessor's type space, where
/// `info`'s types start at `offset`) that needs no function: an i31 for `i31`, `eq` and `any`,
/// one converted for `extern`, an empty array, or a struct whose fields are defaults or values
/// built the same way; for the abstract `struct` and `array`, one of the module's own struct or
/// array types. False, pushing nothing, when `r` is none of these.
pub(crate) fn build_ref(
    f: &mut Function,
    info: &ModuleInfo,
    offset: u32,
    r: wasm_encoder::RefType,
) -> bool {
    let mut code = Vec::new();
    let built = ref_value(info, offset, r, 0, &mut { PROBE_MAX_VALUES }, &mut code);
    if built {
        for instruction in &code {
            f.instruction(instruction);
        }
    }
    built
}

/// [`build_ref`]'s value, into `code`, `depth` structs down, trying at most `budget` values.
fn ref_value(
    info: &ModuleInfo,
    offset: u32,
    r: wasm_encoder::RefType,
    depth: u32,
    budget: &mut u32,
    code: &mut Vec<Instruction<'static>>,
) -> bool {
    use wasm_encoder::{AbstractHeapType as A, HeapType as H};
    use Instruction as I;
    match budget.checked_sub(1) {
        Some(left) => *budget = left,
        None => return false,
    }
    match r.heap_type {
        H::Abstract {
            ty: A::I31 | A::Eq | A::Any,
            shared: false,
        } => code.extend([I::I32Const(0), I::RefI31]),
        H::Abstract {
            ty: A::Extern,
            shared: false,
        } => code.extend([I::I32Const(0), I::RefI31, I::ExternConvertAny]),
        // Any of the module's own struct or array types will do: the first one with a value.
        H::Abstract {
            ty: A::Struct,
            shared: false,
        } => {
            let mut structs = (info.default_structs.iter()).chain(info.struct_fields.keys());
            return structs.any(|&own| {
                let r = wasm_encoder::RefType {
                    nullable: false,
                    heap_type: H::Concrete(own + offset),
                };
                let mut built = Vec::new();
                let ok = depth < PROBE_MAX_STRUCT_DEPTH
                    && ref_value(info, offset, r, depth + 1, budget, &mut built);
                if ok {
                    code.extend(built);
                }
                ok
            });
        }
        H::Abstract {
            ty: A::Array,
            shared: false,
        } => match info.array_types.first() {
            Some(&own) => code.push(I::ArrayNewFixed {
                array_type_index: own + offset,
                array_size: 0,
            }),
            None => return false,
        },
        H::Concrete(t) | H::Exact(t) => {
            // The type's index in `info`'s module.
            let Some(own) = t.checked_sub(offset) else {
                return false;
            };
            if info.array_types.contains(&own) {
                code.push(I::ArrayNewFixed {
                    array_type_index: t,
                    array_size: 0,
                });
            } else if info.default_structs.contains(&own) {
                code.push(I::StructNewDefault(t));
            } else if let Some(fields) = info.struct_fields.get(&own) {
                if depth == PROBE_MAX_STRUCT_DEPTH {
                    return false;
                }
                for field in fields {
                    let ty = match field {
                        wasmparser::StorageType::I8 | wasmparser::StorageType::I16 => {
                            code.push(I::I32Const(0));
                            continue;
                        }
                        wasmparser::StorageType::Val(ty) => match Shift(offset).val_type(*ty) {
                            Ok(ty) => ty,
                            Err(_) => return false,
                        },
                    };
                    match (default_value(ty), ty) {
                        (Some(default), _) => code.push(default),
                        (None, ValType::Ref(r))
                            if ref_value(info, offset, r, depth + 1, budget, code) => {}
                        _ => return false,
                    }
                }
                code.push(I::StructNew(t));
            } else {
                return false;
            }
        }
        _ => return false,
    }
    true
}

fn is_func_type(info: &ModuleInfo, module_type: u32) -> bool {
    matches!(info.signatures.get(module_type as usize), Some(Some(_)))
}

fn unreachable_default<T>(model: &Scope, dfs: u32, func: u32) -> Result<T> {
    bail!(
        "{}: function {func} takes a non-nullable reference parameter of a type compsnap cannot \
         build a value of (only i31, eq, any, extern, func and function types, arrays, and \
         structs whose fields have defaults or are non-function references of these kinds, and \
         abstract structs and arrays where the module has such a type), so a table slot holding \
         it cannot be probed",
        model.instances[dfs as usize].describe(model)
    )
}

/// A dummy's body: default results.
pub(crate) fn dummy_body(model: &Scope, dummy: &Dummy, type_offset: &[u32]) -> Result<Function> {
    let (_, dfs, module_type) = *dummy;
    let info = model.module_of(dfs);
    let Some(Some(sig)) = info.signatures.get(module_type as usize) else {
        bail!("type {module_type} is not a function type");
    };
    let mut f = Function::new([]);
    let offset = type_offset[dfs as usize];
    for result in &sig.results {
        let value = Shift(offset).val_type(*result)?;
        if let Some(default) = default_value(value) {
            f.instruction(&default);
            continue;
        }
        if !matches!(value, ValType::Ref(r) if build_ref(&mut f, info, offset, r)) {
            bail!(
                "{}: type {module_type} returns a non-nullable reference of a type compsnap \
                 cannot build a value of, so it cannot build a function of it for a probe \
                 argument",
                model.instances[dfs as usize].describe(model)
            );
        }
    }
    f.instruction(&Instruction::End);
    Ok(f)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// How the accessor of a component with these core modules, each instantiated once,
    /// calls what it probes.
    fn call_for(modules: &[&str]) -> ProbeCall {
        let mut wat = String::from("(component\n");
        for (i, module) in modules.iter().enumerate() {
            wat.push_str(&format!("(core module $m{i} {module})\n"));
            wat.push_str(&format!("(core instance (instantiate $m{i}))\n"));
        }
        wat.push(')');
        let bytes = wat::parse_str(&wat).expect("test WAT parses");
        let model = crate::model::parse(Box::leak(bytes.into_boxed_slice())).unwrap();
        let scope = &model.scopes[0];
        let candidates = candidate_types(scope, &vec![0; scope.instances.len()]).unwrap();
        probe_call(scope, &candidates)
    }

    #[test]
    fn the_probe_calls_indirectly_only_when_one_plain_type_can_be_in_a_slot() {
        let five = r#"(type $r (func (result i32))) (func $five (type $r) (i32.const 5))"#;
        // Two modules whose referenced functions have the same plain type, each in its own
        // type section; exported functions of other types reach no table.
        let one = call_for(&[
            &format!(r#"{five} (elem declare func $five) (func (export "x") (param i64))"#),
            r#"(table 1 funcref) (elem (i32.const 0) func $f)
                (func $f (result i32) (i32.const 1)) (func (export "y") (param f32))"#,
        ]);
        assert!(matches!(one, ProbeCall::Indirect(_)), "{one:?}");
        // A referenced function of a second type.
        let two = call_for(&[&format!(
            r#"{five} (func $neg (param i32) (result i32) (local.get 0))
                (elem declare func $five $neg)"#
        )]);
        assert_eq!(two, ProbeCall::Typed);
        // The same shape, but in a rec group of two, or open to subtypes: identity is more
        // than the shape.
        for types in [
            "(rec (type $r (func (result i32))) (type (func)))",
            "(type $r (sub (func (result i32))))",
        ] {
            let call = call_for(&[&format!(
                r#"{types} (func $five (type $r) (i32.const 5)) (elem declare func $five)"#
            )]);
            assert_eq!(call, ProbeCall::Typed, "{types}");
        }
        // A parameter without a default value.
        let non_null = call_for(&[r#"(func $f (param (ref func))) (elem declare func $f)"#]);
        assert_eq!(non_null, ProbeCall::Typed);
        // Nothing referenced: only null can be in a slot.
        let nothing = call_for(&[r#"(table 2 funcref) (func (export "z") (result i32)
            (i32.const 0))"#]);
        assert_eq!(nothing, ProbeCall::Nothing);
    }
}
