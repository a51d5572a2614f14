//! The `--init-func` argument: which export to call and with what arguments.
//!
//! Accepted forms: `name`, `my:pkg/iface#name`, `my:pkg/iface.name` (wasmtime-wizer's
//! spelling), each optionally followed by WAVE arguments: `setup(7, "x")`. The name is resolved
//! against the component's root exports before anything runs, so a typo costs no compile.
//!
//! A name the component does not export may name a core function instead: an export of one
//! core instance the root instantiates, of type `[] -> []`, such as ComponentizeJS's
//! `componentize.wizer`. Pipelines built around core Wizer keep their init there, unlifted;
//! the instrumentation lifts it under [`crate::protocol::CORE_INIT_EXPORT`] so the host can call it.

use super::{InputKind, Model, RootExport};
use anyhow::{bail, Result};
use wasmparser::ComponentExternalKind;

/// The resolved init function: where it is and how to call it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InitFunc {
    /// The argument as the user wrote it, for messages.
    pub spec: String,
    /// Exported instance holding the function, if interface-qualified.
    pub interface: Option<String>,
    /// The function's name (in the root, or in `interface`).
    pub func: String,
    /// WAVE source of the arguments, including the parentheses.
    pub args: Option<String>,
    /// Set when the name is a core export the component does not lift.
    pub core: Option<CoreInit>,
}

impl InitFunc {
    /// Splits `spec` into name and arguments and resolves the name against `model`'s exports.
    pub fn resolve(spec: &str, model: &Model) -> Result<Self> {
        let spec = spec.trim();
        let (name, args) = match spec.find('(') {
            Some(p) => {
                if !spec.ends_with(')') {
                    bail!("init function `{spec}`: arguments must end with `)`");
                }
                (spec[..p].trim(), Some(spec[p..].to_string()))
            }
            None => (spec, None),
        };
        if name.is_empty() {
            bail!("init function `{spec}`: empty name");
        }
        let find = |n: &str, kind| {
            model
                .root()
                .exports
                .iter()
                .find(|e: &&RootExport| e.name == n && e.kind == kind)
        };
        let mut core = None;
        let (interface, func) = if find(name, ComponentExternalKind::Func).is_some() {
            (None, name.to_string())
        } else if let Some((iface, func)) =
            split_qualified(name, |n| find(n, ComponentExternalKind::Instance).is_some())
        {
            (Some(iface), func)
        } else if let Some(other) = model.root().exports.iter().find(|e| e.name == name) {
            bail!(
                "init function `{name}`: the component exports `{name}` as {}, not as a function",
                kind_name(other.kind)
            );
        } else if let Some(found) = core_export(model, name, args.is_some())? {
            core = Some(found);
            (None, name.to_string())
        } else if model.kind == InputKind::Module {
            let info = &model.root().modules[0];
            let funcs: Vec<&str> = info
                .exports
                .iter()
                .filter(|(_, kind, _)| *kind == wasmparser::ExternalKind::Func)
                .map(|(n, _, _)| n.as_str())
                .collect();
            bail!(
                "init function `{name}` is not exported by the module (its function exports: {})",
                if funcs.is_empty() {
                    "none".to_string()
                } else {
                    funcs.join(", ")
                }
            );
        } else {
            let funcs: Vec<&str> = model
                .root()
                .exports
                .iter()
                .filter(|e| {
                    matches!(
                        e.kind,
                        ComponentExternalKind::Func | ComponentExternalKind::Instance
                    )
                })
                .map(|e| e.name.as_str())
                .collect();
            bail!(
                "init function `{name}` is not exported by the component, nor by any core \
                 instance of its root (its function and instance exports: {})",
                if funcs.is_empty() {
                    "none".to_string()
                } else {
                    funcs.join(", ")
                }
            );
        };
        Ok(InitFunc {
            spec: spec.to_string(),
            interface,
            func,
            args,
            core,
        })
    }
}

/// A core function to call as the init: `export` of the root's core instance `core_instance`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CoreInit {
    /// The instance's index in the root's core instance space.
    pub core_instance: u32,
    /// The export's name.
    pub export: String,
}

