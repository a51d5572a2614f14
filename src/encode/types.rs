//! Type-index plumbing shared by every module compsnap builds: copies of the input's type
//! sections (type identity is by rec group, so whole sections are copied).

use crate::model::Scope;
use anyhow::Result;
use wasm_encoder::reencode::Reencode;
use wasm_encoder::TypeSection;

/// Copies the type section of every instance's module into `types`, after the `count` types
/// already there, and returns each instance's offset. Copying whole sections keeps rec groups
/// and subtyping intact, so a copied type is the same type to the engine.
pub fn copy_types(model: &Scope, types: &mut TypeSection, count: &mut u32) -> Result<Vec<u32>> {
    let mut offsets = vec![0u32; model.instances.len()];
    for instance in &model.instances {
        let info = &model.modules[instance.module];
        offsets[instance.dfs as usize] = *count;
        if let Some(range) = &info.type_section {
            let reader = wasmparser::TypeSectionReader::new(wasmparser::BinaryReader::new(
                &info.bytes[range.clone()],
                range.start as u64,
            ))?;
            Shift(*count).parse_type_section(types, reader)?;
        }
        *count += info.signatures.len() as u32;
    }
    Ok(offsets)
}

/// Shifts type indices by a fixed offset: a module's types copied into another module.
pub struct Shift(pub u32);

impl Reencode for Shift {
    type Error = std::convert::Infallible;

    fn type_index(&mut self, ty: u32) -> Result<u32, wasm_encoder::reencode::Error<Self::Error>> {
        Ok(ty + self.0)
    }
}
