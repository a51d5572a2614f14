//! Copying a component definition to another place: which of its `alias outer`s leave it,
//! and re-pointing them from a place nested deeper.

use super::super::Scope;
use anyhow::Result;
use wasmparser::{Parser, Payload};

/// How many levels `from` sits below `ancestor` (0 when they are the same scope); `None`
/// when `ancestor` does not enclose it.
pub(super) fn levels_between(
    scopes: &[Scope],
    from: usize,
    ancestor: Option<usize>,
) -> Option<u32> {
    let ancestor = ancestor?;
    let mut at = from;
    let mut levels = 0;
    while at != ancestor {
        at = scopes[at].parent?;
        levels += 1;
    }
    Some(levels)
}

/// `component` re-encoded for a place `delta` levels deeper than its definition: every
/// `alias outer` that leaves it counts `delta` more.
pub(super) fn deeper(component: &[u8], delta: u32) -> Result<Vec<u8>> {
    use wasm_encoder::reencode::ReencodeComponent;
    let mut out = wasm_encoder::Component::new();
    let mut shift = Deeper { depth: 0, delta };
    shift
        .parse_component(&mut out, Parser::new(0), component)
        .map_err(|e| anyhow::anyhow!("re-encoding a copied component: {e:?}"))?;
    Ok(out.finish())
}

/// See [`deeper`]. Nested core modules are copied byte for byte.
struct Deeper {
    depth: u32,
    delta: u32,
}

impl wasm_encoder::reencode::Reencode for Deeper {
    type Error = std::convert::Infallible;
}

impl wasm_encoder::reencode::ReencodeComponent for Deeper {
    fn push_depth(&mut self) {
        self.depth += 1;
    }

    fn pop_depth(&mut self) {
        self.depth -= 1;
    }

    fn component_alias<'a>(
        &mut self,
        alias: wasmparser::ComponentAlias<'a>,
    ) -> Result<wasm_encoder::Alias<'a>, wasm_encoder::reencode::Error<Self::Error>> {
        let mut alias = wasm_encoder::reencode::component_utils::component_alias(self, alias)?;
        if let wasm_encoder::Alias::Outer { count, .. } = &mut alias {
            if *count > self.depth {
                *count += self.delta;
            }
        }
        Ok(alias)
    }

    fn parse_component_module_type_declaration(
        &mut self,
        module: &mut wasm_encoder::ModuleType,
        decl: wasmparser::ModuleTypeDeclaration<'_>,
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        match decl {
            wasmparser::ModuleTypeDeclaration::OuterAlias {
                kind: wasmparser::OuterAliasKind::Type,
                count,
                index,
            } if count > self.depth => {
                module.alias_outer_core_type(count + self.delta, index);
                Ok(())
            }
            decl => {
                wasm_encoder::reencode::component_utils::parse_component_module_type_declaration(
                    self, module, decl,
                )
            }
        }
    }

    fn parse_component_submodule(
        &mut self,
        component: &mut wasm_encoder::Component,
        _parser: Parser,
        module: &[u8],
    ) -> Result<(), wasm_encoder::reencode::Error<Self::Error>> {
        // The core module section's id.
        component.section(&wasm_encoder::RawSection {
            id: 1,
            data: module,
        });
        Ok(())
    }
}

/// Where a component's own bytes alias items of the components around it: the nesting
/// depth of the first such `alias outer`, described.
pub(super) fn escaping_alias(component: &[u8]) -> Result<Option<String>> {
    let mut stack: Vec<bool> = Vec::new(); // true: a component level
    for payload in Parser::new(0).parse_all(component) {
        let payload = payload?;
        let depth = stack.iter().filter(|c| **c).count().saturating_sub(1) as u32;
        match payload {
            Payload::Version { encoding, .. } => {
                stack.push(encoding == wasmparser::Encoding::Component)
            }
            Payload::End(_) => {
                stack.pop();
            }
            Payload::ComponentAliasSection(reader) => {
                for alias in reader {
                    if let wasmparser::ComponentAlias::Outer { count, .. } = alias? {
                        if count > depth {
                            return Ok(Some(format!("alias outer {count} at depth {depth}")));
                        }
                    }
                }
            }
            Payload::ComponentTypeSection(reader) => {
                for ty in reader {
                    if let Some(count) = escaping_in_type(&ty?, depth + 1) {
                        return Ok(Some(format!("a type's alias outer {count}")));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(None)
}

/// The count of an `alias outer` in the declarations of `ty` that reaches beyond `levels`
/// enclosing levels.
fn escaping_in_type(ty: &wasmparser::ComponentType<'_>, levels: u32) -> Option<u32> {
    use wasmparser::InstanceTypeDeclaration as I;
    use wasmparser::{ComponentAlias, ComponentType, ComponentTypeDeclaration as C};
    let outer = |alias: &ComponentAlias<'_>| match alias {
        ComponentAlias::Outer { count, .. } if *count >= levels => Some(*count),
        _ => None,
    };
    match ty {
        ComponentType::Component(decls) => decls.iter().find_map(|d| match d {
            C::Alias(a) => outer(a),
            C::Type(t) => escaping_in_type(t, levels + 1),
            _ => None,
        }),
        ComponentType::Instance(decls) => decls.iter().find_map(|d| match d {
            I::Alias(a) => outer(a),
            I::Type(t) => escaping_in_type(t, levels + 1),
            _ => None,
        }),
        _ => None,
    }
}