/// The root core instance exporting function `name`, when exactly one does.
fn core_export(model: &Model, name: &str, has_args: bool) -> Result<Option<CoreInit>> {
    let root = model.root();
    let mut found = Vec::new();
    for instance in &root.instances {
        let info = &root.modules[instance.module];
        for (export, kind, index) in &info.exports {
            if export == name && *kind == wasmparser::ExternalKind::Func {
                found.push((instance, info, *index));
            }
        }
    }
    let (instance, info, index) = match found.as_slice() {
        [] => return Ok(None),
        [one] => *one,
        many => {
            let places: Vec<String> = many.iter().map(|(i, _, _)| i.describe(root)).collect();
            bail!(
                "init function `{name}`: several core instances export it ({}); export the one \
                 to call from the component",
                places.join("; ")
            );
        }
    };
    let where_ = instance.describe(root);
    if has_args {
        bail!(
            "init function `{name}` is a core function ({where_}): it takes no WAVE arguments, \
             only component functions do"
        );
    }
    let signature = info
        .func_types
        .get(index as usize)
        .and_then(|t| info.signatures.get(*t as usize))
        .and_then(|s| s.as_ref());
    match signature {
        Some(sig) if sig.params.is_empty() && sig.results.is_empty() => {}
        Some(sig) => bail!(
            "init function `{name}` is core function {index} of {where_} with type {:?} -> {:?}; \
             a core init must take no parameters and return nothing",
            sig.params,
            sig.results
        ),
        None => bail!("init function `{name}`: core function {index} of {where_} has no signature"),
    }
    Ok(Some(CoreInit {
        core_instance: instance.core_instance_index,
        export: name.to_string(),
    }))
}

fn kind_name(kind: ComponentExternalKind) -> &'static str {
    match kind {
        ComponentExternalKind::Module => "a core module",
        ComponentExternalKind::Func => "a function",
        ComponentExternalKind::Value => "a value",
        ComponentExternalKind::Type => "a type",
        ComponentExternalKind::Instance => "an instance (name a function in it as `iface#func`)",
        ComponentExternalKind::Component => "a component",
    }
}

/// `iface#func` or `iface.func`, where `is_instance(iface)` holds.
/// `iface#func` or `iface.func`, where `is_instance(iface)` holds; or wasmtime-wizer's
/// `ns:pkg/iface.func@version`, the version after the function, for `ns:pkg/iface@version`.
fn split_qualified(name: &str, is_instance: impl Fn(&str) -> bool) -> Option<(String, String)> {
    for sep in ['#', '.'] {
        if let Some(p) = name.rfind(sep) {
            let (iface, func) = (&name[..p], &name[p + 1..]);
            if !func.is_empty() && !func.contains('/') && is_instance(iface) {
                return Some((iface.to_string(), func.to_string()));
            }
        }
    }
    let (path, version) = name.rsplit_once('@')?;
    let (iface, func) = path.rsplit_once('.')?;
    let iface = format!("{iface}@{version}");
    (!func.is_empty() && !func.contains('/') && is_instance(&iface))
        .then(|| (iface, func.to_string()))
}

#[cfg(test)]
mod tests {
    use super::split_qualified;

    #[test]
    fn qualified_names_split_at_the_last_separator() {
        let is = |n: &str| n == "my:pkg/iface@0.2.0";
        assert_eq!(
            split_qualified("my:pkg/iface@0.2.0#init", is),
            Some(("my:pkg/iface@0.2.0".into(), "init".into()))
        );
        assert_eq!(
            split_qualified("my:pkg/iface@0.2.0.init", is),
            Some(("my:pkg/iface@0.2.0".into(), "init".into()))
        );
        assert_eq!(split_qualified("my:pkg/other#init", is), None);
        // wasmtime-wizer's spelling: the version after the function.
        assert_eq!(
            split_qualified("my:pkg/iface.init@0.2.0", is),
            Some(("my:pkg/iface@0.2.0".into(), "init".into()))
        );
        assert_eq!(split_qualified("my:pkg/iface.init@0.3.0", is), None);
    }
}
