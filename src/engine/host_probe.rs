//! Identifying the functions in a core module's table slots and reference globals from the
//! host. A core module input's tables and globals are the host's to see: it calls each
//! slot's function with the probe flag set, and the function's prologue (see
//! `instrument::probe`) reports its index instead of running. The slots are encoded as the
//! accessor of a component encodes them, so the collector decodes both alike; and the core
//! accessor needs no `ref.test` or `call_ref`, so the instrumented module and its accessor
//! compile with Winch, which supports neither.

use crate::protocol::{
    global_export, table_export, Plan, Record, PROBE_MAX_STRUCT_DEPTH, PROBE_MAX_VALUES,
    PROBE_OUT_EXPORT, PROBING_EXPORT, SLOT_NON_FUNC, SLOT_NULL, SLOT_UNIDENTIFIED,
};
use anyhow::{anyhow, bail, Context, Result};
use wasmtime::{
    AnyRef, ArrayRef, ArrayRefPre, ArrayType, AsContextMut, ExternRef, FieldType, Func, Global,
    HeapType, Instance, Mutability, Ref, StorageType, StructRef, StructRefPre, StructType, Val,
    ValType, I31,
};

/// Per table or reference-global record of `plan`, its tag and its slot encodings (one
/// little-endian u64 each), probing the functions of the one instance `instance`.
pub(super) fn probe(
    mut store: impl AsContextMut,
    instance: &Instance,
    plan: &Plan,
) -> Result<Vec<(u32, Vec<u8>)>> {
    let mut store = store.as_context_mut();
    let mut out = Vec::new();
    if !plan.probes() {
        return Ok(out);
    }
    let mut flag = |name: &str| {
        instance
            .get_global(&mut store, name)
            .ok_or_else(|| anyhow!("instrumentation bug: no export `{name}`"))
    };
    let (probing, probe_out) = (flag(PROBING_EXPORT)?, flag(PROBE_OUT_EXPORT)?);
    probing.set(&mut store, Val::I32(1))?;
    for (tag, record) in plan.records.iter().enumerate() {
        let values = match record {
            Record::Table { table: index, .. } => {
                let name = table_export(*index);
                let table = instance
                    .get_table(&mut store, &name)
                    .ok_or_else(|| anyhow!("instrumentation bug: no export `{name}`"))?;
                let size = table.size(&store);
                let mut values = Vec::with_capacity(size as usize * 8);
                for slot in 0..size {
                    let value = table.get(&mut store, slot).context("table slot")?;
                    let code = encode(&mut store, &probe_out, value)
                        .with_context(|| format!("table {index} slot {slot}"))?;
                    values.extend(code.to_le_bytes());
                }
                values
            }
            Record::RefGlobals { globals, .. } => {
                let mut values = Vec::with_capacity(globals.len() * 8);
                for index in globals {
                    let name = global_export(*index);
                    let global = instance
                        .get_global(&mut store, &name)
                        .ok_or_else(|| anyhow!("instrumentation bug: no export `{name}`"))?;
                    let value = (global.get(&mut store).ref_())
                        .with_context(|| format!("global {index} is not a reference"))?;
                    let code = encode(&mut store, &probe_out, value)
                        .with_context(|| format!("global {index}"))?;
                    values.extend(code.to_le_bytes());
                }
                values
            }
            // Known slots need no probe (only a component's plan has them).
            Record::Memory { .. } | Record::Globals { .. } | Record::KnownTable { .. } => continue,
        };
        out.push((tag as u32, values));
    }
    probing.set(&mut store, Val::I32(0))?;
    Ok(out)
}

/// A slot's encoding: null, a non-function reference, or the function's index as its
/// prologue reports in `probe_out` (the one instance has local id 0).
fn encode(mut store: impl AsContextMut, probe_out: &Global, value: Ref) -> Result<i64> {
    let func = match value {
        Ref::Func(Some(func)) => func,
        Ref::Func(None) | Ref::Extern(None) | Ref::Any(None) | Ref::Exn(None) => {
            return Ok(SLOT_NULL)
        }
        _ => return Ok(SLOT_NON_FUNC),
    };
    let mut store = store.as_context_mut();
    let ty = func.ty(&store);
    let params = (ty.params())
        .enumerate()
        .map(|(i, p)| argument(&mut store, &func, &p).with_context(|| format!("parameter {i}")))
        .collect::<Result<Vec<_>>>()?;
    let mut results = vec![Val::I32(0); ty.results().len()];
    probe_out.set(&mut store, Val::I32(-1))?;
    func.call(&mut store, &params, &mut results)
        .map_err(|e| anyhow!("probing its function failed: {e:#}"))?;
    Ok(match probe_out.get(&mut store) {
        Val::I32(-1) => SLOT_UNIDENTIFIED,
        Val::I32(index) => index as u32 as i64,
        _ => bail!("instrumentation bug: `{PROBE_OUT_EXPORT}` is not an i32"),
    })
}

/// A value for a parameter of type `ty` of `func`, which its prologue ignores: the default
/// where the type has one, else a value the type can hold.
fn argument(store: impl AsContextMut, func: &Func, ty: &ValType) -> Result<Val> {
    value(store, func, ty, 0, &mut { PROBE_MAX_VALUES })
}

/// [`argument`]'s value, `depth` structs down, trying at most `budget` values: a struct's
/// field is its default or, for a non-nullable reference, built the same way.
fn value(
    mut store: impl AsContextMut,
    func: &Func,
    ty: &ValType,
    depth: u32,
    budget: &mut u32,
) -> Result<Val> {
    *budget = (budget.checked_sub(1)).context("too many nested values to build")?;
    if let Some(value) = Val::default_for_ty(ty) {
        return Ok(value);
    }
    let ValType::Ref(r) = ty else {
        bail!("bug: a value type without a default that is not a reference");
    };
    Ok(match r.heap_type() {
        HeapType::Func => Val::FuncRef(Some(*func)),
        HeapType::ConcreteFunc(ft) => {
            let results: Vec<Val> = (ft.results())
                .map(|r| Val::default_for_ty(&r).unwrap_or(Val::I32(0)))
                .collect();
            let dummy = Func::new(&mut store, ft.clone(), move |_, _, out| {
                out.clone_from_slice(&results);
                Ok(())
            });
            Val::FuncRef(Some(dummy))
        }
        HeapType::Any | HeapType::Eq | HeapType::I31 => {
            Val::AnyRef(Some(AnyRef::from_i31(&mut store, I31::wrapping_u32(0))))
        }
        HeapType::Extern => {
            let any = AnyRef::from_i31(&mut store, I31::wrapping_u32(0));
            Val::ExternRef(Some(ExternRef::convert_any(&mut store, any)?))
        }
        HeapType::ConcreteArray(ty) => {
            let pre = ArrayRefPre::new(&mut store, ty.clone());
            Val::AnyRef(Some(
                ArrayRef::new_fixed(&mut store, &pre, &[])?.to_anyref(),
            ))
        }
        // The abstract types take a value of any struct or array type: one of the host's own.
        HeapType::Struct => {
            let ty = StructType::new(store.as_context().engine(), [])?;
            let pre = StructRefPre::new(&mut store, ty);
            Val::AnyRef(Some(StructRef::new(&mut store, &pre, &[])?.to_anyref()))
        }
        HeapType::Array => {
            let field = FieldType::new(Mutability::Const, StorageType::I8);
            let ty = ArrayType::new(store.as_context().engine(), field);
            let pre = ArrayRefPre::new(&mut store, ty);
            Val::AnyRef(Some(
                ArrayRef::new_fixed(&mut store, &pre, &[])?.to_anyref(),
            ))
        }
        HeapType::ConcreteStruct(ty) => {
            if depth == PROBE_MAX_STRUCT_DEPTH {
                return Err(unbuildable(r.heap_type()));
            }
            let mut store = store.as_context_mut();
            let fields = (ty.fields())
                .map(|field| match field.element_type().unpack() {
                    ty @ ValType::Ref(_) => value(&mut store, func, ty, depth + 1, budget),
                    ty => Val::default_for_ty(ty).ok_or_else(|| unbuildable(r.heap_type())),
                })
                .collect::<Result<Vec<_>>>()
                .map_err(|_| unbuildable(r.heap_type()))?;
            let pre = StructRefPre::new(&mut store, ty.clone());
            Val::AnyRef(Some(StructRef::new(&mut store, &pre, &fields)?.to_anyref()))
        }
        other => return Err(unbuildable(other)),
    })
}

fn unbuildable(ty: &HeapType) -> anyhow::Error {
    // Wasmtime names a concrete type by its engine-wide index, which means nothing to a user.
    let ty = match ty {
        HeapType::ConcreteStruct(_) => "reference to a struct type".to_string(),
        HeapType::ConcreteArray(_) => "reference to an array type".to_string(),
        HeapType::ConcreteFunc(_) => "reference to a function type".to_string(),
        other => format!("`{other}` reference"),
    };
    anyhow!(
        "its function takes a non-nullable {ty} compsnap cannot build a value of (only i31, \
         eq, any, extern, func and function types, arrays, structs whose fields have defaults \
         or are references of these kinds, and abstract structs and arrays), so it cannot be \
         probed"
    )
}
